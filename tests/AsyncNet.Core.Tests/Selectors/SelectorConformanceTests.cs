using System.Diagnostics;
using System.Net.Sockets;
using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

/// <summary>
/// The behaviour every <see cref="ISelector"/> must share, over real connected socket pairs. Each concrete
/// subclass runs the whole suite on one implementation, as uvloop runs asyncio's suite on both loops.
/// </summary>
public abstract class SelectorConformanceTests
{
    private const SelectorEvents Read = SelectorEvents.Read;
    private const SelectorEvents Write = SelectorEvents.Write;
    private const SelectorEvents Error = SelectorEvents.Error;
    private const SelectorEvents HangUp = SelectorEvents.HangUp;

    /// <summary>A wait on a descriptor that cannot become ready: long enough to see a wrong report, short enough to run often.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(50);

    /// <summary>The selector under test; each call makes a new one.</summary>
    protected abstract ISelector CreateSelector();

    /// <summary>The name <see cref="object.ToString"/> starts with.</summary>
    protected abstract string Name { get; }

    /// <summary>Whether the selector reports <see cref="SelectorEvents.HangUp"/> where Linux does (poll and epoll do; Socket.Select has no such notion).</summary>
    protected abstract bool ReportsHangUp { get; }

    [Theory]
    [InlineData(PairKind.Tcp)]
    [InlineData(PairKind.Unix)]
    public void Select_FreshConnectedSocket_IsWritableNotReadable(PairKind kind)
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.Create(kind);
        SelectorKey key = selector.Register(pair.Server, Read | Write, "server");

        SelectorReady ready = Assert.Single(selector.SelectBounded(Bounded.Limit));

