using Xunit.Abstractions;

namespace AsyncNet.Streams.Tests.Soak;

/// <summary>Connections made and aborted by the hundred thousand leave no descriptor behind.</summary>
[Trait("Category", "Soak")]
[Collection("Soak")]
public sealed class ConnectionChurnSoakTests(ITestOutputHelper output) : IDisposable
{
    private const int Workers = 8;

    private const int Warmup = 100;

    private readonly StreamTestLoop _test = new();

    private long _handled;
    private int _peak;

    public void Dispose() => _test.Dispose();

    [SoakFact]
    public void ConnectAndAbort_HundredThousandTimes_LeavesTheDescriptorCountAtItsBaseline()
    {
        long cycles = SoakRun.Setting("ASYNCNET_SOAK_CYCLES", 100_000);
        int baseline = 0;
        HashSet<string> before = [];
        var started = System.Diagnostics.Stopwatch.StartNew();
        _test.Run(
            async () =>
            {
                // Each handler waits for its peer's abort: the server end is lost, not left open.
                StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, async (reader, _) =>
                {
                    try
                    {
                        await reader.ReadToEndAsync();
                    }
                    catch (IOException)
                    {
                        // A reset: the abort as the server sees it.
                    }

                    _handled++;
                });

                // A warm-up round first: whatever the runtime opens once (and keeps) is in the baseline.
                await CyclesAsync(server, Warmup);
                baseline = SoakRun.OpenDescriptors();
                before = SoakRun.DescribeDescriptors();
                await CyclesAsync(server, cycles);

                await server.DisposeAsync();
            },
            seconds: 600);

        // The server's listening socket is closed now, so the count ends one below the baseline taken beside it.
        int final = SoakRun.OpenDescriptors();
        SoakRun.Report(output, $"connect/abort soak: {cycles:N0} cycles ({Workers} at a time) in {started.Elapsed.TotalSeconds:0.0} s; socket, pipe and epoll descriptors {baseline} before, at most {_peak} during, {final} after (listener closed)");
        Assert.Equal(Warmup + cycles, _handled);
        Assert.True(final == baseline - 1, "Left open: " + string.Join(", ", SoakRun.DescribeDescriptors().Except(before)));
    }

    /// <summary>Makes and aborts <paramref name="count"/> connections, <see cref="Workers"/> at a time, then waits until the server lost them all.</summary>
    private async Task CyclesAsync(StreamServer server, long count)
    {
        long target = _handled + count;
        long next = 0;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(async _ =>
        {
            while (next++ < count)
            {
                (StreamReader _, StreamWriter writer) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
                writer.Transport.Abort();
                if (next % 1000 == 0)
                {
                    _peak = Math.Max(_peak, SoakRun.OpenDescriptors());
                }
            }
        }));

        while (_handled < target || server.ActiveHandlers > 0)
        {
            await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(10));
        }
    }
}
