using System.Net;

namespace AsyncNet.Echo;

/// <summary>A running echo server: every byte a client sends comes back (for <see cref="EchoServerKind.Framed"/>, every frame).</summary>
/// <remarks>
/// Made by <see cref="EchoServers.StartAsync"/>, already listening. AsyncNet kinds run on an event loop on their own
/// thread; the .NET baselines run on the thread pool. <see cref="IAsyncDisposable.DisposeAsync"/> closes gracefully:
/// it stops accepting, closes every connection (echoes already produced are flushed), waits up to
/// <see cref="EchoServerOptions.ShutdownGrace"/> for them to close, aborts the rest and stops the server's thread.
/// </remarks>
public interface IEchoServer : IAsyncDisposable
{
    /// <summary>The kind of server.</summary>
    EchoServerKind Kind { get; }

    /// <summary>A display name, e.g. "AsyncNet stream".</summary>
    string Name { get; }

    /// <summary>The endpoint the server listens on (the port the OS chose, if 0 was asked for).</summary>
    IPEndPoint EndPoint { get; }
}
