namespace AsyncNet.Testing.Syscalls;

/// <summary>The system calls of AsyncNet's network path that a <see cref="SyscallSchedule"/> can fail.</summary>
/// <remarks>A flags enum: a schedule may cover several kinds at once (<c>Send | Receive</c>).</remarks>
[Flags]
public enum SyscallKind
{
    /// <summary>No call.</summary>
    None = 0,

    /// <summary>A send: one buffer, several gathered (<see cref="SyscallCall.IsGathered"/>), or a datagram (<see cref="SyscallCall.IsDatagram"/>).</summary>
    Send = 1,

    /// <summary>A receive on a stream socket, or a datagram's receive-from.</summary>
    Receive = 2,

    /// <summary>An accept on a listening socket (a server's, or <c>SockAcceptAsync</c>).</summary>
    Accept = 4,

    /// <summary>The start of a non-blocking connect.</summary>
    Connect = 8,

    /// <summary>The check of a connect's outcome (SO_ERROR) once the socket is writable.</summary>
    ConnectResult = 16,

    /// <summary>The selector's wait (epoll_wait, poll or select) in a loop iteration.</summary>
    SelectorWait = 32,

    /// <summary>Every kind.</summary>
    All = Send | Receive | Accept | Connect | ConnectResult | SelectorWait,
}
