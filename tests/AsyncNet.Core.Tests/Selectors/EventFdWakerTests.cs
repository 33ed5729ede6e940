using System.Runtime.Versioning;
using AsyncNet.Interop;
using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

[SupportedOSPlatform("linux")]
public sealed class EventFdWakerTests : WakerConformanceTests
{
    private protected override ISelector CreateSelector() => new EpollSelector();

    private protected override Waker CreateWaker() => new EventFdWaker();

    [Fact]
    public void Constructor_CreatesNonBlockingCloseOnExecDescriptor()
    {
        using var waker = new EventFdWaker();

        Assert.NotEqual(0, Libc.Fcntl(waker.Fd, Libc.F_GETFL) & Libc.O_NONBLOCK);
        Assert.Equal(Libc.FD_CLOEXEC, Libc.Fcntl(waker.Fd, Libc.F_GETFD) & Libc.FD_CLOEXEC);
    }

    [Fact]
    public void Register_AfterDispose_ThrowsObjectDisposed()
    {
        using var selector = new EpollSelector();
        var waker = new EventFdWaker();
        waker.Dispose();

        Assert.Throws<ObjectDisposedException>(() => waker.Register(selector, null));
        Assert.Equal(0, selector.Count);
    }
}
