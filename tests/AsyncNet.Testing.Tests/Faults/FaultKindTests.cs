using System.Net;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Testing.Faults;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;
using static AsyncNet.Testing.Tests.Support.ProxyTestLoop;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Testing.Tests.Faults;

/// <summary>
/// Each fault kind over real sockets: what arrives, when, and how the connection ends. Timing bounds are one-sided
/// where load can only make things slower (a delay is at least the latency), and generous where it cannot.
/// </summary>
public sealed class FaultKindTests : IDisposable
{
    /// <summary>The most a loaded 2-core machine is allowed to add to a delay before a test calls it wrong.</summary>
    private static readonly TimeSpan s_slack = TimeSpan.FromSeconds(3);

    private readonly ProxyTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    public static TheoryData<FaultDirection> Directions => [FaultDirection.ClientToUpstream, FaultDirection.UpstreamToClient];

    [Theory]
    [MemberData(nameof(Directions))]
    public void Latency_HoldsEveryReadForAtLeastTheLatency_InEitherDirection(FaultDirection direction)
    {
        TimeSpan latency = TimeSpan.FromMilliseconds(150);
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync);
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, WithFaults(direction, new FaultSpec { Latency = latency })))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                for (int i = 0; i < 4; i++)
                {
                    TimeSpan start = _test.Loop.Time;
                    writer.Write(Bytes.Ascii($"ping {i}"));
                    Assert.Equal($"ping {i}", Bytes.Text(await reader.ReadExactlyAsync(6)));
                    TimeSpan roundTrip = _test.Loop.Time - start;
                    Assert.InRange(roundTrip, latency, latency + s_slack);
                }
            }
        });
    }

    [Fact]
    public void Jitter_SpreadsTheDelaysOverLatencyPlusOrMinusJitter()
    {
        TimeSpan latency = TimeSpan.FromMilliseconds(120);
        TimeSpan jitter = TimeSpan.FromMilliseconds(100);
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync);
            var options = new FaultProxyOptions { UpstreamToClient = new FaultSpec { Latency = latency, Jitter = jitter }, Seed = 7 };
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, options))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);

                // A first exchange warms the path up (connect, JIT), so its cost does not pass for jitter.
                writer.Write([0]);
                await reader.ReadExactlyAsync(1);
                var roundTrips = new List<TimeSpan>();
                for (int i = 1; i <= 12; i++)
                {
                    TimeSpan start = _test.Loop.Time;
                    writer.Write([(byte)i]);
                    Assert.Equal(i, (await reader.ReadExactlyAsync(1))[0]);
                    roundTrips.Add(_test.Loop.Time - start);
                }

                // Delays are drawn from [20 ms, 220 ms]: twelve of them, spread well apart (a fixed delay would not spread).
                Assert.All(roundTrips, t => Assert.InRange(t, latency - jitter, latency + jitter + s_slack));
                Assert.True(roundTrips.Max() - roundTrips.Min() >= TimeSpan.FromMilliseconds(60), $"Round trips: {string.Join(", ", roundTrips.Select(t => t.TotalMilliseconds))} ms");
            }
        });
    }

    [Fact]
    public void Latency_RunsOnTheLoopClock_NothingLeavesBeforeItAndEverythingRightAfter()
    {
        // A manual clock: the proxy's timers fire when the test moves the clock, and never before.
        var clock = new ManualTimeProvider();
        using var loop = new EventLoop(new EventLoopOptions { TimeProvider = clock });
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using CancellationTokenRegistration stop = guard.Token.Register(loop.Stop);
        loop.RunUntilComplete(async () =>
        {
            await using StreamServer server = await loop.StartServerAsync(EchoAsync, "127.0.0.1", 0);
            var options = new FaultProxyOptions { ClientToUpstream = new FaultSpec { Latency = TimeSpan.FromMilliseconds(100) } };
            await using FaultProxy proxy = await FaultProxy.StartAsync(loop, server.Sockets[0].LocalEndPoint!, options);
            var (reader, writer) = await loop.OpenConnectionAsync("127.0.0.1", proxy.Port);
            writer.Write(Bytes.Ascii("hello"));
            while (proxy.GetHeldBytes(FaultDirection.ClientToUpstream) != 5)
            {
                await Task.Delay(1, guard.Token);
            }

            clock.Advance(TimeSpan.FromMilliseconds(99.9));
            for (int i = 0; i < 5; i++)
            {
                await loop.SleepAsync(TimeSpan.Zero);
            }

            Assert.Equal((5, 0), (proxy.GetHeldBytes(FaultDirection.ClientToUpstream), proxy.GetForwardedBytes(FaultDirection.ClientToUpstream)));

            clock.Advance(TimeSpan.FromMilliseconds(0.1));
            Assert.Equal("hello", Bytes.Text(await reader.ReadExactlyAsync(5)));
            Assert.Equal((0, 5), (proxy.GetHeldBytes(FaultDirection.ClientToUpstream), proxy.GetForwardedBytes(FaultDirection.ClientToUpstream)));
            writer.Close();
        });
        Assert.False(guard.IsCancellationRequested, "The test finished before its 20 s guard");
    }

    [Fact]
    public void Bandwidth_LimitsTheRate_AndTheBytesArriveWhole()
    {
        const int size = 100 * 1024;
        const int rate = 200 * 1024;
        byte[] body = RandomBytes(size);
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(async (reader, writer) =>
            {
                await reader.ReadExactlyAsync(1);
                writer.Write(body);
                await writer.DrainAsync();
            });
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, new FaultProxyOptions { UpstreamToClient = new FaultSpec { BandwidthBytesPerSecond = rate } }))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                TimeSpan start = _test.Loop.Time;
                writer.Write([1]);
                byte[] received = await reader.ReadExactlyAsync(size);
                TimeSpan elapsed = _test.Loop.Time - start;

                // 100 KiB at 200 KiB/s: half a second, less the first 20 ms piece that leaves at once.
                Assert.InRange(elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromMilliseconds(500) + s_slack);
                Assert.Equal(Sha256(body), Sha256(received));
            }
        });
    }

    [Fact]
    public void SlowDirection_StopsReadingTheSender_HoldingNoMoreThanTheBound_ThenDeliversEverythingWhenCleared()
    {
        const int size = 2 * 1024 * 1024;
        const int maxHeld = 32 * 1024;
        byte[] body = RandomBytes(size, seed: 3);
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream, Task drained) = await StartBulkUpstreamAsync(body);
            var options = new FaultProxyOptions
            {
                UpstreamToClient = new FaultSpec { BandwidthBytesPerSecond = 64 * 1024 },
                MaxHeldBytes = maxHeld,
                UpstreamOptions = new ConnectionOptions { ReceiveBufferSize = 8 * 1024 },
            };
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, options))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                Task<byte[]> received = reader.ReadExactlyAsync(size).AsTask();

                // For a second the proxy forwards ~64 KiB and holds at most its bound plus one read; the sender backs up.
                long mostHeld = 0;
                TimeSpan until = _test.Loop.Time + TimeSpan.FromSeconds(1);
                while (_test.Loop.Time < until)
                {
                    mostHeld = Math.Max(mostHeld, proxy.GetHeldBytes(FaultDirection.UpstreamToClient));
                    await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(2));
                }

                Assert.False(drained.IsCompleted, "The sender's writes back up behind the slow direction");
                Assert.InRange(mostHeld, 1, maxHeld + StreamTransportOptions.DefaultReadBufferSize);
                Assert.InRange(proxy.GetForwardedBytes(FaultDirection.UpstreamToClient), 1, 256 * 1024);

                proxy.SetFaults(FaultSpec.None);
                Assert.Equal(Sha256(body), Sha256(await received));
                await drained;
                writer.Close();
            }
        });
    }

    [Fact]
    public void ClientStopsReading_ProxyStopsReadingTheUpstream_ThenForwardsEverythingWhenItReadsAgain()
    {
        const int size = 4 * 1024 * 1024;
        byte[] body = RandomBytes(size, seed: 4);
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream, Task drained) = await StartBulkUpstreamAsync(body);
            var options = new FaultProxyOptions
            {
                ServerOptions = new ServerOptions { SendBufferSize = 8 * 1024 },
                UpstreamOptions = new ConnectionOptions { ReceiveBufferSize = 8 * 1024 },
            };
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, options))
            {
                var (reader, writer) = await _test.OpenAsync(proxy, new ConnectionOptions { ReceiveBufferSize = 8 * 1024 });

                // The client reads nothing: its reader fills to its limit, its kernel buffer fills, the proxy's write
                // buffer to it passes the high mark, and the proxy stops reading the upstream, whose drain then waits.
                await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(500));
                Assert.False(drained.IsCompleted, "The upstream's writes back up behind the client that does not read");
                Assert.InRange(proxy.GetForwardedBytes(FaultDirection.UpstreamToClient), 1, size / 2);

                Assert.Equal(Sha256(body), Sha256(await reader.ReadExactlyAsync(size)));
                await drained;
                writer.Close();
            }
        });
    }

    [Fact]
    public void Slicing_CutsEachReadIntoPieces_WithTheDelayBetweenThem()
    {
        byte[] body = RandomBytes(100, seed: 5);
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(async (reader, writer) =>
            {
                await reader.ReadExactlyAsync(1);
                writer.Write(body);
                await writer.DrainAsync();
                await reader.ReadAsync(1);
            });
            var options = new FaultProxyOptions { UpstreamToClient = FaultSpec.Parse("slice=10,slice-variation=5,slice-delay=20ms"), Seed = 11 };
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, options))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                TimeSpan start = _test.Loop.Time;
                writer.Write([1]);
                var reads = new List<byte[]>();
                while (reads.Sum(r => r.Length) < body.Length)
                {
                    reads.Add(await reader.ReadAsync(4096));
                }

                TimeSpan elapsed = _test.Loop.Time - start;

                // Pieces of 5 to 15 bytes: at least 7 of them, 20 ms apart; each arrives on its own unless the loop stalled.
                Assert.Equal(body, reads.SelectMany(r => r).ToArray());
                Assert.True(elapsed >= TimeSpan.FromMilliseconds(6 * 20), $"{reads.Count} pieces in {elapsed.TotalMilliseconds} ms");
                Assert.InRange(reads.Count, 4, 20);
                Assert.All(reads, r => Assert.InRange(r.Length, 1, 30));
                writer.Close();
            }
        });
    }

    [Fact]
    public void Blackhole_AcceptsAndConnects_ForwardsNothing_AndClearingItDeliversEverythingInOrder()
    {
        _test.Run(async () =>
        {
            var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var firstBytes = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(async (reader, writer) =>
            {
                connected.SetResult();
                writer.Write(Bytes.Ascii("welcome"));
                firstBytes.SetResult(await reader.ReadExactlyAsync(5));
                await EchoAsync(reader, writer);
            });
            var options = new FaultProxyOptions { ClientToUpstream = FaultSpec.Parse("blackhole"), UpstreamToClient = FaultSpec.Parse("blackhole") };
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, options))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                writer.Write(Bytes.Ascii("hello"));
                await connected.Task;
                Task<byte[]> welcome = reader.ReadExactlyAsync(7).AsTask();

                // A negative check needs a wait: a third of a second in which nothing may move.
                await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(300));
                Assert.False(firstBytes.Task.IsCompleted, "Nothing reaches the upstream");
                Assert.False(welcome.IsCompleted, "Nothing reaches the client");
                Assert.Equal(0, proxy.GetForwardedBytes(FaultDirection.ClientToUpstream) + proxy.GetForwardedBytes(FaultDirection.UpstreamToClient));

                // Not read either: the bytes wait in the kernel's buffers, so the proxy holds nothing.
                Assert.Equal(0, proxy.GetHeldBytes(FaultDirection.ClientToUpstream) + proxy.GetHeldBytes(FaultDirection.UpstreamToClient));
                Assert.Equal(1, proxy.ConnectionCount);

                proxy.SetFaults(FaultSpec.None);
                Assert.Equal("hello", Bytes.Text(await firstBytes.Task));
                Assert.Equal("welcome", Bytes.Text(await welcome));
                writer.Write(Bytes.Ascii(" again"));
                Assert.Equal(" again", Bytes.Text(await reader.ReadExactlyAsync(6)));
                writer.Close();
            }
        });
    }

    [Theory]
    [InlineData("tcp4")]
    [InlineData("tcp6")]
    public void ResetAfter_ForwardsExactlyThatMany_ThenBothPeersSeeAReset(string family)
    {
        byte[] body = RandomBytes(5000, seed: 6);
        _test.Run(async () =>
        {
            var upstreamSaw = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(
                async (reader, writer) =>
                {
                    writer.Write(body);
                    upstreamSaw.SetResult(await Record(async () => await reader.ReadAsync(1)));
                },
                family);
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, new FaultProxyOptions { UpstreamToClient = FaultSpec.Parse("reset-after=1000") }, family))
            {
                var (reader, _) = await _test.OpenAsync(proxy);
                var received = new MemoryStream();
                Exception? error = await Record(async () =>
                {
                    while (true)
                    {
                        byte[] chunk = await reader.ReadAsync(4096);
                        Assert.NotEmpty(chunk);
                        received.Write(chunk);
                    }
                });

                Assert.IsType<ConnectionResetException>(error);
                Assert.Equal(body[..1000], received.ToArray());
                Assert.IsType<ConnectionResetException>(await upstreamSaw.Task);
                Assert.Equal(1000, proxy.GetForwardedBytes(FaultDirection.UpstreamToClient));
            }
        });
    }

    [Fact]
    public void ResetAfterZero_ResetsTheClientAsSoonAsTheUpstreamIsConnected()
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync);
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, new FaultProxyOptions { ClientToUpstream = FaultSpec.Parse("reset-after=0") }))
            {
                var (reader, _) = await _test.OpenAsync(proxy);
                await Assert.ThrowsAsync<ConnectionResetException>(async () => await reader.ReadAsync(1));
            }
        });
    }

    [Theory]
    [MemberData(nameof(Families), MemberType = typeof(ProxyTestLoop))]
    public void CloseAfter_ForwardsExactlyThatMany_ThenTheClientSeesEof(string family)
    {
        byte[] body = RandomBytes(5000, seed: 8);
        _test.Run(async () =>
        {
            var upstreamEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(
                async (reader, writer) =>
                {
                    writer.Write(body);

                    // The proxy closes this side too: an EOF, or a reset if it left bytes unread when it closed.
                    Exception? error = await Record(async () => Assert.Empty(await reader.ReadAsync(1)));
                    Assert.True(error is null or ConnectionResetException, $"Unexpected {error}");
                    upstreamEnded.SetResult();
                },
                family);
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, new FaultProxyOptions { UpstreamToClient = FaultSpec.Parse("close-after=1000") }, family))
            {
                var (reader, _) = await _test.OpenAsync(proxy);
                Assert.Equal(body[..1000], await ReadToEndAsync(reader));
                await upstreamEnded.Task;
                Assert.Equal(1000, proxy.GetForwardedBytes(FaultDirection.UpstreamToClient));
            }
        });
    }

    [Fact]
    public void HalfCloseAfter_SendsEofThatWay_WhileTheOtherDirectionGoesOn()
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(async (reader, writer) =>
            {
                byte[] request = await ReadToEndAsync(reader);
                writer.Write(Bytes.Ascii($"you said '{Bytes.Text(request)}'"));
                await writer.DrainAsync();
                writer.Close();
            });
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, new FaultProxyOptions { ClientToUpstream = FaultSpec.Parse("half-close-after=5") }))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                writer.Write(Bytes.Ascii("hello world"));
                Assert.Equal("you said 'hello'", Bytes.Text(await ReadToEndAsync(reader)));
                Assert.Equal(5, proxy.GetForwardedBytes(FaultDirection.ClientToUpstream));
                Assert.Equal(6, proxy.GetDroppedBytes(FaultDirection.ClientToUpstream));
            }
        });
    }

    /// <summary>
    /// An upstream that writes <paramref name="body"/> to each client at once, through a small kernel send buffer, and
    /// whose returned task completes when its drain does (the bytes left its write buffer).
    /// </summary>
    private async Task<(StreamServer Server, EndPoint EndPoint, Task Drained)> StartBulkUpstreamAsync(byte[] body)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(
            async (reader, writer) =>
            {
                writer.Write(body);
                await writer.DrainAsync();
                drained.SetResult();
                await reader.ReadAsync(1);
            },
            serverOptions: new ServerOptions { SendBufferSize = 8 * 1024 });
        return (server, upstream, drained.Task);
    }

    private static FaultProxyOptions WithFaults(FaultDirection direction, FaultSpec faults) =>
        direction == FaultDirection.ClientToUpstream ? new FaultProxyOptions { ClientToUpstream = faults } : new FaultProxyOptions { UpstreamToClient = faults };

    /// <summary>Runs <paramref name="body"/> and returns what it threw, or null.</summary>
    private static async Task<Exception?> Record(Func<Task> body)
    {
        try
        {
            await body();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
