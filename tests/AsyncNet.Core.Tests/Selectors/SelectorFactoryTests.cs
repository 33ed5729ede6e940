using System.Runtime.Versioning;
using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

/// <summary>The factory's choices on Linux, where the suite runs.</summary>
[SupportedOSPlatform("linux")]
public sealed class SelectorFactoryTests
{
    [Fact]
    public void CreateDefault_OnLinux_IsEpoll()
    {
        using ISelector selector = SelectorFactory.CreateDefault();

        Assert.IsType<EpollSelector>(selector);
        Assert.False(selector.IsClosed);
    }

    [Theory]
    [InlineData(SelectorKind.Default, typeof(EpollSelector))]
    [InlineData(SelectorKind.Epoll, typeof(EpollSelector))]
    [InlineData(SelectorKind.Poll, typeof(PollSelector))]
    [InlineData(SelectorKind.Portable, typeof(PortableSelector))]
    public void Create_BuildsTheKindAskedFor(SelectorKind kind, Type expected)
    {
        using ISelector selector = SelectorFactory.Create(kind);

        Assert.IsType(expected, selector);
    }

    [Fact]
    public void Create_UndefinedKind_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>("kind", () => SelectorFactory.Create((SelectorKind)42));
    }

    [Theory]
    [InlineData(SelectorKind.Epoll, typeof(EventFdWaker))]
    [InlineData(SelectorKind.Poll, typeof(EventFdWaker))]
    [InlineData(SelectorKind.Portable, typeof(SocketPairWaker))]
    public void CreateWaker_MatchesTheSelector(SelectorKind kind, Type expected)
    {
        using ISelector selector = SelectorFactory.Create(kind);
        using Waker waker = Waker.Create(selector);

        Assert.IsType(expected, waker);
        SelectorKey key = waker.Register(selector, null);
        waker.Wake();
        Assert.Equal(SelectorEvents.Read, selector.WaitFor(key, SelectorEvents.Read));
        selector.Unregister(key.Fd);
    }
}
