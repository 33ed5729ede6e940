namespace AsyncNet.Sync;

/// <summary>The result of <see cref="LoopTasks.WaitAsync{TTask}"/>: the tasks done and those still pending when it returned.</summary>
/// <typeparam name="TTask">The task type.</typeparam>
public sealed class WaitResult<TTask>
    where TTask : Task
{
    internal WaitResult(IReadOnlySet<TTask> done, IReadOnlySet<TTask> pending)
    {
        Done = done;
        Pending = pending;
    }

    /// <summary>The tasks that had completed.</summary>
    public IReadOnlySet<TTask> Done { get; }

    /// <summary>The tasks still running; they were not cancelled.</summary>
    public IReadOnlySet<TTask> Pending { get; }

    /// <summary>Deconstructs into <c>var (done, pending) = await loop.WaitAsync(…)</c>.</summary>
    /// <param name="done">The tasks that had completed.</param>
    /// <param name="pending">The tasks still running.</param>
    public void Deconstruct(out IReadOnlySet<TTask> done, out IReadOnlySet<TTask> pending)
    {
        done = Done;
        pending = Pending;
    }

    /// <inheritdoc/>
    public override string ToString() => $"WaitResult(Done={Done.Count}, Pending={Pending.Count})";
}
