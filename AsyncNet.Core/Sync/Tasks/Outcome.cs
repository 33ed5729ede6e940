namespace AsyncNet.Sync;

/// <summary>How one child of <see cref="LoopTasks.GatherOutcomesAsync{T}"/> ended: a result, an exception or a cancellation.</summary>
/// <typeparam name="T">The result type.</typeparam>
public readonly struct Outcome<T>
{
    private readonly T _result;

    private Outcome(T result, Exception? exception)
    {
        _result = result;
        Exception = exception;
    }

    /// <summary>Whether the child returned a result.</summary>
    public bool IsSuccess => Exception is null;

    /// <summary>Whether the child ended cancelled (its exception is an <see cref="OperationCanceledException"/>).</summary>
    public bool IsCanceled => Exception is OperationCanceledException;

    /// <summary>The exception the child ended with, or <see langword="null"/> if it returned a result.</summary>
    public Exception? Exception { get; }

    /// <summary>The child's result.</summary>
    /// <exception cref="InvalidOperationException">The child did not return a result; the inner exception is its exception.</exception>
    public T Result => Exception is null ? _result : throw new InvalidOperationException("The child did not return a result.", Exception);

    /// <summary>An outcome with a result.</summary>
    /// <param name="result">The result.</param>
    /// <returns>The outcome.</returns>
    public static Outcome<T> FromResult(T result) => new(result, null);

    /// <summary>An outcome with an exception (an <see cref="OperationCanceledException"/> for a cancellation).</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>The outcome.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is null.</exception>
    public static Outcome<T> FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new(default!, exception);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        Exception is null ? $"Result({_result})" : IsCanceled ? "Canceled" : $"Exception({Exception.GetType().Name}: {Exception.Message})";

    /// <summary>The outcome of a completed task: its result, its first exception, or its cancellation.</summary>
    internal static Outcome<T> FromCompletedTask(Task<T> task) =>
        task.Status switch
        {
            TaskStatus.RanToCompletion => FromResult(task.Result),
            TaskStatus.Canceled => FromException(CancellationOf(task)),
            _ => FromException(task.Exception!.InnerExceptions[0]),
        };

    private static OperationCanceledException CancellationOf(Task<T> task)
    {
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException ex)
        {
            return ex;
        }

        return new TaskCanceledException(task);
    }
}
