// Kernel: the one door through which the transports, the servers, the loop's socket operations and the selectors make
// the system calls a test may want to fail: send (single and gathered), receive (and receive-from), accept, connect
// (its start and its outcome, SO_ERROR) and the selector's wait.
//
// Maintainer's overview
// - Production pays nothing. FaultsEnabled is a static readonly bool, read once from the AppContext switch
//   "AsyncNet.Testing.SyscallFaults", which only test projects set (a RuntimeHostConfigurationOption in their project
//   file, so it lands in their runtimeconfig.json). Tier-1 code reads a static readonly field of an initialised class
//   as a constant, so `FaultsEnabled && ...` folds to false and each method here, inlined, is the plain call.
// - With the switch on, each call reads one volatile reference, s_faults: null while nothing is injected. Otherwise
//   IKernelFaults decides the call's fate first (Kernel.Faults.cs applies it): an error fails the call without making
//   it; a byte limit makes it with a shorter buffer, as a partial send or receive would.
// - Errors come back the way the real call reports them (an out SocketError, a SocketException, errno), so an injected
//   fault takes the same path through the caller as a real one.
// - The wakers' own sockets and pipes do not come through here: a fault there would break the loop's wake-up, which
//   is not a network condition any caller handles.

using System.Collections;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace AsyncNet.Interop;

/// <summary>The system calls of the network path, with a seam where tests inject faults (none in production).</summary>
internal static unsafe partial class Kernel
{
    /// <summary>The AppContext switch that lets a process inject faults: "AsyncNet.Testing.SyscallFaults".</summary>
    internal const string FaultsSwitch = "AsyncNet.Testing.SyscallFaults";

    /// <summary>Whether this process may inject faults: fixed when the class initialises, so the JIT folds it.</summary>
    internal static readonly bool FaultsEnabled = AppContext.TryGetSwitch(FaultsSwitch, out bool enabled) && enabled;

    // Who decides the faults; null while nothing is injected. Volatile: set on a test's thread, read on loop threads.
    private static volatile IKernelFaults? s_faults;

    /// <summary>The fault schedule in force, or null for none.</summary>
    /// <exception cref="InvalidOperationException">Set while the switch is off.</exception>
    internal static IKernelFaults? Faults
    {
        get => s_faults;
        set
        {
            if (!FaultsEnabled)
            {
                throw new InvalidOperationException(
                    $"Syscall faults are off in this process: set the AppContext switch \"{FaultsSwitch}\" to true in the runtimeconfig of the test project " +
                    $"(<RuntimeHostConfigurationOption Include=\"{FaultsSwitch}\" Value=\"true\" /> in its project file).");
            }

            s_faults = value;
        }
    }

    /// <summary>send: returns the bytes sent, 0 with <paramref name="error"/> set on failure (WouldBlock included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Send(Socket socket, ReadOnlySpan<byte> data, out SocketError error) =>
        FaultsEnabled && s_faults is { } faults
            ? SendFaulted(faults, socket, data, out error)
            : socket.Send(data, SocketFlags.None, out error);

    /// <summary>sendmsg of several buffers: returns the bytes sent, 0 with <paramref name="error"/> set on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Send(Socket socket, IList<ArraySegment<byte>> buffers, out SocketError error) =>
        FaultsEnabled && s_faults is { } faults
            ? SendFaulted(faults, socket, buffers, out error)
            : socket.Send(buffers, SocketFlags.None, out error);

    /// <summary>sendto <paramref name="address"/>: one datagram.</summary>
    /// <exception cref="SocketException">The send failed (WouldBlock included).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SendTo(Socket socket, ReadOnlySpan<byte> data, SocketAddress address)
    {
        if (FaultsEnabled && s_faults is { } faults)
        {
            ThrowIfFails(faults.Next(KernelCall.SendTo, socket, data.Length));
        }

        socket.SendTo(data, SocketFlags.None, address);
    }

    /// <summary>recv: returns the bytes received; 0 both at end of stream and on failure, which <paramref name="error"/> tells apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Receive(Socket socket, Span<byte> buffer, out SocketError error) =>
        FaultsEnabled && s_faults is { } faults
            ? ReceiveFaulted(faults, socket, buffer, out error)
            : socket.Receive(buffer, SocketFlags.None, out error);

    /// <summary>recvfrom: one datagram, its sender in <paramref name="address"/>.</summary>
    /// <exception cref="SocketException">The receive failed (WouldBlock included).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ReceiveFrom(Socket socket, Span<byte> buffer, SocketFlags flags, SocketAddress address)
    {
        if (FaultsEnabled && s_faults is { } faults)
        {
            ThrowIfFails(faults.Next(KernelCall.ReceiveFrom, socket, buffer.Length));
        }

        return socket.ReceiveFrom(buffer, flags, address);
    }

    /// <summary>accept on a non-blocking listener.</summary>
    /// <exception cref="SocketException">Nothing is pending (WouldBlock) or the accept failed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Socket Accept(Socket listener)
    {
        if (FaultsEnabled && s_faults is { } faults)
        {
            // A failed accept leaves the connection in the backlog, where the kernel keeps it after EAGAIN or EMFILE too.
            ThrowIfFails(faults.Next(KernelCall.Accept, listener, 0));
        }

        return listener.Accept();
    }

    /// <summary>Starts a connect on a non-blocking socket.</summary>
    /// <remarks>
    /// An injected transient error (WouldBlock, InProgress, Interrupted) is reported after the real connect started,
    /// as the kernel reports EINPROGRESS or a signal's EINTR while the connect goes on; any other injected error fails
    /// the connect without starting it.
    /// </remarks>
    /// <exception cref="SocketException">The connect is in progress (WouldBlock) or failed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Connect(Socket socket, EndPoint endPoint)
    {
        if (FaultsEnabled && s_faults is { } faults)
        {
            ConnectFaulted(faults, socket, endPoint);
            return;
        }

        socket.Connect(endPoint);
    }

    /// <summary>The outcome of a connect that made the socket writable: SO_ERROR, as a <see cref="SocketError"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static SocketError ConnectResult(Socket socket)
    {
        if (FaultsEnabled && s_faults is { } faults && faults.Next(KernelCall.ConnectResult, socket, 0) is { Fails: true } fault)
        {
            return fault.Error;
        }

        // .NET returns SO_ERROR already translated to a SocketError number.
        return (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
    }

    /// <summary>epoll_wait; on -1 the errno is in <c>Marshal.GetLastPInvokeError()</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int EpollWait(FileDescriptorHandle epoll, byte* events, int maxEvents, int timeout) =>
        FaultsEnabled && s_faults is { } faults && WaitInterrupted(faults) ? -1 : Libc.epoll_wait(epoll, events, maxEvents, timeout);

    /// <summary>poll; on -1 the errno is in <c>Marshal.GetLastPInvokeError()</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Poll(Libc.PollFd* fds, nuint count, int timeout) =>
        FaultsEnabled && s_faults is { } faults && WaitInterrupted(faults) ? -1 : Libc.poll(fds, count, timeout);

    /// <summary><see cref="Socket.Select(IList, IList, IList, int)"/>.</summary>
    /// <exception cref="SocketException">The wait failed (Interrupted by a signal included).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Select(IList? read, IList? write, IList? error, int microseconds)
    {
        if (FaultsEnabled && s_faults is { } faults && WaitInterrupted(faults))
        {
            throw new SocketException((int)SocketError.Interrupted);
        }

        Socket.Select(read, write, error, microseconds);
    }
}
