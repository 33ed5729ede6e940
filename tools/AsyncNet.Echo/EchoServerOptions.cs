using System.Net.Security;
using AsyncNet.Transports;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Echo;

/// <summary>Settings of an echo server.</summary>
public sealed record EchoServerOptions
{
    /// <summary>The defaults.</summary>
    public static EchoServerOptions Default { get; } = new();

    /// <summary>The listen backlog. The default is 1024, so a load generator's burst of connects is never refused.</summary>
    public int Backlog { get; init; } = 1024;

    /// <summary>
    /// The frame layout of <see cref="EchoServerKind.Framed"/>; the load must send the same. The default is
    /// <see cref="EchoFraming.DefaultFormat"/> (a 4-byte big-endian payload length, then the payload).
    /// </summary>
    public LengthFieldFormat FrameFormat { get; init; } = EchoFraming.DefaultFormat;

    /// <summary>
    /// The per-connection buffer of the <see cref="EchoServerKind.Stream"/>, <see cref="EchoServerKind.Socket"/> and
    /// <see cref="EchoServerKind.Pipelines"/> echoes: the most bytes one read takes. The default is 256 KiB: the C epoll
    /// echo's buffer in the shared harness, and the transport's read size, so the stream echo's reads are received
    /// straight into it (see <c>StreamReader.ReadAsync(Memory)</c>).
    /// </summary>
    public int BufferSize { get; init; } = 256 * 1024;

    /// <summary>
    /// <see langword="null"/> (the default) for plain TCP; TLS settings (at least a server certificate) to serve the
    /// <see cref="EchoServerKind.Stream"/> echo over TLS, through an <see cref="SslStream"/> on each connection's stream
    /// adapter. Only the stream echo serves TLS.
    /// </summary>
    public SslServerAuthenticationOptions? Tls { get; init; }

    /// <summary>
    /// How many event loops (each on a thread of its own) serve the AsyncNet kinds; the .NET baselines ignore it. The
    /// default is 1.
    /// </summary>
    public int Loops { get; init; } = 1;

    /// <summary>
    /// How the AsyncNet kinds spread connections over their <see cref="Loops"/>. The default is
    /// <see cref="AcceptDistribution.Auto"/>: with one loop, that loop accepts for itself on a socket of its own (no
    /// SO_REUSEPORT, so a second server on the same port fails with "address in use"); with more, the group's own
    /// choice (one SO_REUSEPORT listener per loop on Linux, round-robin hand-off elsewhere).
    /// </summary>
    /// <remarks>
    /// With <see cref="AcceptDistribution.ReusePort"/> every loop binds the port with SO_REUSEPORT, which also lets
    /// another process of the same user bind it and take a share of the connections.
    /// </remarks>
    public AcceptDistribution Distribution { get; init; } = AcceptDistribution.Auto;

    /// <summary>How long a graceful close waits for connections to close before aborting them. The default is 2 seconds.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// <see cref="Distribution"/> as the group is asked for it: <see cref="AcceptDistribution.RoundRobin"/> for
    /// <see cref="AcceptDistribution.Auto"/> on one loop (the acceptor hands every connection to itself), else as set.
    /// </summary>
    internal AcceptDistribution EffectiveDistribution =>
        Distribution == AcceptDistribution.Auto && Loops == 1 ? AcceptDistribution.RoundRobin : Distribution;

    /// <summary>Throws if a setting is out of range.</summary>
    /// <param name="parameterName">The options argument's name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    /// <exception cref="ArgumentNullException"><see cref="FrameFormat"/> is null.</exception>
    /// <exception cref="ArgumentException"><see cref="Tls"/> has no server certificate.</exception>
    internal void Validate(string parameterName)
    {
        if (Backlog < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, Backlog, "Backlog must be at least 1.");
        }

        if (BufferSize < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, BufferSize, "BufferSize must be at least 1.");
        }

        if (Loops < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, Loops, "Loops must be at least 1.");
        }

        if (!Enum.IsDefined(Distribution))
        {
            throw new ArgumentOutOfRangeException(parameterName, Distribution, "Distribution is not an AcceptDistribution value.");
        }

        if (ShutdownGrace < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, ShutdownGrace, "ShutdownGrace must not be negative.");
        }

        ArgumentNullException.ThrowIfNull(FrameFormat, parameterName);
        if (Tls is { ServerCertificate: null, ServerCertificateContext: null, ServerCertificateSelectionCallback: null })
        {
            throw new ArgumentException("Tls needs a server certificate.", parameterName);
        }
    }
}
