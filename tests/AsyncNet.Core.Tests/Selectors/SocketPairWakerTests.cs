using System.Net;
using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

public sealed class SocketPairWakerTests : WakerConformanceTests
{
    private protected override ISelector CreateSelector() => new PortableSelector();

    private protected override Waker CreateWaker() => new SocketPairWaker();

    [Fact]
    public void Constructor_ConnectsANonBlockingLoopbackPair()
    {
        using var waker = new SocketPairWaker();

        Assert.False(waker.Reader.Blocking);
        Assert.True(IPAddress.IsLoopback(((IPEndPoint)waker.Reader.LocalEndPoint!).Address));
        Assert.True(waker.Reader.Connected);
    }
}
