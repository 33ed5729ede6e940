using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// asyncio's task combinators on an <see cref="EventLoop"/>: <see cref="GatherAsync{T}"/>,
/// <see cref="GatherOutcomesAsync{T}"/>, <see cref="WaitForAsync{T}"/>, <see cref="WaitAsync{TTask}"/> and the
/// timeout scope (<see cref="Timeout"/>, <see cref="TimeoutAt"/>).
/// </summary>
/// <remarks>
/// <para>
/// Work is passed as <c>Func&lt;CancellationToken, Task&gt;</c> so the combinator can cancel it: the function is
/// called at once, on the loop thread, with a token the combinator owns (linked to the caller's). Call these
/// methods on the loop thread; they resume there, so the children are cancelled on the loop thread too.
/// </para>
/// <para>
/// A cancellation never abandons running work: every combinator that cancels its children waits for them to
/// finish cancelling before it completes.
/// </para>
/// </remarks>
public static partial class LoopTasks
{
    /// <summary>Opens a timeout scope whose deadline is <paramref name="delay"/> from now on the loop's clock (asyncio's <c>timeout</c>).</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="delay">How long until the deadline; <see langword="null"/> for none (set one later with <see cref="TimeoutScope.Reschedule"/>).</param>
    /// <param name="cancellationToken">An outer token; its cancellation also cancels the scope's token, but is not a timeout.</param>
    /// <returns>The scope; dispose it when the guarded work is done.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public static TimeoutScope Timeout(this EventLoop loop, TimeSpan? delay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        loop.VerifyAccess();
        return new TimeoutScope(loop, delay is { } d ? AddSaturating(loop.Time, d) : null, cancellationToken);
    }

    /// <summary>Opens a timeout scope whose deadline is the loop time <paramref name="when"/> (asyncio's <c>timeout_at</c>).</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="when">The deadline on the loop's clock (<see cref="EventLoop.Time"/>), or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">An outer token; its cancellation also cancels the scope's token, but is not a timeout.</param>
    /// <returns>The scope; dispose it when the guarded work is done.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public static TimeoutScope TimeoutAt(this EventLoop loop, TimeSpan? when, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        loop.VerifyAccess();
        return new TimeoutScope(loop, when, cancellationToken);
    }

    private static TimeSpan AddSaturating(TimeSpan time, TimeSpan delay) =>
        delay > TimeSpan.MaxValue - time ? TimeSpan.MaxValue : time + delay;

    private static void ValidateTimeout(TimeSpan timeout, string name)
    {
        if (timeout < TimeSpan.Zero && timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, timeout, "The timeout must be zero or more, or Timeout.InfiniteTimeSpan.");
        }
    }

    /// <summary>Calls a child, turning a synchronous throw or a null task into a completed task, as a task would carry it.</summary>
    private static Task<T> Start<T>(Func<CancellationToken, Task<T>> child, CancellationToken cancellationToken)
    {
        try
        {
            return child(cancellationToken) ?? Task.FromException<T>(new InvalidOperationException("A child returned a null task."));
        }
        catch (OperationCanceledException ex) when (ex.CancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(ex.CancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }
}
