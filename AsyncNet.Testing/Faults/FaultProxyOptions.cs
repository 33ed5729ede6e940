using System.Net;
using System.Net.Sockets;
using AsyncNet.Transports;

namespace AsyncNet.Testing.Faults;

/// <summary>Settings for a <see cref="FaultProxy"/>: where it listens, the faults it starts with, and its sockets' settings.</summary>
public sealed record FaultProxyOptions
{
    /// <summary>The default <see cref="MaxHeldBytes"/>: 256 KiB.</summary>
    public const int DefaultMaxHeldBytes = 256 * 1024;

    /// <summary>The defaults.</summary>
    public static FaultProxyOptions Default { get; } = new();

    /// <summary>
    /// Where the proxy listens: an <see cref="IPEndPoint"/> (port 0 lets the OS choose; read it from
    /// <see cref="FaultProxy.ListenEndPoint"/>) or a <see cref="UnixDomainSocketEndPoint"/>. The default is 127.0.0.1, port 0.
    /// </summary>
    public EndPoint ListenEndPoint { get; init; } = new IPEndPoint(IPAddress.Loopback, 0);

    /// <summary>The faults on bytes from clients to the upstream at the start. The default is <see cref="FaultSpec.None"/>.</summary>
    public FaultSpec ClientToUpstream { get; init; } = FaultSpec.None;

    /// <summary>The faults on bytes from the upstream to clients at the start. The default is <see cref="FaultSpec.None"/>.</summary>
    public FaultSpec UpstreamToClient { get; init; } = FaultSpec.None;

    /// <summary>
    /// The listening socket's settings, which also apply to each accepted client connection (buffer sizes, write-buffer
    /// marks), or <see langword="null"/> for <see cref="ServerOptions.Default"/>. The default is <see langword="null"/>.
    /// </summary>
    public ServerOptions? ServerOptions { get; init; }

    /// <summary>The settings of each connection to the upstream, or <see langword="null"/> for <see cref="ConnectionOptions.Default"/>. The default is <see langword="null"/>.</summary>
    public ConnectionOptions? UpstreamOptions { get; init; }

    /// <summary>
    /// How many bytes one direction of a connection may hold back while they wait out a delay, before the proxy stops
    /// reading from the sender (it reads again once half of them have left). The default is
    /// <see cref="DefaultMaxHeldBytes"/> (256 KiB).
    /// </summary>
    /// <remarks>
    /// A direction holds at most this plus one read (the transport's read size, 256 KiB by default); a bandwidth limit
    /// below this per second makes the sender's writes back up, as on a slow link.
    /// </remarks>
    public int MaxHeldBytes { get; init; } = DefaultMaxHeldBytes;

    /// <summary>
    /// The seed of the random draws (jitter, slice sizes), for a run that repeats exactly; <see langword="null"/> for a
    /// different seed each time. The default is <see langword="null"/>.
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>Throws if a setting is out of range.</summary>
    /// <param name="parameterName">The name of the options argument, for the exception.</param>
    internal void Validate(string parameterName)
    {
        ArgumentNullException.ThrowIfNull(ListenEndPoint, parameterName);
        ArgumentNullException.ThrowIfNull(ClientToUpstream, parameterName);
        ArgumentNullException.ThrowIfNull(UpstreamToClient, parameterName);
        if (ListenEndPoint is not (IPEndPoint or UnixDomainSocketEndPoint))
        {
            throw new ArgumentException($"The proxy listens on an IPEndPoint or a UnixDomainSocketEndPoint; got {ListenEndPoint.GetType().Name}.", parameterName);
        }

        if (MaxHeldBytes < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, MaxHeldBytes, "MaxHeldBytes must be positive.");
        }

        ClientToUpstream.Validate(parameterName);
        UpstreamToClient.Validate(parameterName);
    }
}
