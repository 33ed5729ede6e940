using System.Diagnostics.Metrics;

namespace AsyncNet.Diagnostics;

/// <summary>
/// AsyncNet.Core's meter and instruments (names and units in <see cref="AsyncNetMetrics"/>). Every recording site checks
/// the instrument's <see cref="Instrument.Enabled"/> first, so nothing is measured or tagged while nobody listens.
/// </summary>
internal static class CoreMeter
{
    /// <summary>The meter, created once per process; never disposed (it lives as long as the library).</summary>
    public static readonly Meter Meter = new(AsyncNetMetrics.MeterName, typeof(CoreMeter).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> ConnectionsOpened =
        Meter.CreateCounter<long>(AsyncNetMetrics.ConnectionsOpened, "{connection}", "Stream connections opened (connected or accepted).");

    public static readonly UpDownCounter<long> ConnectionsActive =
        Meter.CreateUpDownCounter<long>(AsyncNetMetrics.ConnectionsActive, "{connection}", "Stream connections open now.");

    public static readonly Counter<long> ConnectionsClosed =
        Meter.CreateCounter<long>(AsyncNetMetrics.ConnectionsClosed, "{connection}", "Stream connections closed.");

    public static readonly Counter<long> BytesReceived =
        Meter.CreateCounter<long>(AsyncNetMetrics.BytesReceived, "By", "Bytes received by stream transports.");

    public static readonly Counter<long> BytesSent =
        Meter.CreateCounter<long>(AsyncNetMetrics.BytesSent, "By", "Bytes sent by stream transports.");

    public static readonly Counter<long> ReadPauses =
        Meter.CreateCounter<long>(AsyncNetMetrics.ReadPauses, "{pause}", "Times a stream transport paused reading.");

    public static readonly Counter<long> WritePauses =
        Meter.CreateCounter<long>(AsyncNetMetrics.WritePauses, "{pause}", "Times a protocol was told to pause writing.");

    // Buckets from 1 µs to 10 s: an iteration of a busy echo takes microseconds, a stalled one (a slow callback) seconds.
    public static readonly Histogram<double> LoopIterationDuration =
        Meter.CreateHistogram(
            AsyncNetMetrics.LoopIterationDuration,
            "s",
            "Time one loop iteration spent handling events, timers and callbacks.",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [1e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1, 10] });

    public static readonly Histogram<int> LoopReadyCallbacks =
        Meter.CreateHistogram(
            AsyncNetMetrics.LoopReadyCallbacks,
            "{callback}",
            "Callbacks one loop iteration ran.",
            tags: null,
            new InstrumentAdvice<int> { HistogramBucketBoundaries = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096] });

    public static readonly Counter<long> SlowCallbacks =
        Meter.CreateCounter<long>(AsyncNetMetrics.SlowCallbacks, "{callback}", "Callbacks that ran longer than the loop's slow-callback duration.");
}
