using System.Numerics;

namespace AsyncNet.Echo;

/// <summary>
/// A fixed-size log-linear latency histogram (HdrHistogram's layout, 64 sub-buckets per power of two): recording is an
/// array increment, nothing is allocated after construction, and any percentile is within 1.6 % of the true value.
/// </summary>
/// <remarks>
/// Values below 64 ns have a bucket each. Above, a value with its highest set bit at position <c>m</c> falls in bucket
/// row <c>m - 5</c>, sub-bucket <c>value &gt;&gt; (m - 5)</c> (32..63), so each row halves the resolution as the values
/// double. Not thread-safe: one thread records (the load generator's), and reads happen after it stopped.
/// </remarks>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 5;
    private const int SubBuckets = 1 << SubBucketBits;

    // Rows 0..58 cover every non-negative long; index = shift * 32 + (value >> shift), see Index.
    private readonly long[] _counts = new long[(64 - SubBucketBits) * SubBuckets + SubBuckets];

    /// <summary>How many values were recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The largest value recorded, in nanoseconds.</summary>
    public long MaxNanoseconds { get; private set; }

    /// <summary>Records one latency.</summary>
    /// <param name="nanoseconds">The latency in nanoseconds; a negative value counts as 0.</param>
    public void Record(long nanoseconds)
    {
        nanoseconds = Math.Max(0, nanoseconds);
        _counts[Index(nanoseconds)]++;
        Count++;
        if (nanoseconds > MaxNanoseconds)
        {
            MaxNanoseconds = nanoseconds;
        }
    }

    /// <summary>Forgets every value.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
        MaxNanoseconds = 0;
    }

    /// <summary>The value at or below which <paramref name="percentile"/> percent of the recorded values lie.</summary>
    /// <param name="percentile">From 0 to 100: 50 for the median, 99 for p99.</param>
    /// <returns>The value (the middle of its bucket, at most the maximum recorded); <see cref="TimeSpan.Zero"/> if nothing was recorded.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percentile"/> is outside 0..100.</exception>
    public TimeSpan Percentile(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        if (Count == 0)
        {
            return TimeSpan.Zero;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return FromNanoseconds(Math.Min(Middle(i), MaxNanoseconds));
            }
        }

        return FromNanoseconds(MaxNanoseconds);
    }

    /// <inheritdoc/>
    /// <returns>For example "LatencyHistogram(Count=1200, p50=41.2 µs, p99=180.3 µs)".</returns>
    public override string ToString() =>
        $"LatencyHistogram(Count={Count}, p50={Percentile(50).TotalMicroseconds:0.0} µs, p99={Percentile(99).TotalMicroseconds:0.0} µs)";

    private static int Index(long value)
    {
        if (value < 2 * SubBuckets)
        {
            return (int)value;
        }

        int shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits;
        return (shift * SubBuckets) + (int)(value >> shift);
    }

    private static long Middle(int index)
    {
        if (index < 2 * SubBuckets)
        {
            return index;
        }

        int shift = (index / SubBuckets) - 1;
        long low = (long)(index - (shift * SubBuckets)) << shift;
        return low + ((1L << shift) / 2);
    }

    private static TimeSpan FromNanoseconds(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / 100);
}
