using System.Runtime.Versioning;
using AsyncNet.Interop;
using AsyncNet.Selectors;
using Microsoft.Win32.SafeHandles;

namespace AsyncNet.Core.Tests.Selectors;

[SupportedOSPlatform("linux")]
public sealed class EpollSelectorTests : NativeSelectorConformanceTests
{
    protected override string Name => "EpollSelector";

    protected override bool ReportsHangUp => true;

    protected override ISelector CreateSelector() => new EpollSelector();

    [Fact]
    public void Register_RegularFile_ThrowsArgumentException()
    {
        using var selector = new EpollSelector();
        string path = Path.GetTempFileName();
        try
        {
            using SafeFileHandle file = File.OpenHandle(path);

            var error = Assert.Throws<ArgumentException>("fd", () => selector.Register((int)file.DangerousGetHandle(), SelectorEvents.Read));
            Assert.Contains("PollSelector", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Select_MoreReadyThanOneWaitHolds_ReturnsTheRestNextCall()
    {
        using var selector = new EpollSelector();
        List<SocketPair> pairs = SocketPair.CreateTcpPairs(600);
        try
        {
            foreach (SocketPair pair in pairs)
            {
                selector.Register(pair.Server, SelectorEvents.Write);
                selector.Register(pair.Client, SelectorEvents.Write);
            }

            var first = selector.Select(TimeSpan.FromSeconds(5)).ToArray();
            var second = selector.Select(TimeSpan.FromSeconds(5)).ToArray();

            Assert.Equal(1024, first.Length);
            Assert.Equal(1024, second.Length);
            Assert.Equal(1200, first.Concat(second).Select(r => r.Key).Distinct().Count());
        }
        finally
        {
            pairs.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public void Select_DescriptorClosedWhileRegistered_IsNoLongerReported()
    {
        using var selector = new EpollSelector();
        int fd = TestLibc.NextHighFd();
        var (readEnd, writeEnd) = TestLibc.CreatePipe();
        using (writeEnd)
        {
            TestLibc.Dup2(readEnd.Fd, fd);
            readEnd.Dispose(); // fd is now the only descriptor of the read end
            SelectorKey key = selector.Register(fd, SelectorEvents.Read);
            TestLibc.WriteByte(writeEnd, 1);
            Assert.Equal(new SelectorReady(key, SelectorEvents.Read), Assert.Single(selector.SelectBounded(Bounded.Limit)));

            Assert.Equal(0, Libc.close(fd)); // the last reference: the kernel drops the registration

            Assert.Empty(selector.SelectBounded(TimeSpan.FromMilliseconds(20)));
            Assert.Throws<ArgumentException>("fd", () => selector.Modify(fd, SelectorEvents.Write, null));
            Assert.Same(key, selector.Unregister(fd));
        }
    }
}
