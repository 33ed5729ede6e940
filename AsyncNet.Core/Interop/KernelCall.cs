namespace AsyncNet.Interop;

/// <summary>Which system call <see cref="Kernel"/> is about to make: what a fault schedule is told.</summary>
internal enum KernelCall
{
    /// <summary>send on a stream or a connected datagram socket.</summary>
    Send,

    /// <summary>sendmsg of several buffers (a stream transport's gathered flush).</summary>
    SendGathered,

    /// <summary>sendto an address (an unconnected datagram socket).</summary>
    SendTo,

    /// <summary>recv on a stream socket.</summary>
    Receive,

    /// <summary>recvfrom on a datagram socket.</summary>
    ReceiveFrom,

    /// <summary>accept on a listening socket.</summary>
    Accept,

    /// <summary>The start of a non-blocking connect.</summary>
    Connect,

    /// <summary>getsockopt(SO_ERROR) once a connect in progress made the socket writable: the connect's outcome.</summary>
    ConnectResult,

    /// <summary>The selector's wait (epoll_wait, poll or select).</summary>
    SelectorWait,
}
