using AsyncNet.Loop;

namespace AsyncNet.Tests.Sync;

/// <summary>Runs test bodies on a loop with a watchdog, and steps it a known number of iterations.</summary>
internal static class SyncTestLoop
{
    /// <summary>Generous: every test here finishes in milliseconds; the watchdog only turns a hang into a failure.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="work"/> to completion; a run longer than <see cref="Limit"/> stops the loop and fails.</summary>
    public static void Run(this EventLoop loop, Func<Task> work)
    {
        TimerHandle watchdog = loop.CallLater(Limit, loop.Stop);
        try
        {
            loop.RunUntilComplete(work);
        }
        finally
        {
            watchdog.Cancel();
        }
    }

    /// <summary>Lets the loop run <paramref name="iterations"/> iterations (each await of Task.Yield posts to the next one).</summary>
    public static async Task TurnsAsync(int iterations = 3)
    {
        for (int i = 0; i < iterations; i++)
        {
            await Task.Yield();
        }
    }

    /// <summary>
    /// Bytes allocated by the calling thread while <paramref name="action"/> runs, after a warm-up run: the least of
    /// three measured runs, so the runtime's one-off work on this thread (a method tiering up mid-run) is not counted,
    /// while anything the action itself allocates shows in every run.
    /// </summary>
    public static long AllocatedBy(Action action)
    {
        action();
        long least = long.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }

    /// <summary>Runs <paramref name="body"/> on a new dedicated thread (blocking calls must not starve the pool).</summary>
    public static Task<T> OnThread<T>(Func<T> body)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.SetResult(body());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        { IsBackground = true, Name = "sync test thread" };
        thread.Start();
        return done.Task;
    }

    /// <summary>Runs <paramref name="body"/> on a new dedicated thread.</summary>
    public static Task OnThread(Action body) => OnThread(() =>
    {
        body();
        return true;
    });

    /// <summary>Waits (without sleeping in fixed steps) until <paramref name="condition"/> holds; fails after <see cref="Limit"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true in time");
            await Task.Yield();
        }
    }
}
