using System.Net.Sockets;

namespace AsyncNet.Testing.Syscalls;

/// <summary>What an injected fault does to one system call: nothing, fail it with an error, or cut the bytes it moves.</summary>
/// <remarks>
/// <para>
/// Errors are named as .NET names them: EAGAIN is <see cref="SocketError.WouldBlock"/>, EINTR
/// <see cref="SocketError.Interrupted"/>, ECONNRESET <see cref="SocketError.ConnectionReset"/>, EPIPE
/// <see cref="SocketError.Shutdown"/>, ENOBUFS <see cref="SocketError.NoBufferSpaceAvailable"/> and EMFILE
/// <see cref="SocketError.TooManyOpenSockets"/>. A failed call is not made: the kernel's state is untouched (bytes stay
/// queued, a pending connection stays in the backlog), as after a real EAGAIN or EINTR. The start of a connect is the
/// exception: with a transient error (EAGAIN, EINTR) the connect is made and goes on, as a real one does.
/// </para>
/// <para>
/// Which faults apply where (<see cref="AppliesTo"/>): a byte limit to sends and receives on stream sockets (a datagram
/// moves whole, so its calls are never cut); EINTR alone to the selector's wait; any error to every other call. A fault
/// that does not apply is not injected and not counted.
/// </para>
/// <para>The default value is <see cref="None"/>.</para>
/// </remarks>
public readonly record struct SyscallFault
{
    // 0 means no limit, so that default(SyscallFault) is None.
    private readonly int _maxBytes;

    private SyscallFault(SocketError error, int maxBytes)
    {
        Error = error;
        _maxBytes = maxBytes;
    }

    /// <summary>No fault: the call is made as asked.</summary>
    public static SyscallFault None => default;

    /// <summary>EINTR: interrupted by a signal before anything happened.</summary>
    public static SyscallFault Interrupted => Fail(SocketError.Interrupted);

    /// <summary>EAGAIN: the call would block (on a socket that may well be ready: a spurious readiness).</summary>
    public static SyscallFault WouldBlock => Fail(SocketError.WouldBlock);

    /// <summary>ECONNRESET: the peer reset the connection.</summary>
    public static SyscallFault ConnectionReset => Fail(SocketError.ConnectionReset);

    /// <summary>EPIPE: the connection is shut down for writing (.NET's <see cref="SocketError.Shutdown"/>).</summary>
    public static SyscallFault BrokenPipe => Fail(SocketError.Shutdown);

    /// <summary>ENOBUFS: the kernel has no buffer space.</summary>
    public static SyscallFault NoBufferSpace => Fail(SocketError.NoBufferSpaceAvailable);

    /// <summary>EMFILE: the process is out of descriptors (.NET's <see cref="SocketError.TooManyOpenSockets"/>).</summary>
    public static SyscallFault TooManyOpenFiles => Fail(SocketError.TooManyOpenSockets);

    /// <summary>The error the call fails with; <see cref="SocketError.Success"/> when it is made.</summary>
    public SocketError Error { get; }

    /// <summary>The most bytes the call may move; <see cref="int.MaxValue"/> without a limit.</summary>
    public int MaxBytes => _maxBytes == 0 ? int.MaxValue : _maxBytes;

    /// <summary>Whether this is <see cref="None"/>.</summary>
    public bool IsNone => Error == SocketError.Success && _maxBytes == 0;

    /// <summary>
    /// Whether the fault only delays the call (EAGAIN, EINTR, a byte limit, or none): a correct caller retries and
    /// nothing observable changes but timing. Any other error ends the operation.
    /// </summary>
    public bool IsTransient => Error is SocketError.Success or SocketError.WouldBlock or SocketError.Interrupted;

    /// <summary>Fails the call with <paramref name="error"/>.</summary>
    /// <param name="error">The error; not <see cref="SocketError.Success"/>.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="error"/> is <see cref="SocketError.Success"/>.</exception>
    public static SyscallFault Fail(SocketError error)
    {
        if (error == SocketError.Success)
        {
            throw new ArgumentOutOfRangeException(nameof(error), "A failing call needs an error other than Success; use SyscallFault.None for no fault.");
        }

        return new SyscallFault(error, 0);
    }

    /// <summary>Lets a send or receive on a stream socket move at most <paramref name="bytes"/> bytes: a partial transfer.</summary>
    /// <param name="bytes">The limit, at least 1.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is less than 1.</exception>
    public static SyscallFault AtMost(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1);
        return new SyscallFault(SocketError.Success, bytes);
    }

    /// <summary>Whether the fault can be injected into a call of <paramref name="kind"/> (see the remarks of the type).</summary>
    /// <param name="kind">One kind of call.</param>
    /// <returns>True for <see cref="None"/>; otherwise as the type's remarks say.</returns>
    public bool AppliesTo(SyscallKind kind) =>
        IsNone
        || (Error == SocketError.Success ? kind is SyscallKind.Send or SyscallKind.Receive
            : kind != SyscallKind.SelectorWait || Error == SocketError.Interrupted);

    /// <summary>The fault as errno names it: "EINTR", "ECONNRESET", "at most 1 byte", "none".</summary>
    /// <returns>The name.</returns>
    public override string ToString() => Error switch
    {
        SocketError.Success when _maxBytes == 0 => "none",
        SocketError.Success => _maxBytes == 1 ? "at most 1 byte" : $"at most {_maxBytes} bytes",
        SocketError.Interrupted => "EINTR",
        SocketError.WouldBlock => "EAGAIN",
        SocketError.ConnectionReset => "ECONNRESET",
        SocketError.Shutdown => "EPIPE",
        SocketError.NoBufferSpaceAvailable => "ENOBUFS",
        SocketError.TooManyOpenSockets => "EMFILE",
        SocketError.ConnectionRefused => "ECONNREFUSED",
        SocketError.TimedOut => "ETIMEDOUT",
        _ => Error.ToString(),
    };
}
