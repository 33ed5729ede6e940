using AsyncNet.Loop;

namespace AsyncNet.Tests.Shared;

/// <summary>Runs a test body on a fresh loop on the test thread, bounded in time, and collects loop-handler reports.</summary>
/// <remarks>Shared by the test projects (linked into each); subclasses add their own fixtures.</remarks>
internal class BoundedTestLoop : IDisposable
{
    /// <summary>Makes the loop with <paramref name="options"/>; reports go to <see cref="HandlerReports"/>, or with <paramref name="collectReports"/> false to the loop's default handler.</summary>
    public BoundedTestLoop(EventLoopOptions? options = null, bool collectReports = true)
    {
        Loop = new EventLoop(options);
        if (!collectReports)
        {
            return;
        }

        Loop.ExceptionHandler = (_, context) =>
        {
            lock (HandlerReports)
            {
                HandlerReports.Add(context);
            }
        };
    }

    public EventLoop Loop { get; }

    /// <summary>What reached the loop's exception handler.</summary>
    public List<LoopExceptionContext> HandlerReports { get; } = [];

    /// <summary>Runs <paramref name="body"/> on the loop; fails with <see cref="TimeoutException"/> past <paramref name="seconds"/>.</summary>
    public void Run(Func<Task> body, int seconds = 20)
    {
        TimerHandle guard = Loop.CallLater(TimeSpan.FromSeconds(seconds), Loop.Stop);
        Task task = Loop.CreateTask(body);
        try
        {
            Loop.RunUntilComplete(task);
        }
        catch (InvalidOperationException) when (!task.IsCompleted)
        {
            throw new TimeoutException($"The test body did not finish within {seconds} s.");
        }
        finally
        {
            guard.Cancel();
        }
    }

    /// <summary>Lets callbacks scheduled now (connection-lost, flow-control re-checks) run.</summary>
    public async Task YieldAsync(int iterations = 3)
    {
        for (int i = 0; i < iterations; i++)
        {
            await Loop.SleepAsync(TimeSpan.Zero);
        }
    }

    public void Dispose() => Loop.Close();
}
