using System.Runtime.CompilerServices;

namespace AsyncNet.Loop;

/// <summary>A loop-bound result of type <typeparamref name="T"/> that will be set later: asyncio's <c>Future</c>.</summary>
/// <typeparam name="T">The result type.</typeparam>
/// <remarks>See <see cref="Future"/> for the states, the thread rule and when callbacks run.</remarks>
public sealed class Future<T> : Future
{
    private T? _result;

    /// <summary>Creates a pending future bound to <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose thread completes and awaits the future.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    public Future(EventLoop loop)
        : base(loop)
    {
    }

    /// <summary>The result.</summary>
    /// <exception cref="InvalidStateException">The future is still pending.</exception>
    /// <exception cref="OperationCanceledException">The future was cancelled.</exception>
    /// <exception cref="Exception">The exception the future finished with, rethrown.</exception>
    public T Result
    {
        get
        {
            ThrowIfFailed();
            return _result!;
        }
    }

    /// <summary>Finishes the future with <paramref name="result"/>.</summary>
    /// <param name="result">The result.</param>
    /// <exception cref="InvalidStateException">The future is already done.</exception>
    public void SetResult(T result)
    {
        if (!TrySetResult(result))
        {
            throw new InvalidStateException($"Cannot set a result: the future is already {Describe()}.");
        }
    }

    /// <summary>Finishes the future with <paramref name="result"/> if it is pending.</summary>
    /// <param name="result">The result.</param>
    /// <returns>Whether the future was pending.</returns>
    public bool TrySetResult(T result)
    {
        if (!TryBeginSetResult())
        {
            return false;
        }

        _result = result;
        EndSetResult();
        return true;
    }

    /// <summary>Gets an awaiter; the continuation runs on the loop thread.</summary>
    /// <returns>The awaiter.</returns>
    public new FutureAwaiter<T> GetAwaiter() => new(this);

    /// <summary>A task that completes like this future, for code outside the loop.</summary>
    /// <returns>A task with the same outcome; its continuations run asynchronously.</returns>
    public new Task<T> AsTask()
    {
        var source = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        AddContinuation(() => CompleteSource(source));
        return source.Task;
    }

    private protected override Task AsTaskCore() => AsTask();

    private void CompleteSource(TaskCompletionSource<T> source)
    {
        if (IsCancelled)
        {
            source.TrySetCanceled();
        }
        else if (Exception is { } exception)
        {
            source.TrySetException(exception);
        }
        else
        {
            source.TrySetResult(_result!);
        }
    }
}

/// <summary>Awaits a <see cref="Future{T}"/>; the continuation runs on the future's loop.</summary>
/// <typeparam name="T">The result type.</typeparam>
public readonly struct FutureAwaiter<T> : ICriticalNotifyCompletion
{
    private readonly Future<T> _future;

    internal FutureAwaiter(Future<T> future) => _future = future;

    /// <summary>Whether the future is done.</summary>
    public bool IsCompleted => _future.IsDone;

    /// <summary>Returns the result, or throws the future's exception or <see cref="OperationCanceledException"/>.</summary>
    /// <returns>The result.</returns>
    public T GetResult() => _future.Result;

    /// <inheritdoc/>
    public void OnCompleted(Action continuation) => _future.AddContinuation(FutureAwaiter.FlowExecutionContext(continuation));

    /// <inheritdoc/>
    public void UnsafeOnCompleted(Action continuation) => _future.AddContinuation(continuation);
}
