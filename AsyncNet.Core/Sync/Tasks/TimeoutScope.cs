using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// A deadline on the loop's clock with a <see cref="Token"/> that is cancelled when it passes, asyncio's
/// <c>timeout()</c> context manager: work run through <see cref="RunAsync{T}(Func{CancellationToken, Task{T}})"/>
/// sees the cancellation, and the scope turns it into <see cref="TimeoutException"/>. Created by
/// <see cref="LoopTasks.Timeout"/> and <see cref="LoopTasks.TimeoutAt"/>.
/// </summary>
/// <remarks>
/// <para>
/// States: active (deadline pending or none) → expired (the deadline passed and <see cref="Token"/> was
/// cancelled) or disposed. <see cref="Reschedule"/> moves the deadline while active, as asyncio's
/// <c>reschedule()</c> does; it throws once expired. A cancellation of the outer token also cancels
/// <see cref="Token"/> but is not a timeout: it surfaces as <see cref="OperationCanceledException"/>.
/// </para>
/// <para>
/// Without <c>RunAsync</c>, pass <see cref="Token"/> along yourself and translate with
/// <c>catch (OperationCanceledException) when (scope.IsExpired)</c>. Thread affinity: create, reschedule and
/// dispose on the loop's thread; <see cref="Token"/> and <see cref="IsExpired"/> may be read anywhere.
/// </para>
/// </remarks>
public sealed class TimeoutScope : IDisposable
{
    private static readonly Action<object?> s_expire = static state => ((TimeoutScope)state!).Expire();

    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _outer;
    private TimerHandle? _timer;
    private TimeSpan? _when;
    private volatile bool _expired;
    private bool _disposed;

    internal TimeoutScope(EventLoop loop, TimeSpan? when, CancellationToken outer)
    {
        Loop = loop;
        _outer = outer;
        _source = outer.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(outer) : new CancellationTokenSource();
        Schedule(when);
    }

    /// <summary>The loop whose clock the deadline is on.</summary>
    public EventLoop Loop { get; }

    /// <summary>Cancelled when the deadline passes or the outer token is cancelled.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The deadline on the loop's clock (<see cref="EventLoop.Time"/>), or <see langword="null"/> for none.</summary>
    public TimeSpan? When => _when;

    /// <summary>Whether the deadline passed and cancelled <see cref="Token"/> (asyncio's <c>expired()</c>).</summary>
    public bool IsExpired => _expired;

    /// <summary>Moves the deadline (asyncio's <c>reschedule</c>); a time already past expires the scope on the next iteration.</summary>
    /// <param name="when">The new deadline on the loop's clock, or <see langword="null"/> for none.</param>
    /// <exception cref="InvalidOperationException">The scope has expired, or called from another thread while the loop runs.</exception>
    /// <exception cref="ObjectDisposedException">The scope is disposed.</exception>
    public void Reschedule(TimeSpan? when)
    {
        Loop.VerifyAccess();
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_expired)
        {
            throw new InvalidOperationException("Cannot reschedule a timeout scope that has already expired.");
        }

        _timer?.Cancel();
        _timer = null;
        Schedule(when);
    }

    /// <summary>Runs <paramref name="work"/> with <see cref="Token"/>, turning the scope's expiry into <see cref="TimeoutException"/>.</summary>
    /// <param name="work">The work; it should observe the token it is given.</param>
    /// <returns>A task that completes when the work has finished, also after a timeout (it is awaited until it has finished cancelling).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is null.</exception>
    /// <exception cref="TimeoutException">The deadline passed and the work ended with <see cref="OperationCanceledException"/> (through the returned task).</exception>
    public async Task RunAsync(Func<CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        try
        {
            await work(Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (IsTimeout)
        {
            throw NewTimeout(ex);
        }
    }

    /// <summary>Runs <paramref name="work"/> with <see cref="Token"/>, turning the scope's expiry into <see cref="TimeoutException"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The work; it should observe the token it is given.</param>
    /// <returns>The work's result; a result returned despite the expiry is kept (asyncio's rule).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is null.</exception>
    /// <exception cref="TimeoutException">The deadline passed and the work ended with <see cref="OperationCanceledException"/> (through the returned task).</exception>
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        try
        {
            return await work(Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (IsTimeout)
        {
            throw NewTimeout(ex);
        }
    }

    /// <summary>Cancels the pending deadline and releases the token source. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void Dispose()
    {
        Loop.VerifyAccess();
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _timer?.Cancel();
        _timer = null;
        _source.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"TimeoutScope({(_expired ? "Expired" : _disposed ? "Disposed" : "Active")}, When={(_when is { } w ? w.ToString() : "none")})";

    // The outer token's own cancellation is not a timeout, even if the deadline also passed.
    private bool IsTimeout => _expired && !_outer.IsCancellationRequested;

    private TimeoutException NewTimeout(OperationCanceledException cancellation) =>
        new($"The operation did not complete before its deadline (loop time {_when}).", cancellation);

    private void Schedule(TimeSpan? when)
    {
        _when = when;
        if (when is { } due)
        {
            _timer = Loop.CallAt(due, s_expire, this);
        }
    }

    private void Expire()
    {
        if (_disposed || _source.IsCancellationRequested)
        {
            return;
        }

        _expired = true;
        _timer = null;

        // Callbacks registered on the token run here, on the loop thread; loop primitives marshal their own.
        _source.Cancel();
    }
}