        Assert.Same(key, ready.Key);
        Assert.Equal(Write, ready.Events);
        Assert.Equal("server", ready.Key.Data);
        Assert.Same(pair.Server, ready.Key.Socket);
        Assert.Equal(pair.ServerFd, ready.Key.Fd);
    }

    [Theory]
    [InlineData(PairKind.Tcp)]
    [InlineData(PairKind.Unix)]
    public void Select_PeerSent_ReportsReadUntilAllDataIsConsumed(PairKind kind)
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.Create(kind);
        SelectorKey key = selector.Register(pair.Server, Read, 7);
        Assert.Empty(selector.SelectBounded(Quiet));

        SocketPair.Send(pair.Client, "hello");
        Assert.Equal(Read, selector.WaitFor(key, Read));

        // Level-triggered: still reported while any byte is unread.
        SelectorReady again = Assert.Single(selector.SelectBounded(TimeSpan.Zero));
        Assert.Equal(new SelectorReady(key, Read), again);
        Assert.Equal(7, again.Key.Data);
        Assert.Equal("hel", SocketPair.Receive(pair.Server, 3));
        Assert.Equal(new SelectorReady(key, Read), Assert.Single(selector.SelectBounded(TimeSpan.Zero)));
        Assert.Equal("lo", SocketPair.Receive(pair.Server, 100));

        Assert.Empty(selector.SelectBounded(Quiet));
    }

    [Fact]
    public void Select_ReadAndWriteInterest_ReportsBothOnceDataArrives()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Read | Write);

        SocketPair.Send(pair.Client, "x");

        Assert.Equal(Read | Write, selector.WaitFor(key, Read | Write));
    }

    [Fact]
    public void Modify_ChangesInterestAndData()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Read, "a");
        Assert.Empty(selector.SelectBounded(Quiet));

        SelectorKey modified = selector.Modify(pair.ServerFd, Write, "b");

        Assert.Same(key, modified);
        Assert.Equal(Write, key.Events);
        Assert.Equal("b", key.Data);
        SelectorReady ready = Assert.Single(selector.SelectBounded(Bounded.Limit));
        Assert.Equal(new SelectorReady(key, Write), ready);
        Assert.Equal("b", ready.Key.Data);

        SocketPair.Send(pair.Client, "x");
        selector.Modify(pair.ServerFd, Read | Write, "c");
        Assert.Equal(Read | Write, selector.WaitFor(key, Read | Write));
        Assert.Equal("c", key.Data);

        selector.Modify(pair.ServerFd, Read, "d");
        Assert.Equal(new SelectorReady(key, Read), Assert.Single(selector.SelectBounded(TimeSpan.Zero)));
        Assert.Equal("d", key.Data);
        Assert.Equal(1, selector.Count);
    }

    [Fact]
    public void Modify_DataOnly_KeepsInterest()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Write, "a");

        selector.Modify(pair.ServerFd, Write, "b");

        SelectorReady ready = Assert.Single(selector.SelectBounded(Bounded.Limit));
        Assert.Equal(new SelectorReady(key, Write), ready);
        Assert.Equal("b", ready.Key.Data);
    }

    [Fact]
    public void Unregister_StopsReportsAndReturnsKey()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey serverKey = selector.Register(pair.Server, Write, "server");
        SelectorKey clientKey = selector.Register(pair.Client, Write, "client");
        Assert.Equal(2, selector.SelectUntil(r => r.Length == 2).Length);

        SelectorKey removed = selector.Unregister(pair.ServerFd);

        Assert.Same(serverKey, removed);
        Assert.Equal(pair.ServerFd, removed.Fd);
        Assert.Equal("server", removed.Data);
        Assert.Equal(1, selector.Count);
        Assert.False(selector.TryGetKey(pair.ServerFd, out _));
        Assert.Equal(new SelectorReady(clientKey, Write), Assert.Single(selector.SelectBounded(Bounded.Limit)));
    }

    [Fact]
    public void Register_AfterUnregister_CreatesFreshKey()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey first = selector.Register(pair.Server, Read, "first");
        selector.Unregister(pair.ServerFd);

        SelectorKey second = selector.Register(pair.Server, Write, "second");

        Assert.NotSame(first, second);
        Assert.True(selector.TryGetKey(pair.ServerFd, out SelectorKey? found));
        Assert.Same(second, found);
        Assert.Equal(new SelectorReady(second, Write), Assert.Single(selector.SelectBounded(Bounded.Limit)));
    }

    [Fact]
    public void Unregister_FromTheMiddle_KeepsTheOthersWatchedWithTheirData()
    {
        using ISelector selector = CreateSelector();
        var pairs = SocketPair.CreateTcpPairs(5);
        try
        {
            for (int i = 0; i < pairs.Count; i++)
            {
                selector.Register(pairs[i].Server, Read, i);
            }

            // Removing from the middle may move other registrations around (poll's swap-remove): the data and
            // readiness reported afterwards must still be each socket's own.
            selector.Unregister(pairs[1].ServerFd);
            selector.Unregister(pairs[3].ServerFd);
            selector.Modify(pairs[4].ServerFd, Read, 40);
            Assert.Equal(3, selector.Count);
            Assert.Empty(selector.SelectBounded(Quiet));

            // Data for 2 and 4, and for unregistered 3, which must not show up under any key; none for 0 or 1.
            SocketPair.Send(pairs[2].Client, "2");
            SocketPair.Send(pairs[3].Client, "3");
            SocketPair.Send(pairs[4].Client, "4");

            SelectorReady[] ready = selector.SelectUntil(r => r.Length >= 2);
            Assert.Equal(2, ready.Length);
            Assert.All(ready, r => Assert.Equal(Read, r.Events));
            Assert.Equal([2, 40], ready.Select(r => (int)r.Key.Data!).Order());
            Assert.Same(pairs[2].Server, ready.Single(r => (int)r.Key.Data! == 2).Key.Socket);
            Assert.Same(pairs[4].Server, ready.Single(r => (int)r.Key.Data! == 40).Key.Socket);
            foreach (int i in new[] { 0, 2, 4 })
            {
                Assert.True(selector.TryGetKey(pairs[i].ServerFd, out SelectorKey? key));
                Assert.Same(pairs[i].Server, key.Socket);
            }
        }
        finally
        {
            pairs.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public void TryGetKey_ReturnsRegisteredKeyOnly()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Read);

        Assert.True(selector.TryGetKey(pair.ServerFd, out SelectorKey? found));
        Assert.Same(key, found);
        Assert.False(selector.TryGetKey(pair.ClientFd, out SelectorKey? missing));
        Assert.Null(missing);
        Assert.False(selector.TryGetKey(-1, out _));
        Assert.False(selector.TryGetKey(1 << 20, out _));
    }

    [Fact]
    public void Select_Timeout_ReturnsEmptyAfterTheTimeout()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        selector.Register(pair.Server, Read);

        var clock = Stopwatch.StartNew();
        SelectorReady[] ready = selector.SelectBounded(TimeSpan.FromMilliseconds(50));
        clock.Stop();

        Assert.Empty(ready);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Select_NothingRegistered_WaitsForTheTimeout()
    {
        using ISelector selector = CreateSelector();

        var clock = Stopwatch.StartNew();
        SelectorReady[] ready = selector.SelectBounded(TimeSpan.FromMilliseconds(50));
        clock.Stop();

        Assert.Empty(ready);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Select_SubMillisecondTimeout_IsRoundedUpNotDown()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        selector.Register(pair.Server, Read);

        var clock = Stopwatch.StartNew();
        SelectorReady[] ready = selector.SelectBounded(TimeSpan.FromTicks(1));
        clock.Stop();

        Assert.Empty(ready);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Select_ZeroOrNegativeTimeout_PollsWithoutWaiting(int milliseconds)
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Read);
        TimeSpan timeout = TimeSpan.FromMilliseconds(milliseconds);

        var clock = Stopwatch.StartNew();
        SelectorReady[] idle = selector.SelectBounded(timeout);
        clock.Stop();
        Assert.Empty(idle);
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(500), $"A poll took {clock.Elapsed.TotalMilliseconds} ms.");

        SocketPair.Send(pair.Client, "x");
        selector.WaitFor(key, Read);
        Assert.Equal(new SelectorReady(key, Read), Assert.Single(selector.SelectBounded(timeout)));
    }

    [Fact]
    public void Select_InfiniteTimeout_ReturnsWhenPeerWritesFromAnotherThread()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Read, "waiting");

        Thread selecting = Bounded.Start(() => selector.Select(timeout: null).ToArray(), out Func<SelectorReady[]> result);
        Assert.False(selecting.Join(TimeSpan.FromMilliseconds(100)), "An infinite select returned with nothing ready.");
        SocketPair.Send(pair.Client, "wake");
        Bounded.Join(selecting, Bounded.Limit);

        SelectorReady ready = Assert.Single(result());
        Assert.Equal(new SelectorReady(key, Read), ready);
        Assert.Equal("waiting", ready.Key.Data);
        Assert.Equal("wake", SocketPair.Receive(pair.Server, 100));
    }

    [Fact]
    public void Select_PeerClosed_ReportsReadAndEndOfStream()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Read);

        pair.Client.Dispose();

        Assert.Equal(Read, selector.WaitFor(key, Read));
        Assert.Equal(string.Empty, SocketPair.Receive(pair.Server, 100)); // 0 bytes with Success: end of stream
    }

    [Fact]
    public void Select_UnixPeerClosed_ReportsReadAndHangUpWhereTheOsDoes()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateUnix();
        SelectorKey key = selector.Register(pair.Server, Read);

        pair.Client.Dispose();

        // Linux marks a Unix-domain socket whose peer closed as hung up (both directions are gone).
        SelectorEvents expected = ReportsHangUp && OperatingSystem.IsLinux() ? Read | HangUp : Read;
        Assert.Equal(expected, selector.WaitFor(key, Read));
        Assert.Equal(string.Empty, SocketPair.Receive(pair.Server, 100));
    }

    [Fact]
    public void Select_PeerReset_ReportsErrorBesideRead()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Read);

        pair.ResetClient();

        Assert.Equal(ReportsHangUp ? Read | Error | HangUp : Read | Error, selector.WaitFor(key, Read | Error));
        pair.Server.Receive(new byte[10], SocketFlags.None, out SocketError error);
        Assert.Equal(SocketError.ConnectionReset, error);
    }

    [Fact]
    public void Select_PeerReset_ReportsErrorBesideWriteOnlyInterest()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Write);
        Assert.Equal(Write, selector.WaitFor(key, Write));

        pair.ResetClient();

        Assert.Equal(ReportsHangUp ? Write | Error | HangUp : Write | Error, selector.WaitFor(key, Write | Error));
    }

    [Fact]
    public void Select_MoreThan1024Descriptors_ReportsEveryOne()
    {
        const int PairCount = 1100; // 2,200 sockets, numbered well past select()'s FD_SETSIZE of 1,024
        Assert.True(TestLibc.SoftFdLimit >= 4096, $"RLIMIT_NOFILE is {TestLibc.SoftFdLimit}; the test needs 4,096.");
        using ISelector selector = CreateSelector();
        List<SocketPair> pairs = SocketPair.CreateTcpPairs(PairCount);
        try
        {
            Assert.True(pairs.Max(p => Math.Max(p.ClientFd, p.ServerFd)) >= 1024);
            for (int i = 0; i < PairCount; i++)
            {
                selector.Register(pairs[i].Server, Read, i);
                selector.Register(pairs[i].Client, Write, -1 - i);
                SocketPair.Send(pairs[i].Client, ((char)('a' + (i % 26))).ToString());
            }

            Assert.Equal(2 * PairCount, selector.Count);

            // A selector may return fewer than all at once (epoll: 1,024 a call); the rest stay ready.
            var seen = new Dictionary<SelectorKey, SelectorEvents>();
            selector.SelectUntil(ready =>
            {
                foreach (SelectorReady r in ready)
                {
                    seen[r.Key] = r.Events;
                }

                return seen.Count == 2 * PairCount;
            });

            for (int i = 0; i < PairCount; i++)
            {
                Assert.True(selector.TryGetKey(pairs[i].ServerFd, out SelectorKey? serverKey));
                Assert.Equal(Read, seen[serverKey]);
                Assert.Equal(i, serverKey.Data);
                Assert.Equal(((char)('a' + (i % 26))).ToString(), SocketPair.Receive(pairs[i].Server, 10));

                Assert.True(selector.TryGetKey(pairs[i].ClientFd, out SelectorKey? clientKey));
                Assert.Equal(Write, seen[clientKey]);
                Assert.Equal(-1 - i, clientKey.Data);
            }

            for (int i = 0; i < PairCount; i++)
            {
                selector.Unregister(pairs[i].ServerFd);
                selector.Unregister(pairs[i].ClientFd);
            }

            Assert.Equal(0, selector.Count);
        }
        finally
        {
            pairs.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public void Register_SameSocketTwice_ThrowsArgumentException()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Read, "first");

        Assert.Throws<ArgumentException>("socket", () => selector.Register(pair.Server, Write, "second"));

        Assert.Equal(1, selector.Count);
        Assert.Equal(Read, key.Events);
        Assert.Equal("first", key.Data);
    }

    [Fact]
    public void Register_ClosedSocket_ThrowsArgumentException()
    {
        using ISelector selector = CreateSelector();
        var pair = SocketPair.CreateTcp();
        pair.Dispose();

        Assert.Throws<ArgumentException>("socket", () => selector.Register(pair.Server, Read));
        Assert.Equal(0, selector.Count);
    }

    [Fact]
    public void Register_NullSocket_ThrowsArgumentNullException()
    {
        using ISelector selector = CreateSelector();

        Assert.Throws<ArgumentNullException>("socket", () => selector.Register((Socket)null!, Read));
    }

    [Theory]
    [InlineData(SelectorEvents.None)]
    [InlineData(SelectorEvents.Error)]
    [InlineData(SelectorEvents.HangUp)]
    [InlineData(SelectorEvents.Read | SelectorEvents.Error)]
    [InlineData(SelectorEvents.Write | SelectorEvents.HangUp)]
    [InlineData((SelectorEvents)16)]
    public void Register_InvalidInterest_ThrowsArgumentException(SelectorEvents events)
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();

        Assert.Throws<ArgumentException>("events", () => selector.Register(pair.Server, events));
        Assert.Equal(0, selector.Count);
    }

    [Theory]
    [InlineData(SelectorEvents.None)]
    [InlineData(SelectorEvents.Error)]
    [InlineData(SelectorEvents.Read | SelectorEvents.Write | SelectorEvents.HangUp)]
    public void Modify_InvalidInterest_ThrowsAndKeepsTheKey(SelectorEvents events)
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        SelectorKey key = selector.Register(pair.Server, Write, "kept");

        Assert.Throws<ArgumentException>("events", () => selector.Modify(pair.ServerFd, events, "lost"));

        Assert.Equal(Write, key.Events);
        Assert.Equal("kept", key.Data);
        Assert.Equal(new SelectorReady(key, Write), Assert.Single(selector.SelectBounded(Bounded.Limit)));
    }

    [Fact]
    public void ModifyOrUnregister_UnknownDescriptor_ThrowsKeyNotFound()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        selector.Register(pair.Client, Read);

        Assert.Throws<KeyNotFoundException>(() => selector.Modify(pair.ServerFd, Read, null));
        Assert.Throws<KeyNotFoundException>(() => selector.Unregister(pair.ServerFd));
        Assert.Throws<KeyNotFoundException>(() => selector.Unregister(1 << 20));
        Assert.Throws<KeyNotFoundException>(() => selector.Modify(-1, Read, null));
        Assert.Equal(1, selector.Count);
    }

    [Fact]
    public void Unregister_Twice_ThrowsKeyNotFound()
    {
        using ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        selector.Register(pair.Server, Read);
        selector.Unregister(pair.ServerFd);

        Assert.Throws<KeyNotFoundException>(() => selector.Unregister(pair.ServerFd));
    }

    [Fact]
    public void ClosedSelector_EveryCallThrowsObjectDisposed()
    {
        ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        selector.Register(pair.Server, Read);

        selector.Dispose();
        selector.Dispose(); // idempotent

        Assert.True(selector.IsClosed);
        Assert.Equal(0, selector.Count);
        Assert.Throws<ObjectDisposedException>(() => selector.Register(pair.Client, Read));
        Assert.Throws<ObjectDisposedException>(() => selector.Register(pair.ClientFd, Read));
        Assert.Throws<ObjectDisposedException>(() => selector.Modify(pair.ServerFd, Write, null));
        Assert.Throws<ObjectDisposedException>(() => selector.Unregister(pair.ServerFd));
        Assert.Throws<ObjectDisposedException>(() => selector.TryGetKey(pair.ServerFd, out _));
        Assert.Throws<ObjectDisposedException>(() => selector.Select(TimeSpan.Zero).Length);
        Assert.Throws<ObjectDisposedException>(() => selector.Select(timeout: null).Length);
    }

    [Fact]
    public void ToString_ShowsKindCountAndClosed()
    {
        ISelector selector = CreateSelector();
        using var pair = SocketPair.CreateTcp();
        Assert.Equal($"{Name}(Count=0)", selector.ToString());
        selector.Register(pair.Server, Read);
        selector.Register(pair.Client, Write);
        Assert.Equal($"{Name}(Count=2)", selector.ToString());

        selector.Dispose();

        Assert.Equal($"{Name}(Count=0, Closed)", selector.ToString());
    }
}
