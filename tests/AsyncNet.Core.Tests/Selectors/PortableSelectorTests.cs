using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

public sealed class PortableSelectorTests : SelectorConformanceTests
{
    protected override string Name => "PortableSelector";

    protected override bool ReportsHangUp => false;

    protected override ISelector CreateSelector() => new PortableSelector();

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(5)]
    public void Register_Descriptor_ThrowsNotSupported(int fd)
    {
        using var selector = new PortableSelector();

        var error = Assert.Throws<NotSupportedException>(() => selector.Register(fd, SelectorEvents.Read));

        Assert.Contains("sockets only", error.Message);
        Assert.Equal(0, selector.Count);
    }

    [Fact]
    public void Keys_UseTheSocketHandleAsDescriptor()
    {
        using var selector = new PortableSelector();
        using var pair = SocketPair.CreateTcp();

        SelectorKey key = selector.Register(pair.Server, SelectorEvents.Read);

        Assert.Equal(pair.ServerFd, key.Fd);
        Assert.Same(key, selector.Modify(pair.ServerFd, SelectorEvents.Write, null));
        Assert.Same(key, selector.Unregister(pair.ServerFd));
    }
}
