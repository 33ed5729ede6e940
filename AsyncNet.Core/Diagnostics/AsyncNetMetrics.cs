namespace AsyncNet.Diagnostics;

/// <summary>
/// The names of AsyncNet's metrics: one <see cref="System.Diagnostics.Metrics"/> meter named <see cref="MeterName"/>,
/// its instruments and their tags, for a <see cref="System.Diagnostics.Metrics.MeterListener"/>, OpenTelemetry's
/// <c>AddMeter("AsyncNet")</c> or <c>dotnet-counters monitor --counters AsyncNet</c>.
/// </summary>
/// <remarks>
/// <para>
/// AsyncNet.Core and AsyncNet.Streams each create one meter of this name (a listener that enables the name gets both):
/// Core's instruments count the loop and the stream transports, Streams' the framing and the stream writers. A meter
/// with no listener costs one check of a field per recording site, and loop histograms are measured only while
/// someone listens to them.
/// </para>
/// <para>
/// Connection instruments carry the tags <see cref="TransportTag"/> (<c>tcp</c> or <c>unix</c>) and <see cref="SideTag"/>
/// (<c>client</c> for connections made with a connect, <c>server</c> for accepted ones). Bytes are counted once per
/// receive or send system call, not per message.
/// </para>
/// </remarks>
public static class AsyncNetMetrics
{
    /// <summary>The meter's name: "AsyncNet".</summary>
    public const string MeterName = "AsyncNet";

    /// <summary>Counter, <c>{connection}</c>: stream connections opened (connected or accepted). Tags: transport, side.</summary>
    public const string ConnectionsOpened = "asyncnet.connections.opened";

    /// <summary>Up-down counter, <c>{connection}</c>: stream connections open now. Tags: transport, side.</summary>
    public const string ConnectionsActive = "asyncnet.connections.active";

    /// <summary>
    /// Counter, <c>{connection}</c>: stream connections closed (their <c>ConnectionLost</c> ran). Tags: transport, side,
    /// and <see cref="ErrorTypeTag"/> when the connection was lost with an exception.
    /// </summary>
    public const string ConnectionsClosed = "asyncnet.connections.closed";

    /// <summary>Counter, <c>By</c>: bytes received by stream transports, counted per receive call. Tags: transport, side.</summary>
    public const string BytesReceived = "asyncnet.bytes.received";

    /// <summary>Counter, <c>By</c>: bytes the kernel took from stream transports, counted per send call. Tags: transport, side.</summary>
    public const string BytesSent = "asyncnet.bytes.sent";

    /// <summary>Counter, <c>{pause}</c>: times a stream transport stopped reading (<c>PauseReading</c>: a reader over its limit). Tags: transport, side.</summary>
    public const string ReadPauses = "asyncnet.read.pauses";

    /// <summary>
    /// Counter, <c>{pause}</c>: times a protocol was told <c>PauseWriting</c> (the write buffer went above its high mark,
    /// or a drain had to wait for the low mark). Tags: transport and side for stream connections; none for others.
    /// </summary>
    public const string WritePauses = "asyncnet.write.pauses";

    /// <summary>
    /// Histogram, <c>s</c>: the time one loop iteration spent handling ready events, timers and callbacks (not the time
    /// it waited in the selector). Recorded once per iteration, only while listened to.
    /// </summary>
    public const string LoopIterationDuration = "asyncnet.loop.iteration.duration";

    /// <summary>Histogram, <c>{callback}</c>: how many callbacks one loop iteration ran (the ready queue's length when it began running them).</summary>
    public const string LoopReadyCallbacks = "asyncnet.loop.ready_callbacks";

    /// <summary>
    /// Counter, <c>{callback}</c>: callbacks that ran for at least <see cref="Loop.EventLoopOptions.SlowCallbackDuration"/>.
    /// Callbacks are timed only while this is listened to or the loop is in debug mode.
    /// </summary>
    public const string SlowCallbacks = "asyncnet.loop.slow_callbacks";

    /// <summary>Counter, <c>{frame}</c>: frames a <c>FrameReader</c> returned (AsyncNet.Streams).</summary>
    public const string FramesDecoded = "asyncnet.frames.decoded";

    /// <summary>Counter, <c>{frame}</c>: frames a <c>FrameReader</c> rejected (AsyncNet.Streams). Tag: <see cref="ReasonTag"/>.</summary>
    public const string FramesRejected = "asyncnet.frames.rejected";

    /// <summary>Counter, <c>{wait}</c>: <c>StreamWriter.DrainAsync</c> calls that had to wait for the write buffer to fall to its low mark (AsyncNet.Streams).</summary>
    public const string DrainWaits = "asyncnet.drain.waits";

    /// <summary>The tag naming a connection's transport: "tcp" or "unix".</summary>
    public const string TransportTag = "transport";

    /// <summary>The tag naming a connection's side: "client" or "server".</summary>
    public const string SideTag = "side";

    /// <summary>The tag naming why a frame was rejected: "too_large", "corrupt" or "checksum".</summary>
    public const string ReasonTag = "reason";

    /// <summary>The tag naming the type of the exception a connection was lost with (for example "ConnectionResetException").</summary>
    public const string ErrorTypeTag = "error.type";
}
