using System.Net.Security;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Echo;

/// <summary>Settings of an echo server.</summary>
public sealed class EchoServerOptions
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
    /// <see cref="EchoServerKind.Pipelines"/> echoes: the most bytes one read takes. The default is 64 KiB (the stream
    /// reader's limit, and what asyncio's examples pass to <c>read</c>).
    /// </summary>
    public int BufferSize { get; init; } = 64 * 1024;

    /// <summary>
    /// <see langword="null"/> (the default) for plain TCP; TLS settings (at least a server certificate) to serve the
    /// <see cref="EchoServerKind.Stream"/> echo over TLS, through an <see cref="SslStream"/> on each connection's stream
    /// adapter. Only the stream echo serves TLS.
    /// </summary>
    public SslServerAuthenticationOptions? Tls { get; init; }

    /// <summary>How long a graceful close waits for connections to close before aborting them. The default is 2 seconds.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(2);

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
