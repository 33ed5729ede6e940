namespace AsyncNet.Transports;

/// <summary>How a server started on an <see cref="Loop.EventLoopGroup"/> spreads its connections over the group's loops.</summary>
public enum AcceptDistribution
{
    /// <summary>
    /// <see cref="ReusePort"/> for TCP on Linux, <see cref="RoundRobin"/> otherwise (Unix sockets, other systems). The
    /// default: with one listening socket per loop no thread hands a connection to another, and the kernel balances.
    /// </summary>
    Auto,

    /// <summary>
    /// Every loop listens on its own socket bound with SO_REUSEPORT, and the kernel spreads new connections among them
    /// (by a hash of the peer's address and port, so the spread is even over many connections, not exact). TCP on Linux.
    /// </summary>
    ReusePort,

    /// <summary>One loop accepts, and hands each connection to the next loop in turn: exactly even.</summary>
    RoundRobin,

    /// <summary>One loop accepts, and hands each connection to the loop with the fewest open connections.</summary>
    LeastConnections,
}
