using AsyncNet.Loop;

namespace AsyncNet.Sync;

public static partial class LoopTasks
{
    /// <summary>
    /// Runs <paramref name="work"/> with a deadline on the loop's clock (asyncio's <c>wait_for</c>): when it
    /// passes, the work's token is cancelled, the work is awaited until it has finished cancelling, and then
    /// <see cref="TimeoutException"/> is thrown.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="loop">The loop.</param>
    /// <param name="work">The work, called at once with a token cancelled at the deadline or by <paramref name="cancellationToken"/>.</param>
    /// <param name="timeout">How long the work may take; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <param name="cancellationToken">Cancels the work (an <see cref="OperationCanceledException"/>, not a timeout).</param>
    /// <returns>The work's result; a result returned despite the deadline is kept.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="work"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="TimeoutException">The deadline passed and the work ended cancelled (through the returned task).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (through the returned task).</exception>
    public static Task<T> WaitForAsync<T>(this EventLoop loop, Func<CancellationToken, Task<T>> work, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(work);
        ValidateTimeout(timeout, nameof(timeout));
        loop.VerifyAccess();
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        return WaitForCoreAsync(loop.Timeout(timeout == System.Threading.Timeout.InfiniteTimeSpan ? null : timeout, cancellationToken), work);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a deadline on the loop's clock (asyncio's <c>wait_for</c>); see
    /// <see cref="WaitForAsync{T}"/>.
    /// </summary>
    /// <param name="loop">The loop.</param>
    /// <param name="work">The work, called at once with a token cancelled at the deadline or by <paramref name="cancellationToken"/>.</param>
    /// <param name="timeout">How long the work may take; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <param name="cancellationToken">Cancels the work (an <see cref="OperationCanceledException"/>, not a timeout).</param>
    /// <returns>A task that completes when the work has.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="work"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="TimeoutException">The deadline passed and the work ended cancelled (through the returned task).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (through the returned task).</exception>
    public static Task WaitForAsync(this EventLoop loop, Func<CancellationToken, Task> work, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return loop.WaitForAsync(
            async token =>
            {
                await work(token).ConfigureAwait(false);
                return true;
            },
            timeout,
            cancellationToken);
    }

    private static async Task<T> WaitForCoreAsync<T>(TimeoutScope scope, Func<CancellationToken, Task<T>> work)
    {
        // Resumes on the loop (no ConfigureAwait(false)): the scope is disposed on the loop thread.
        using (scope)
        {
            return await scope.RunAsync(token => Start(work, token));
        }
    }
}
