using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class TimeoutScopeTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void RunAsync_PastTheDeadline_CancelsTheTokenAndThrowsTimeout()
    {
        _loop.Run(async () =>
        {
            using TimeoutScope scope = _loop.Timeout(TimeSpan.FromMilliseconds(10));

            var ex = await Assert.ThrowsAsync<TimeoutException>(() => scope.RunAsync(ct => _loop.SleepAsync(Long, ct)));

            Assert.True(scope.IsExpired);
            Assert.True(scope.Token.IsCancellationRequested);
            Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
        });
    }

    [Fact]
    public void RunAsync_InTime_ReturnsTheResult()
    {
        _loop.Run(async () =>
        {
            using TimeoutScope scope = _loop.Timeout(TimeSpan.FromSeconds(10));

            Assert.Equal(3, await scope.RunAsync(_ => Task.FromResult(3)));
            Assert.False(scope.IsExpired);
        });
    }

    [Fact]
    public void Reschedule_LaterDeadline_KeepsTheScopeAlivePastTheFirstOne()
    {
        _loop.Run(async () =>
        {
            using TimeoutScope scope = _loop.Timeout(TimeSpan.FromMilliseconds(10));
            scope.Reschedule(_loop.Time + TimeSpan.FromSeconds(10));

            await _loop.SleepAsync(TimeSpan.FromMilliseconds(50));

            Assert.False(scope.IsExpired);
            Assert.False(scope.Token.IsCancellationRequested);
        });
    }

    [Fact]
    public void Reschedule_ToNone_RemovesTheDeadline()
    {
        _loop.Run(async () =>
        {
            using TimeoutScope scope = _loop.Timeout(TimeSpan.FromMilliseconds(5));
            scope.Reschedule(null);

            await _loop.SleepAsync(TimeSpan.FromMilliseconds(30));

            Assert.Null(scope.When);
            Assert.False(scope.IsExpired);
        });
    }

    [Fact]
    public void Reschedule_ToThePast_ExpiresOnTheNextIteration()
    {
        _loop.Run(async () =>
        {
            using TimeoutScope scope = _loop.Timeout(null);
            scope.Reschedule(TimeSpan.Zero);

            await Assert.ThrowsAsync<TimeoutException>(() => scope.RunAsync(ct => _loop.SleepAsync(Long, ct)));
        });
    }

    [Fact]
    public void Reschedule_AfterExpiry_ThrowsInvalidOperation()
    {
        _loop.Run(async () =>
        {
            using TimeoutScope scope = _loop.TimeoutAt(_loop.Time);
            await _loop.SleepAsync(TimeSpan.FromMilliseconds(5));
            Assert.True(scope.IsExpired);

            Assert.Throws<InvalidOperationException>(() => scope.Reschedule(null));
        });
    }

    [Fact]
    public void OuterCancellation_CancelsTheTokenButIsNotATimeout()
    {
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            using TimeoutScope scope = _loop.Timeout(TimeSpan.FromSeconds(10), cts.Token);
            Task run = scope.RunAsync(ct => _loop.SleepAsync(Long, ct));

            await cts.CancelAsync();

            Exception ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            Assert.False(scope.IsExpired);
        });
    }

    [Fact]
    public void Dispose_CancelsTheDeadline()
    {
        _loop.Run(async () =>
        {
            TimeoutScope scope = _loop.Timeout(TimeSpan.FromMilliseconds(5));
            scope.Dispose();
            scope.Dispose();

            await _loop.SleepAsync(TimeSpan.FromMilliseconds(30));

            Assert.False(scope.IsExpired);
            Assert.Throws<ObjectDisposedException>(() => scope.Reschedule(null));
        });
    }

    [Fact]
    public void ToString_ShowsStateAndDeadline()
    {
        using TimeoutScope scope = _loop.TimeoutAt(TimeSpan.FromSeconds(3));

        Assert.Equal("TimeoutScope(Active, When=00:00:03)", scope.ToString());
    }
}
