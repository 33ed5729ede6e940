using System.Runtime.Versioning;
using AsyncNet.Interop;
using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

/// <summary>The pipe2 route (Linux), with the poll selector other POSIX systems pair it with.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class PipeWakerTests : WakerConformanceTests
{
    private protected override ISelector CreateSelector() => new PollSelector();

    private protected override Waker CreateWaker() => new PipeWaker();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Constructor_CreatesNonBlockingCloseOnExecEnds(bool usePipe2)
    {
        using var waker = new PipeWaker(usePipe2);

        foreach (int fd in new[] { waker.ReadFd, waker.WriteFd })
        {
            Assert.NotEqual(0, Libc.Fcntl(fd, Libc.F_GETFL) & Libc.O_NONBLOCK);
            Assert.Equal(Libc.FD_CLOEXEC, Libc.Fcntl(fd, Libc.F_GETFD) & Libc.FD_CLOEXEC);
        }
    }
}

/// <summary>The pipe-then-fcntl route that macOS and the BSDs take, run on Linux.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class PipeWakerWithoutPipe2Tests : WakerConformanceTests
{
    private protected override ISelector CreateSelector() => new PollSelector();

    private protected override Waker CreateWaker() => new PipeWaker(usePipe2: false);
}
