using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using AsyncNet.Diagnostics;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Diagnostics;

/// <summary>
/// AsyncNet.Streams' instruments, on a meter of its own named "AsyncNet" like AsyncNet.Core's, so one listener of that
/// name gets both (names, units and tags in <see cref="AsyncNetMetrics"/>). Every recording checks the instrument's
/// <see cref="Instrument.Enabled"/> first: with nobody listening, a frame costs one field check.
/// </summary>
internal static class StreamsMeter
{
    /// <summary>The meter, created once per process; never disposed (it lives as long as the library).</summary>
    public static readonly Meter Meter = new(AsyncNetMetrics.MeterName, typeof(StreamsMeter).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> FramesDecoded =
        Meter.CreateCounter<long>(AsyncNetMetrics.FramesDecoded, "{frame}", "Frames a FrameReader returned.");

    public static readonly Counter<long> FramesRejected =
        Meter.CreateCounter<long>(AsyncNetMetrics.FramesRejected, "{frame}", "Frames a FrameReader rejected, by reason.");

    public static readonly Counter<long> DrainWaits =
        Meter.CreateCounter<long>(AsyncNetMetrics.DrainWaits, "{wait}", "Stream writer drains that had to wait for the low-water mark.");

    private static readonly KeyValuePair<string, object?> s_tooLarge = new(AsyncNetMetrics.ReasonTag, "too_large");
    private static readonly KeyValuePair<string, object?> s_corrupt = new(AsyncNetMetrics.ReasonTag, "corrupt");
    private static readonly KeyValuePair<string, object?> s_checksum = new(AsyncNetMetrics.ReasonTag, "checksum");
    private static readonly KeyValuePair<string, object?> s_invalid = new(AsyncNetMetrics.ReasonTag, "invalid");

    /// <summary>A frame reader returned a frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FrameDecoded()
    {
        if (FramesDecoded.Enabled)
        {
            FramesDecoded.Add(1);
        }
    }

    /// <summary>A frame reader rejected a frame with <paramref name="fault"/>.</summary>
    public static void FrameRejected(InvalidFrameException fault)
    {
        if (FramesRejected.Enabled)
        {
            FramesRejected.Add(1, fault switch
            {
                FrameTooLargeException => s_tooLarge,
                CorruptFrameException => s_corrupt,
                ChecksumMismatchException => s_checksum,
                _ => s_invalid,
            });
        }
    }

    /// <summary>A drain found the write buffer above the low mark and waits.</summary>
    public static void DrainWaited()
    {
        if (DrainWaits.Enabled)
        {
            DrainWaits.Add(1);
        }
    }
}
