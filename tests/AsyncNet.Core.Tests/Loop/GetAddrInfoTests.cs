using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;

namespace AsyncNet.Tests.Loop;

/// <summary><see cref="EventLoop.GetAddrInfoAsync"/>: literals, names, failures and where the result lands.</summary>
public sealed class GetAddrInfoTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void Localhost_IncludesALoopbackAddress_WithThePort()
    {
        IReadOnlyList<IPEndPoint> endPoints = _loop.RunBounded(() => _loop.GetAddrInfoAsync("localhost", 8080));

        Assert.NotEmpty(endPoints);
        Assert.Contains(endPoints, e => IPAddress.IsLoopback(e.Address));
        Assert.All(endPoints, e => Assert.Equal(8080, e.Port));
    }

    [Fact]
    public void Localhost_WithAFamily_ReturnsOnlyThatFamily()
    {
        IReadOnlyList<IPEndPoint> endPoints = _loop.RunBounded(() => _loop.GetAddrInfoAsync("localhost", 80, AddressFamily.InterNetwork));

        Assert.All(endPoints, e => Assert.Equal(AddressFamily.InterNetwork, e.AddressFamily));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("192.0.2.7")]
    public void Literal_ResolvesAtOnce_WithoutDns(string literal)
    {
        _loop.RunBounded(async () =>
        {
            Task<IReadOnlyList<IPEndPoint>> resolve = _loop.GetAddrInfoAsync(literal, 53);

            Assert.True(resolve.IsCompletedSuccessfully);
            Assert.Equal([new IPEndPoint(IPAddress.Parse(literal), 53)], await resolve);
        });
    }

    [Fact]
    public void Literal_OfAnotherFamily_FailsWithNameResolution()
    {
        var ex = Assert.Throws<NameResolutionException>(() =>
            _loop.RunBounded(() => _loop.GetAddrInfoAsync("127.0.0.1", 1, AddressFamily.InterNetworkV6)));

        Assert.Contains("127.0.0.1", ex.Message);
    }

    [Fact]
    public void InvalidName_FailsWithNameResolution_NamingTheHost()
    {
        const string Host = "no-such-host.invalid";

        var ex = Assert.Throws<NameResolutionException>(() => _loop.RunBounded(() => _loop.GetAddrInfoAsync(Host, 80)));

        Assert.Contains(Host, ex.Message);
        Assert.Equal(Host, ex.Address);
    }

    [Fact]
    public void AwaitFromLoopCode_ResumesOnTheLoopThread()
    {
        int loopThread = Environment.CurrentManagedThreadId;

        int resumedOn = _loop.RunBounded(async () =>
        {
            await _loop.GetAddrInfoAsync("localhost", 0);
            return Environment.CurrentManagedThreadId;
        });

        Assert.Equal(loopThread, resumedOn);
    }

    [Fact]
    public void CalledFromAnotherThread_CompletesThroughTheLoop()
    {
        using var loopThread = new LoopThread(_loop);

        IReadOnlyList<IPEndPoint> endPoints = Task.Run(() => _loop.GetAddrInfoAsync("localhost", 1)).WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();

        Assert.Contains(endPoints, e => IPAddress.IsLoopback(e.Address));
    }

    [Fact]
    public void AlreadyCancelledToken_ReturnsACancelledTask()
    {
        Task<IReadOnlyList<IPEndPoint>> resolve = _loop.GetAddrInfoAsync("localhost", 1, cancellationToken: new CancellationToken(canceled: true));

        Assert.True(resolve.IsCanceled);
    }

    [Fact]
    public void BadArguments_ThrowAtOnce()
    {
        Assert.Throws<ArgumentNullException>(() => { _ = _loop.GetAddrInfoAsync(null!, 1); });
        Assert.Throws<ArgumentException>(() => { _ = _loop.GetAddrInfoAsync(string.Empty, 1); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = _loop.GetAddrInfoAsync("localhost", 65536); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = _loop.GetAddrInfoAsync("localhost", -1); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = _loop.GetAddrInfoAsync("localhost", 1, AddressFamily.Unix); });
    }
}
