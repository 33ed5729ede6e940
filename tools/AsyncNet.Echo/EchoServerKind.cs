namespace AsyncNet.Echo;

/// <summary>Which echo server to run: AsyncNet's layers (the stream echo in its canonical and its zero-copy form) and two idiomatic .NET baselines.</summary>
public enum EchoServerKind
{
    /// <summary>AsyncNet transport level: an <c>IProtocol</c> whose <c>DataReceived</c> writes the bytes back (the CLI's <c>raw</c>).</summary>
    Protocol,

    /// <summary>AsyncNet streams: read what is available, write it, <c>DrainAsync</c>, on <c>StreamEndpoints.StartServerAsync</c>.</summary>
    Stream,

    /// <summary>AsyncNet framing over the streams: each frame read with a <c>FrameReader</c> is written back with a <c>FrameWriter</c>.</summary>
    Framed,

    /// <summary>The .NET baseline: <c>Socket.AcceptAsync</c>, then one <c>ReceiveAsync</c>/<c>SendAsync</c> loop per connection.</summary>
    Socket,

    /// <summary>The .NET baseline with System.IO.Pipelines: a <c>PipeReader</c>/<c>PipeWriter</c> over a <c>NetworkStream</c> per connection.</summary>
    Pipelines,

    /// <summary>
    /// AsyncNet streams without copies: <c>ReadBufferedAsync</c> lends the received bytes, <c>Write</c> sends them from
    /// where they lie, <c>AdvanceTo</c> gives them back, <c>DrainAsync</c>; the zero-copy twin of <see cref="Stream"/>.
    /// </summary>
    ZeroCopy,
}

/// <summary>Names of the <see cref="EchoServerKind"/> values, as the command line spells them.</summary>
public static class EchoServerKinds
{
    /// <summary>Every kind, AsyncNet's first.</summary>
    public static IReadOnlyList<EchoServerKind> All { get; } =
        [EchoServerKind.Protocol, EchoServerKind.Stream, EchoServerKind.ZeroCopy, EchoServerKind.Framed, EchoServerKind.Socket, EchoServerKind.Pipelines];

    /// <summary>The accepted spellings, for usage messages.</summary>
    public const string Names = "raw (or protocol), stream, zerocopy, framed, socket, pipelines";

    /// <summary>Parses a kind's name: <c>raw</c> or <c>protocol</c>, <c>stream</c>, <c>zerocopy</c> (or <c>zero-copy</c>), <c>framed</c>, <c>socket</c>, <c>pipelines</c> (case-insensitive).</summary>
    /// <param name="name">The name.</param>
    /// <param name="kind">The kind, when recognised.</param>
    /// <returns>Whether <paramref name="name"/> names a kind.</returns>
    public static bool TryParse(string? name, out EchoServerKind kind)
    {
        switch (name?.ToUpperInvariant())
        {
            case "RAW" or "PROTOCOL":
                kind = EchoServerKind.Protocol;
                return true;
            case "STREAM":
                kind = EchoServerKind.Stream;
                return true;
            case "ZEROCOPY" or "ZERO-COPY":
                kind = EchoServerKind.ZeroCopy;
                return true;
            case "FRAMED":
                kind = EchoServerKind.Framed;
                return true;
            case "SOCKET":
                kind = EchoServerKind.Socket;
                return true;
            case "PIPELINES":
                kind = EchoServerKind.Pipelines;
                return true;
            default:
                kind = default;
                return false;
        }
    }

    /// <summary>Whether the kind echoes whole frames (so a load must send frames in <see cref="EchoServerOptions.FrameFormat"/>).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns><see langword="true"/> for <see cref="EchoServerKind.Framed"/>.</returns>
    public static bool IsFramed(this EchoServerKind kind) => kind == EchoServerKind.Framed;

    /// <summary>Whether the kind is AsyncNet's, served on event loops (so <see cref="EchoServerOptions.Loops"/> applies to it).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns><see langword="true"/> for <see cref="EchoServerKind.Protocol"/>, <see cref="EchoServerKind.Stream"/>, <see cref="EchoServerKind.ZeroCopy"/> and <see cref="EchoServerKind.Framed"/>.</returns>
    public static bool RunsOnLoops(this EchoServerKind kind) => kind is EchoServerKind.Protocol or EchoServerKind.Stream or EchoServerKind.ZeroCopy or EchoServerKind.Framed;

    /// <summary>A short display name: "AsyncNet protocol", ".NET Pipelines".</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The name.</returns>
    public static string DisplayName(this EchoServerKind kind) => kind switch
    {
        EchoServerKind.Protocol => "AsyncNet protocol",
        EchoServerKind.Stream => "AsyncNet stream",
        EchoServerKind.ZeroCopy => "AsyncNet zero-copy stream",
        EchoServerKind.Framed => "AsyncNet framed",
        EchoServerKind.Socket => ".NET Socket async",
        EchoServerKind.Pipelines => ".NET Pipelines",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
