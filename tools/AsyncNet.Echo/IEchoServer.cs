using System.Net;
using AsyncNet.Transports;

namespace AsyncNet.Echo;

/// <summary>A running echo server: every byte a client sends comes back (for <see cref="EchoServerKind.Framed"/>, every frame).</summary>
/// <remarks>
/// Made by <see cref="EchoServers.StartAsync"/>, already listening. AsyncNet kinds run on an event loop group of
/// <see cref="EchoServerOptions.Loops"/> loops, each on a thread of its own; the .NET baselines run on the thread pool.
/// <see cref="IAsyncDisposable.DisposeAsync"/> closes gracefully: it stops accepting, closes every connection (echoes
/// already produced are flushed), waits up to <see cref="EchoServerOptions.ShutdownGrace"/> for them to close, aborts
/// the rest and stops the server's threads.
/// </remarks>
public interface IEchoServer : IAsyncDisposable
{
    /// <summary>The kind of server.</summary>
    EchoServerKind Kind { get; }

    /// <summary>A display name, e.g. "AsyncNet stream".</summary>
    string Name { get; }

    /// <summary>The endpoint the server listens on (the port the OS chose, if 0 was asked for).</summary>
    IPEndPoint EndPoint { get; }

    /// <summary>How many event loops serve the connections; 0 for the .NET baselines, which run on the thread pool.</summary>
    int Loops { get; }

    /// <summary>
    /// How connections are spread over the loops (never <see cref="AcceptDistribution.Auto"/>: the choice made of it),
    /// or <see langword="null"/> for the .NET baselines.
    /// </summary>
    AcceptDistribution? Distribution { get; }

    /// <summary>How many connections each loop has accepted so far, in loop order; empty for the .NET baselines.</summary>
    /// <returns>One count per loop, read now. May be called from any thread.</returns>
    long[] GetAcceptedCounts();
}
