using AsyncNet.Testing.Faults;

namespace AsyncNet.Testing.Tests.Faults;

/// <summary>The text form of fault descriptions (what a command line passes) and the rules every spec obeys.</summary>
public sealed class FaultSpecTests
{
    public static TheoryData<string, FaultSpec> Examples => new()
    {
        { "latency=50ms,jitter=10ms", new FaultSpec { Latency = TimeSpan.FromMilliseconds(50), Jitter = TimeSpan.FromMilliseconds(10) } },
        { "bandwidth=64KiB/s", new FaultSpec { BandwidthBytesPerSecond = 64 * 1024 } },
        { "bandwidth=1000", new FaultSpec { BandwidthBytesPerSecond = 1000 } },
        { "slice=16,slice-variation=8,slice-delay=250us", new FaultSpec { SliceSize = 16, SliceVariation = 8, SliceDelay = TimeSpan.FromMicroseconds(250) } },
        { "blackhole", new FaultSpec { Blackhole = true } },
        { "reset-after=1MiB", new FaultSpec { ResetAfterBytes = 1024 * 1024 } },
        { "close-after=100B", new FaultSpec { CloseAfterBytes = 100 } },
        { "half-close-after=0", new FaultSpec { HalfCloseAfterBytes = 0 } },
        { " Latency = 1.5s , BLACKHOLE ", new FaultSpec { Latency = TimeSpan.FromMilliseconds(1500), Blackhole = true } },
        { "jitter=2.5us", new FaultSpec { Jitter = TimeSpan.FromTicks(25) } },
        { "latency=0", FaultSpec.None },
        { "none", FaultSpec.None },
        { "", FaultSpec.None },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Parse_ReadsEachItem(string text, FaultSpec expected) => Assert.Equal(expected, FaultSpec.Parse(text));

    [Theory]
    [InlineData("latency=50ms,jitter=10ms")]
    [InlineData("bandwidth=64KiB/s")]
    [InlineData("slice=16,slice-variation=8,slice-delay=1ms")]
    [InlineData("latency=2s,blackhole,reset-after=1000")]
    [InlineData("jitter=1.5us")]
    [InlineData("none")]
    public void ToString_IsTheCanonicalText(string canonical) => Assert.Equal(canonical, FaultSpec.Parse(canonical).ToString());

    [Fact]
    public void ParseOfToString_IsTheSameSpec_ForManyRandomSpecs()
    {
        var random = new Random(17);
        for (int i = 0; i < 500; i++)
        {
            FaultSpec spec = RandomSpec(random);
            string text = spec.ToString();
            Assert.True(FaultSpec.TryParse(text, out FaultSpec? back), $"\"{text}\" did not parse");
            Assert.Equal(spec, back);
        }
    }

    [Theory]
    [InlineData("latency", "a value is needed")]
    [InlineData("latency=50", "expected a duration")]
    [InlineData("latency=-5ms", "expected a duration")]
    [InlineData("latency=5 parsecs", "expected a duration")]
    [InlineData("bandwidth=fast", "expected bytes per second")]
    [InlineData("slice=9999999999", "expected a byte count")]
    [InlineData("close-after=12KB", "expected a byte count")]
    [InlineData("blackhole=yes", "takes no value")]
    [InlineData("lag=5ms", "is not known")]
    [InlineData("latency=1ms,latency=2ms", "given twice")]
    [InlineData("slice=8,slice-variation=8", "variation")]
    [InlineData("slice-delay=1ms", "needs a slice size")]
    [InlineData("bandwidth=0", "must be positive")]
    [InlineData("reset-after=10,close-after=10", "At most one")]
    public void Parse_BadText_ThrowsFormatExceptionNamingTheProblem(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => FaultSpec.Parse(text));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(FaultSpec.TryParse(text, out FaultSpec? spec));
        Assert.Null(spec);
    }

    [Fact]
    public void Parse_Null_ThrowsArgumentNull_AndTryParseFails()
    {
        Assert.Throws<ArgumentNullException>(() => FaultSpec.Parse(null!));
        Assert.False(FaultSpec.TryParse(null, out _));
    }

    [Fact]
    public void None_HasEveryDefault_AndReadsAsNone()
    {
        Assert.Equal(new FaultSpec(), FaultSpec.None);
        Assert.Equal("none", FaultSpec.None.ToString());
        Assert.Equal((TimeSpan.Zero, TimeSpan.Zero, null, null, 0, TimeSpan.Zero, false, null, null, null), (
            FaultSpec.None.Latency, FaultSpec.None.Jitter, FaultSpec.None.BandwidthBytesPerSecond, FaultSpec.None.SliceSize, FaultSpec.None.SliceVariation,
            FaultSpec.None.SliceDelay, FaultSpec.None.Blackhole, FaultSpec.None.ResetAfterBytes, FaultSpec.None.CloseAfterBytes, FaultSpec.None.HalfCloseAfterBytes));
    }

    private static FaultSpec RandomSpec(Random random)
    {
        TimeSpan Duration() => random.Next(4) switch
        {
            0 => TimeSpan.Zero,
            1 => TimeSpan.FromSeconds(random.Next(1, 5)),
            2 => TimeSpan.FromMilliseconds(random.Next(1, 5000)),
            _ => TimeSpan.FromTicks(random.Next(1, 10_000_000)),
        };
        long Size() => random.Next(3) switch
        {
            0 => random.Next(0, 100_000),
            1 => (long)random.Next(1, 2048) << 10,
            _ => (long)random.Next(1, 4) << 30,
        };

        int? slice = random.Next(2) == 0 ? null : random.Next(1, 5000);
        int limitKind = random.Next(4);
        return new FaultSpec
        {
            Latency = Duration(),
            Jitter = Duration(),
            BandwidthBytesPerSecond = random.Next(2) == 0 ? null : Math.Max(1, Size()),
            SliceSize = slice,
            SliceVariation = slice is int s ? random.Next(0, s) : 0,
            SliceDelay = slice is null ? TimeSpan.Zero : Duration(),
            Blackhole = random.Next(2) == 0,
            ResetAfterBytes = limitKind == 1 ? Size() : null,
            CloseAfterBytes = limitKind == 2 ? Size() : null,
            HalfCloseAfterBytes = limitKind == 3 ? Size() : null,
        };
    }
}
