using AsyncNet.Echo.Servers;
using AsyncNet.Errors;

namespace AsyncNet.Echo;

/// <summary>Starts echo servers of every <see cref="EchoServerKind"/> with one shape: start, read the endpoint, dispose.</summary>
public static class EchoServers
{
    /// <summary>Starts an echo server and returns it once it listens.</summary>
    /// <param name="kind">Which server.</param>
    /// <param name="host">The address to listen on: an IP literal or a host name. The default is 127.0.0.1.</param>
    /// <param name="port">The TCP port; 0 lets the OS choose (read it from <see cref="IEchoServer.EndPoint"/>).</param>
    /// <param name="options">The settings; <see langword="null"/> for <see cref="EchoServerOptions.Default"/>.</param>
    /// <returns>The listening server; dispose it to stop it.</returns>
    /// <remarks>
    /// The task fails with <see cref="AddressInUseException"/> when the port is taken, <see cref="NameResolutionException"/>
    /// when the host does not resolve, or another <see cref="NetworkException"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="host"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/>, <paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ArgumentException"><see cref="EchoServerOptions.Tls"/> is set for another kind than <see cref="EchoServerKind.Stream"/>, or has no certificate.</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="EchoServerOptions.Distribution"/> is <see cref="Transports.AcceptDistribution.ReusePort"/> on a system other than Linux (the task fails with it).</exception>
    public static Task<IEchoServer> StartAsync(EchoServerKind kind, string host = "127.0.0.1", int port = 0, EchoServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        options ??= EchoServerOptions.Default;
        options.Validate(nameof(options));
        if (options.Tls is not null)
        {
            return kind == EchoServerKind.Stream
                ? GroupEchoServer.StartAsync(new TlsStreamEchoServer(options), host, port)
                : throw new ArgumentException($"Only the {EchoServerKind.Stream} echo serves TLS (got {kind}).", nameof(kind));
        }

        return kind switch
        {
            EchoServerKind.Protocol => GroupEchoServer.StartAsync(new ProtocolEchoServer(options), host, port),
            EchoServerKind.Stream => GroupEchoServer.StartAsync(new StreamEchoServer(options), host, port),
            EchoServerKind.ZeroCopy => GroupEchoServer.StartAsync(new ZeroCopyEchoServer(options), host, port),
            EchoServerKind.Framed => GroupEchoServer.StartAsync(new FramedEchoServer(options), host, port),
            EchoServerKind.Socket => ThreadPoolEchoServer.StartAsync(new SocketEchoServer(options), host, port),
            EchoServerKind.Pipelines => ThreadPoolEchoServer.StartAsync(new PipelinesEchoServer(options), host, port),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not an echo server kind."),
        };
    }
}
