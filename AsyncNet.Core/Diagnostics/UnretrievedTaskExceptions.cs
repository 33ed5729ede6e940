using AsyncNet.Loop;

namespace AsyncNet.Diagnostics;

/// <summary>
/// Debug mode's watch over the tasks a loop starts (<see cref="EventLoop.CreateTask(Func{Task}, CancellationToken)"/>):
/// a failed one whose exception nobody observed by the time it is garbage-collected is reported to its loop as "Task
/// exception was never retrieved".
/// </summary>
/// <remarks>
/// The runtime tells of such tasks through <see cref="TaskScheduler.UnobservedTaskException"/>, once per process and
/// with the task as the sender, from the finalizer thread. A loop's task is recognised by its
/// <see cref="Task.AsyncState"/>: the loop hands out a proxy task made with a marker as its state (the real task's
/// outcome is copied into it, which observes the real one). Other handlers of the event still see every task, ours
/// included; nothing here marks an exception observed.
/// </remarks>
internal static class UnretrievedTaskExceptions
{
    /// <summary>The message of the report.</summary>
    public const string Message = "Task exception was never retrieved";

    private static int s_subscribed;

    /// <summary>A proxy of <paramref name="task"/> that reports to <paramref name="loop"/> if its exception goes unobserved.</summary>
    /// <typeparam name="T">The proxy's result type (a task without a result completes it with the default).</typeparam>
    public static Task<T> Watch<T>(EventLoop loop, Task task)
    {
        if (Interlocked.Exchange(ref s_subscribed, 1) == 0)
        {
            TaskScheduler.UnobservedTaskException += OnUnobservedTaskException;
        }

        var proxy = new TaskCompletionSource<T>(new LoopTaskMarker(loop));
        task.ContinueWith(
            static (done, state) => ((TaskCompletionSource<T>)state!).TrySetFrom(done),
            proxy,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return proxy.Task;
    }

    private static void OnUnobservedTaskException(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        if (sender is Task { AsyncState: LoopTaskMarker marker })
        {
            Exception exception = e.Exception.InnerExceptions is [var single] ? single : e.Exception;
            marker.Loop.ReportFromAnyThread(new LoopExceptionContext(Message, exception));
        }
    }

    /// <summary>The state of a loop's task in debug mode: which loop to tell.</summary>
    private sealed class LoopTaskMarker(EventLoop loop)
    {
        public EventLoop Loop => loop;

        public override string ToString() => "a task of an event loop in debug mode";
    }
}
