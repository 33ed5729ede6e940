using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class LoopTasksTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void GatherAsync_ReturnsResultsInTheOrderGiven_NotTheOrderFinished()
    {
        int[] results = RunOnLoop(() => _loop.GatherAsync<int>(
        [
            async ct => { await _loop.SleepAsync(TimeSpan.FromMilliseconds(30), ct); return 1; },
            async ct => { await _loop.SleepAsync(TimeSpan.FromMilliseconds(1), ct); return 2; },
            ct => Task.FromResult(3),
        ]));

        Assert.Equal([1, 2, 3], results);
    }

    [Fact]
    public void GatherAsync_NoChildren_ReturnsAnEmptyArray() =>
        Assert.Empty(RunOnLoop(() => _loop.GatherAsync(Array.Empty<Func<CancellationToken, Task<int>>>())));

    [Fact]
    public void GatherAsync_FirstFailure_ThrowsAtOnce_AndLeavesTheSiblingRunning()
    {
        var sibling = new TaskCompletionSource<int>();
        bool siblingCancelled = false;
        _loop.Run(async () =>
        {
            Task<int[]> gather = _loop.GatherAsync<int>(
            [
                async ct => { await Task.Yield(); throw new InvalidDataException("bad"); },
                async ct =>
                {
                    using (ct.Register(() => siblingCancelled = true))
                    {
                        return await sibling.Task;
                    }
                },
            ]);

            var ex = await Assert.ThrowsAsync<InvalidDataException>(() => gather);
            Assert.Equal("bad", ex.Message);
            Assert.False(siblingCancelled);
            sibling.SetResult(1);
        });
    }

    [Fact]
    public void GatherAsync_CancelOnFailure_CancelsSiblingsAndWaitsForThemBeforeThrowing()
    {
        bool siblingFinished = false;
        _loop.Run(async () =>
        {
            Task<int[]> gather = _loop.GatherAsync<int>(
                [
                    async ct => { await Task.Yield(); throw new InvalidDataException("bad"); },
                    async ct =>
                    {
                        try
                        {
                            await _loop.SleepAsync(Long, ct);
                            return 0;
                        }
                        finally
                        {
                            await Task.Yield();       // cancelling takes an iteration of clean-up
                            siblingFinished = true;
                        }
                    },
                ],
                cancelOnFailure: true);

            await Assert.ThrowsAsync<InvalidDataException>(() => gather);
            Assert.True(siblingFinished);
        });
    }

    [Fact]
    public void GatherAsync_CancelledByItsToken_CancelsEveryChildAndWaitsForThem()
    {
        int finished = 0;
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Func<CancellationToken, Task<int>> child = async ct =>
            {
                try
                {
                    await _loop.SleepAsync(Long, ct);
                    return 0;
                }
                finally
                {
                    await Task.Yield();
                    finished++;
                }
            };
            Task<int[]> gather = _loop.GatherAsync([child, child, child], cancellationToken: cts.Token);
            await SyncTestLoop.TurnsAsync();

            await cts.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gather);
            Assert.Equal(3, finished);
        });
    }

    [Fact]
    public void GatherAsync_ChildThrowingSynchronously_FailsTheGather()
    {
        _loop.Run(async () =>
        {
            Task<int[]> gather = _loop.GatherAsync<int>([_ => throw new FormatException("sync")]);

            await Assert.ThrowsAsync<FormatException>(() => gather);
        });
    }

    [Fact]
    public void GatherAsync_ChildCancelledOnItsOwn_FailsTheGatherWithOperationCanceled()
    {
        _loop.Run(async () =>
        {
            Task<int[]> gather = _loop.GatherAsync<int>([_ => Task.FromCanceled<int>(new CancellationToken(true)), _ => Task.FromResult(1)]);

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gather);
        });
    }

    [Fact]
    public void GatherOutcomesAsync_ReturnsExceptionsAndCancellationsInsteadOfThrowing()
    {
        Outcome<int>[] outcomes = RunOnLoop(() => _loop.GatherOutcomesAsync<int>(
        [
            _ => Task.FromResult(1),
            async _ => { await Task.Yield(); throw new InvalidDataException("bad"); },
            _ => Task.FromCanceled<int>(new CancellationToken(true)),
        ]));

        Assert.True(outcomes[0].IsSuccess);
        Assert.Equal(1, outcomes[0].Result);
        Assert.IsType<InvalidDataException>(outcomes[1].Exception);
        Assert.Throws<InvalidOperationException>(() => outcomes[1].Result);
        Assert.True(outcomes[2].IsCanceled);
        Assert.Equal("Result(1)", outcomes[0].ToString());
        Assert.Equal("Canceled", outcomes[2].ToString());
    }

    [Fact]
    public void WaitForAsync_WorkInTime_ReturnsItsResult()
    {
        int result = RunOnLoop(() => _loop.WaitForAsync(
            async ct => { await _loop.SleepAsync(TimeSpan.FromMilliseconds(1), ct); return 7; },
            TimeSpan.FromSeconds(10)));

        Assert.Equal(7, result);
    }

    [Fact]
    public void WaitForAsync_Timeout_CancelsTheWorkWaitsForItThenThrowsTimeout()
    {
        bool workFinishedCancelling = false;
        _loop.Run(async () =>
        {
            Task<int> waitFor = _loop.WaitForAsync(
                async ct =>
                {
                    try
                    {
                        await _loop.SleepAsync(Long, ct);
                        return 0;
                    }
                    finally
                    {
                        await Task.Yield();
                        workFinishedCancelling = true;
                    }
                },
                TimeSpan.FromMilliseconds(20));

            var ex = await Assert.ThrowsAsync<TimeoutException>(() => waitFor);
            Assert.True(workFinishedCancelling);
            Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
        });
    }

    [Fact]
    public void WaitForAsync_WorkThatReturnsDespiteTheDeadline_KeepsItsResult()
    {
        int result = RunOnLoop(() => _loop.WaitForAsync(
            async ct =>
            {
                try
                {
                    await _loop.SleepAsync(Long, ct);
                }
                catch (OperationCanceledException)
                {
                }

                return 5;
            },
            TimeSpan.FromMilliseconds(10)));

        Assert.Equal(5, result);
    }

    [Fact]
    public void WaitForAsync_OuterCancellation_IsNotATimeout()
    {
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task wait = _loop.WaitForAsync(ct => _loop.SleepAsync(Long, ct), TimeSpan.FromSeconds(10), cts.Token);
            await cts.CancelAsync();

            Exception ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
            Assert.IsNotType<TimeoutException>(ex);
        });
    }

    [Fact]
    public void WaitForAsync_WorkFailure_Propagates()
    {
        _loop.Run(async () =>
        {
            Task wait = _loop.WaitForAsync(async _ => { await Task.Yield(); throw new InvalidDataException("x"); }, Timeout.InfiniteTimeSpan);

            await Assert.ThrowsAsync<InvalidDataException>(() => wait);
        });
    }

    [Fact]
    public void WaitForAsync_NegativeTimeout_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = _loop.WaitForAsync(_ => Task.FromResult(1), TimeSpan.FromSeconds(-1)); });

    [Fact]
    public void WaitAsync_FirstCompleted_ReturnsTheDoneAndPendingSets()
    {
        var slow = new TaskCompletionSource<int>();
        _loop.Run(async () =>
        {
            Task<int> fast = Delayed(1);
            (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) =
                await _loop.WaitAsync([fast, slow.Task], WaitMode.FirstCompleted);

            Assert.Equal([fast], done);
            Assert.Equal([slow.Task], pending);
            Assert.False(slow.Task.IsCanceled);
            slow.SetResult(0);
        });
    }

    [Fact]
    public void WaitAsync_FirstException_IgnoresCancellationsAndStopsAtAFault()
    {
        var never = new TaskCompletionSource();
        _loop.Run(async () =>
        {
            Task cancelled = Task.FromCanceled(new CancellationToken(true));
            Task faulted = FailLater();
            WaitResult<Task> result = await _loop.WaitAsync([cancelled, faulted, never.Task], WaitMode.FirstException);

            Assert.Contains(faulted, result.Done);
            Assert.Contains(cancelled, result.Done);
            Assert.Equal([never.Task], result.Pending);
            never.SetResult();
        });

        async Task FailLater()
        {
            await _loop.SleepAsync(TimeSpan.FromMilliseconds(5));
            throw new InvalidDataException();
        }
    }

    [Fact]
    public void WaitAsync_AllCompleted_WaitsForEveryTask()
    {
        _loop.Run(async () =>
        {
            Task<int>[] tasks = [Delayed(1), Delayed(10), Delayed(5)];
            WaitResult<Task<int>> result = await _loop.WaitAsync(tasks);

            Assert.Equal(3, result.Done.Count);
            Assert.Empty(result.Pending);
            Assert.Equal("WaitResult(Done=3, Pending=0)", result.ToString());
        });
    }

    [Fact]
    public void WaitAsync_Timeout_ReturnsWithPendingTasksAndCancelsNothing()
    {
        var never = new TaskCompletionSource();
        _loop.Run(async () =>
        {
            WaitResult<Task> result = await _loop.WaitAsync([never.Task], timeout: TimeSpan.FromMilliseconds(10));

            Assert.Empty(result.Done);
            Assert.Equal([never.Task], result.Pending);
            Assert.False(never.Task.IsCompleted);
        });
    }

    [Fact]
    public void WaitAsync_CancelledByItsToken_Throws()
    {
        var never = new TaskCompletionSource();
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task<WaitResult<Task>> wait = _loop.WaitAsync([never.Task], cancellationToken: cts.Token);
            await cts.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        });
    }

    [Fact]
    public void WaitAsync_NoTasks_ThrowsArgument() =>
        Assert.Throws<ArgumentException>(() => { _ = _loop.WaitAsync(Array.Empty<Task>()); });

    private async Task<int> Delayed(int ms)
    {
        await _loop.SleepAsync(TimeSpan.FromMilliseconds(ms));
        return ms;
    }

    private T RunOnLoop<T>(Func<Task<T>> work)
    {
        T result = default!;
        _loop.Run(async () => result = await work());
        return result;
    }
}
