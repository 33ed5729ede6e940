using AsyncNet.Loop;

namespace AsyncNet.Tests.Support;

/// <summary>Helpers for tests that run asynchronous work on a loop on the test thread.</summary>
internal static class LoopTesting
{
    /// <summary>The most any one test's loop run may take before it is stopped and the test fails.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="work"/> on the loop until it completes; stops the loop (and fails) after <see cref="Bound"/>.</summary>
    public static void RunBounded(this EventLoop loop, Func<Task> work)
    {
        TimerHandle guard = loop.CallLater(Bound, loop.Stop);
        try
        {
            loop.RunUntilComplete(work);
        }
        finally
        {
            guard.Cancel();
        }
    }

    /// <summary>Runs <paramref name="work"/> on the loop until it completes; stops the loop (and fails) after <see cref="Bound"/>.</summary>
    public static T RunBounded<T>(this EventLoop loop, Func<Task<T>> work)
    {
        TimerHandle guard = loop.CallLater(Bound, loop.Stop);
        try
        {
            return loop.RunUntilComplete(work);
        }
        finally
        {
            guard.Cancel();
        }
    }

    /// <summary>Lets the loop run <paramref name="iterations"/> more iterations (callbacks scheduled now run).</summary>
    public static async Task YieldAsync(this EventLoop loop, int iterations = 2)
    {
        for (int i = 0; i < iterations; i++)
        {
            await loop.SleepAsync(TimeSpan.Zero);
        }
    }
}
