// The slow paths of Kernel: applying an injected fault to one call. Reached only in processes with the switch on and
// a fault schedule in force; none of this is inlined into the callers.

using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AsyncNet.Interop;

internal static unsafe partial class Kernel
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SendFaulted(IKernelFaults faults, Socket socket, ReadOnlySpan<byte> data, out SocketError error)
    {
        KernelFault fault = faults.Next(KernelCall.Send, socket, data.Length);
        if (fault.Fails)
        {
            error = fault.Error;
            return 0;
        }

        return socket.Send(data[..Allowed(fault, socket, data.Length)], SocketFlags.None, out error);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SendFaulted(IKernelFaults faults, Socket socket, IList<ArraySegment<byte>> buffers, out SocketError error)
    {
        int total = 0;
        foreach (ArraySegment<byte> buffer in buffers)
        {
            total += buffer.Count;
        }

        KernelFault fault = faults.Next(KernelCall.SendGathered, socket, total);
        if (fault.Fails)
        {
            error = fault.Error;
            return 0;
        }

        int allowed = Allowed(fault, socket, total);
        if (allowed == total)
        {
            return socket.Send(buffers, SocketFlags.None, out error);
        }

        // A partial gathered send: the same buffers, cut after `allowed` bytes.
        var cut = new List<ArraySegment<byte>>(buffers.Count);
        foreach (ArraySegment<byte> buffer in buffers)
        {
            if (allowed == 0)
            {
                break;
            }

            int take = Math.Min(allowed, buffer.Count);
            cut.Add(buffer[..take]);
            allowed -= take;
        }

        return socket.Send(cut, SocketFlags.None, out error);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ReceiveFaulted(IKernelFaults faults, Socket socket, Span<byte> buffer, out SocketError error)
    {
        KernelFault fault = faults.Next(KernelCall.Receive, socket, buffer.Length);
        if (fault.Fails)
        {
            error = fault.Error;
            return 0;
        }

        return socket.Receive(buffer[..Allowed(fault, socket, buffer.Length)], SocketFlags.None, out error);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ConnectFaulted(IKernelFaults faults, Socket socket, EndPoint endPoint)
    {
        KernelFault fault = faults.Next(KernelCall.Connect, socket, 0);
        if (fault.Fails && !IsTransient(fault.Error))
        {
            throw new SocketException((int)fault.Error);
        }

        try
        {
            socket.Connect(endPoint);
        }
        catch (SocketException ex) when (fault.Fails && IsTransient(ex.SocketErrorCode))
        {
            // In progress for real: the injected transient error is reported in its place below.
        }

        ThrowIfFails(fault);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowIfFails(KernelFault fault)
    {
        if (fault.Fails)
        {
            throw new SocketException((int)fault.Error);
        }
    }

    /// <summary>Whether the selector's wait is to fail with EINTR; if so, errno reads EINTR as after a real one.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool WaitInterrupted(IKernelFaults faults)
    {
        if (faults.Next(KernelCall.SelectorWait, null, 0).Error != SocketError.Interrupted)
        {
            return false;
        }

        Marshal.SetLastPInvokeError(Libc.EINTR);
        return true;
    }

    /// <summary>How many of <paramref name="length"/> bytes a call may move: cut only on stream sockets (datagrams go whole).</summary>
    private static int Allowed(KernelFault fault, Socket socket, int length) =>
        socket.SocketType == SocketType.Stream ? Math.Min(length, Math.Max(1, fault.MaxBytes)) : length;

    /// <summary>The errors with which the kernel reports a connect that goes on.</summary>
    private static bool IsTransient(SocketError error) =>
        error is SocketError.WouldBlock or SocketError.InProgress or SocketError.Interrupted or SocketError.AlreadyInProgress or SocketError.IOPending;
}
