using AsyncNet.Loop;

namespace AsyncNet.Tests.Loop;

public sealed class FutureTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void NewFuture_IsPending_AndReadingItThrowsInvalidState()
    {
        Future<int> future = _loop.CreateFuture<int>();

        Assert.False(future.IsDone);
        Assert.Throws<InvalidStateException>(() => future.Result);
        Assert.Throws<InvalidStateException>(() => future.Exception);
    }

    [Fact]
    public void SetResult_Twice_ThrowsInvalidState()
    {
        Future<int> future = _loop.CreateFuture<int>();
        future.SetResult(1);

        var ex = Assert.Throws<InvalidStateException>(() => future.SetResult(2));
        Assert.Contains("finished", ex.Message);
        Assert.Throws<InvalidStateException>(() => future.SetException(new IOException()));
        Assert.False(future.TrySetResult(3));
        Assert.Equal(1, future.Result);
        Assert.Null(future.Exception);
    }

    [Fact]
    public void SetException_ResultRethrowsIt()
    {
        Future<int> future = _loop.CreateFuture<int>();
        future.SetException(new IOException("disk"));

        Assert.True(future.IsDone);
        Assert.Equal("disk", Assert.Throws<IOException>(() => future.Result).Message);
        Assert.IsType<IOException>(future.Exception);
    }

    [Fact]
    public void Cancel_PendingFuture_MakesResultThrowCancelled()
    {
        Future<int> future = _loop.CreateFuture<int>();

        Assert.True(future.Cancel("shutting down"));
        Assert.False(future.Cancel());

        Assert.True(future.IsCancelled);
        Assert.True(future.IsDone);
        Assert.Equal("shutting down", Assert.Throws<OperationCanceledException>(() => future.Result).Message);
        Assert.Throws<OperationCanceledException>(() => future.Exception);
        Assert.Throws<InvalidStateException>(() => future.SetResult(1));
    }

    [Fact]
    public void DoneCallbacks_RunThroughTheLoop_NotInsideSetResult()
    {
        Future<string> future = _loop.CreateFuture<string>();
        var seen = new List<string>();
        future.AddDoneCallback(f => seen.Add("first:" + ((Future<string>)f).Result));
        future.AddDoneCallback(f => seen.Add("second"));

        future.SetResult("ok");
        Assert.Empty(seen);

        _loop.RunOnce();
        Assert.Equal(["first:ok", "second"], seen);
    }

    [Fact]
    public void AddDoneCallback_OnADoneFuture_IsScheduledNotRunInline()
    {
        Future<int> future = _loop.CreateFuture<int>();
        future.SetResult(7);
        bool ran = false;

        future.AddDoneCallback(_ => ran = true);
        Assert.False(ran);

        _loop.RunOnce();
        Assert.True(ran);
    }

    [Fact]
    public void RemoveDoneCallback_RemovesEveryRegistration()
    {
        Future<int> future = _loop.CreateFuture<int>();
        int runs = 0;
        Action<Future> callback = _ => runs++;
        future.AddDoneCallback(callback);
        future.AddDoneCallback(callback);

        Assert.Equal(2, future.RemoveDoneCallback(callback));
        future.SetResult(1);
        _loop.CallSoon(() => { }); // keeps RunOnce from blocking now that nothing else is scheduled
        _loop.RunOnce();

        Assert.Equal(0, runs);
    }

    [Fact]
    public void Await_ResumesOnTheLoopThread_WithTheResult()
    {
        Future<int> future = _loop.CreateFuture<int>();
        _loop.CallLater(TimeSpan.FromMilliseconds(5), () => future.SetResult(42));

        int result = _loop.RunUntilComplete(async () =>
        {
            int value = await future;
            Assert.Same(_loop, EventLoop.Current);
            return value + 1;
        });

        Assert.Equal(43, result);
    }

    [Fact]
    public void Await_CancelledFuture_ThrowsOperationCanceled()
    {
        Future<int> future = _loop.CreateFuture<int>();
        _loop.CallSoon(() => future.Cancel());

        Assert.ThrowsAny<OperationCanceledException>(() => _loop.RunUntilComplete(async () => await future));
    }

    [Fact]
    public void RunUntilComplete_Future_ReturnsTheResult()
    {
        Future<string> future = _loop.CreateFuture<string>();
        _loop.CallSoon(() => future.SetResult("done"));

        Assert.Equal("done", _loop.RunUntilComplete(future));
    }

    [Fact]
    public void RunUntilComplete_Future_FromAnotherLoop_Throws()
    {
        using var other = new EventLoop();
        Assert.Throws<ArgumentException>(() => _loop.RunUntilComplete(other.CreateFuture<int>()));
    }

    [Fact]
    public async Task AsTask_CompletesLikeTheFuture()
    {
        Future<int> ok = _loop.CreateFuture<int>();
        Future<int> failed = _loop.CreateFuture<int>();
        Future<int> cancelled = _loop.CreateFuture<int>();
        Task<int> okTask = ok.AsTask();
        Task<int> failedTask = failed.AsTask();
        Task cancelledTask = ((Future)cancelled).AsTask();

        ok.SetResult(5);
        failed.SetException(new IOException("x"));
        cancelled.Cancel();
        _loop.RunOnce();

        Assert.Equal(5, await okTask);
        await Assert.ThrowsAsync<IOException>(() => failedTask);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelledTask);
    }

    [Fact]
    public void FutureMember_FromAnotherThreadWhileTheLoopRuns_Throws()
    {
        Future<int> future = _loop.CreateFuture<int>();
        Exception? thrown = null;
        _loop.CallSoon(() =>
        {
            // A dedicated thread: waiting on Task.Run could inline the work on the loop thread itself.
            var other = new Thread(() => thrown = Record.Exception(() => future.SetResult(1)));
            other.Start();
            other.Join();
            _loop.Stop();
        });

        _loop.RunForever();

        Assert.IsType<InvalidOperationException>(thrown);
        Assert.False(future.IsDone);
    }
}
