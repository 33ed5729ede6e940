namespace AsyncNet.Echo;

/// <summary>What an echo load measured over its window (after the warm-up): every echoed byte was verified.</summary>
/// <param name="Connections">How many connections ran.</param>
/// <param name="MessageSize">The message size (in framed mode, the payload size) in bytes.</param>
/// <param name="Depth">The messages in flight per connection.</param>
/// <param name="Framed">Whether frames were sent.</param>
/// <param name="Elapsed">The measured window.</param>
/// <param name="Messages">Messages whose echo arrived whole within the window.</param>
/// <param name="VerifiedBytes">Echoed bytes compared with what was sent, over the whole run (warm-up included, frame headers included).</param>
/// <param name="LatencyP50">The median time from queueing a message to its echo's last byte, within the window.</param>
/// <param name="LatencyP99">The 99th percentile of the same.</param>
/// <param name="LatencyMax">The longest, within the window.</param>
public sealed record EchoLoadResult(
    int Connections,
    int MessageSize,
    int Depth,
    bool Framed,
    TimeSpan Elapsed,
    long Messages,
    long VerifiedBytes,
    TimeSpan LatencyP50,
    TimeSpan LatencyP99,
    TimeSpan LatencyMax)
{
    /// <summary>Echoed messages per second.</summary>
    public double MessagesPerSecond => Elapsed > TimeSpan.Zero ? Messages / Elapsed.TotalSeconds : 0;

    /// <summary>Message bytes (payloads, without frame headers) echoed per second, in millions, one way.</summary>
    public double MegabytesPerSecond => MessagesPerSecond * MessageSize / 1e6;

    /// <summary>The result of a window of a load that ran with <paramref name="options"/>, its latencies in <paramref name="latency"/>.</summary>
    internal static EchoLoadResult Of(EchoLoadOptions options, int connections, TimeSpan elapsed, long messages, long verifiedBytes, LatencyHistogram latency) => new(
        connections,
        options.MessageSize,
        options.Depth,
        options.FrameFormat is not null,
        elapsed,
        messages,
        verifiedBytes,
        latency.Percentile(50),
        latency.Percentile(99),
        latency.Percentile(100));
}

/// <summary>A live view of a running load, for a progress line.</summary>
/// <param name="Elapsed">Time since the load started (warm-up included).</param>
/// <param name="WarmingUp">Whether the measured window has not started yet.</param>
/// <param name="Messages">Messages echoed since the start.</param>
/// <param name="VerifiedBytes">Bytes verified since the start.</param>
/// <param name="MessagesPerSecond">The rate over the last progress interval.</param>
public readonly record struct EchoLoadProgress(TimeSpan Elapsed, bool WarmingUp, long Messages, long VerifiedBytes, double MessagesPerSecond);
