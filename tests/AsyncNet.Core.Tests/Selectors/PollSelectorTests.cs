using System.Runtime.Versioning;
using AsyncNet.Interop;
using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

[UnsupportedOSPlatform("windows")]
public sealed class PollSelectorTests : NativeSelectorConformanceTests
{
    protected override string Name => "PollSelector";

    protected override bool ReportsHangUp => true;

    protected override ISelector CreateSelector() => new PollSelector();

    [Fact]
    public void Select_DescriptorClosedWhileRegistered_ReportsError()
    {
        using var selector = new PollSelector();
        int fd = TestLibc.NextHighFd();
        var (readEnd, writeEnd) = TestLibc.CreatePipe();
        using (readEnd)
        using (writeEnd)
        {
            TestLibc.Dup2(readEnd.Fd, fd);
            SelectorKey key = selector.Register(fd, SelectorEvents.Read);
            Assert.Equal(0, Libc.close(fd));

            // POLLNVAL: the loop hears of it as an error on the interest, and unregisters.
            Assert.Equal(new SelectorReady(key, SelectorEvents.Read | SelectorEvents.Error), Assert.Single(selector.SelectBounded(Bounded.Limit)));
            Assert.Same(key, selector.Unregister(fd));
            Assert.Empty(selector.SelectBounded(TimeSpan.Zero));
        }
    }

    [Fact]
    public void Unregister_SwapRemove_KeepsSlotsDenseAndConsistent()
    {
        using var selector = new PollSelector();
        List<SocketPair> pairs = SocketPair.CreateTcpPairs(100); // past the initial capacity of 64 slots
        try
        {
            var keys = pairs.Select((p, i) => selector.Register(p.Server, SelectorEvents.Read, i)).ToList();
            for (int i = 0; i < pairs.Count; i += 3)
            {
                selector.Unregister(pairs[i].ServerFd);
            }

            var live = keys.Where((_, i) => i % 3 != 0).ToList();
            Assert.Equal(live.Count, selector.Count);
            Assert.Equal(Enumerable.Range(0, live.Count), live.Select(k => k.Slot).Order());
            Assert.All(keys.Where((_, i) => i % 3 == 0), k => Assert.Equal(-1, k.Slot));

            // Every pair gets data, removed ones included: only live keys may be reported, each for its own socket.
            pairs.ForEach(p => SocketPair.Send(p.Client, "x"));
            SelectorReady[] ready = selector.SelectUntil(r => r.Length >= live.Count);
            Assert.Equal(live.Select(k => (int)k.Data!), ready.Select(r => (int)r.Key.Data!).Order());
            Assert.All(ready, r => Assert.Same(pairs[(int)r.Key.Data!].Server, r.Key.Socket));
        }
        finally
        {
            pairs.ForEach(p => p.Dispose());
        }
    }
}
