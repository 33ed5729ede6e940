using AsyncNet.Echo;

namespace AsyncNet.Cli.Tests.Echo;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Empty_PercentilesAreZero()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.Count);
        Assert.Equal(TimeSpan.Zero, histogram.Percentile(50));
        Assert.Equal(TimeSpan.Zero, histogram.Percentile(99));
    }

    [Fact]
    public void Percentiles_OfAUniformSpread_AreWithinTheBucketPrecision()
    {
        var histogram = new LatencyHistogram();
        for (long us = 1; us <= 10_000; us++)
        {
            histogram.Record(us * 1000);
        }

        Assert.Equal(10_000, histogram.Count);
        Assert.InRange(histogram.Percentile(50).TotalMicroseconds, 5000 * 0.98, 5000 * 1.02);
        Assert.InRange(histogram.Percentile(99).TotalMicroseconds, 9900 * 0.98, 9900 * 1.02);
        Assert.Equal(10_000, histogram.Percentile(100).TotalMicroseconds, 1);
    }

    [Fact]
    public void SmallValues_AreExact_AndNegativeCountsAsZero()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);
        histogram.Record(100);
        histogram.Record(100);
        histogram.Record(100);

        Assert.Equal(4, histogram.Count);
        Assert.Equal(TimeSpan.Zero, histogram.Percentile(25));
        Assert.Equal(TimeSpan.FromTicks(1), histogram.Percentile(50));
    }

    [Fact]
    public void HugeValues_DoNotOverflowTheBuckets()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(long.MaxValue);
        histogram.Record(TimeSpan.FromHours(1).Ticks * 100);

        Assert.Equal(2, histogram.Count);
        Assert.InRange(histogram.Percentile(50).TotalHours, 0.98, 1.02);
    }

    [Fact]
    public void Clear_ForgetsEverything()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1_000_000);
        histogram.Clear();

        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.MaxNanoseconds);
        Assert.Equal(TimeSpan.Zero, histogram.Percentile(99));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(100.5)]
    public void Percentile_OutOfRange_Throws(double percentile)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LatencyHistogram().Percentile(percentile));
    }
}
