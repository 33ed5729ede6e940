namespace AsyncNet.Loop;

/// <summary>Runs tasks on the loop thread, one callback per task.</summary>
internal sealed class LoopTaskScheduler : TaskScheduler
{
    private readonly EventLoop _loop;

    // One delegate per scheduler, so queueing a task allocates only the loop's handle.
    private readonly Action<object?> _execute;

    public LoopTaskScheduler(EventLoop loop)
    {
        _loop = loop;
        _execute = task => TryExecuteTask((Task)task!);
    }

    public override int MaximumConcurrencyLevel => 1;

    // Dropped once the loop is closed: see EventLoop.TryCallSoonFromAnyThread.
    protected override void QueueTask(Task task) => _loop.TryCallSoonFromAnyThread(_execute, task);

    // Inline only on the loop thread: the loop is single-threaded, so running there now is as good as later.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        _loop.IsOnLoopThread && TryExecuteTask(task);

    // The loop's queues hold handles, not tasks; debuggers get nothing rather than a racy snapshot.
    protected override IEnumerable<Task>? GetScheduledTasks() => null;
}
