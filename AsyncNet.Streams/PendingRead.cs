using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace AsyncNet.Streams;

/// <summary>
/// A read that has to wait for data: the <see cref="IValueTaskSource{TResult}"/> behind the <see cref="ValueTask{TResult}"/>
/// it returns. One instance per reader and result type (and one per framing reader, for buffered reads), reused by every
/// read that waits, so waiting allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// It waits on the channel (<c>WaitToReadAsync</c>), and each time the channel has news it re-runs the read's attempt,
/// until the attempt finishes, fails, or the wait is cancelled. The channel runs that continuation synchronously on
/// the thread that published (the loop thread), or on the thread that cancelled.
/// </para>
/// <para>
/// Where the awaiter continues:
/// <list type="bullet">
/// <item>awaited on the loop thread in the loop's context (the usual loop consumer): inline, on the loop thread, right
/// where the read finishes; every completion of such a read happens on the loop thread (a cancellation from elsewhere is
/// handed to the loop first), so this is continuing in that context without a post;</item>
/// <item>any other awaiter: asynchronously (its captured context, or the thread pool), never inline on the loop thread.</item>
/// </list>
/// </para>
/// <para>
/// States: idle → waiting (<see cref="Start"/>) → completed (<see cref="Finish"/>) → idle again when the awaiter
/// observes the result (<see cref="GetResult"/>), which also ends the reader's read in progress.
/// </para>
/// </remarks>
/// <typeparam name="T">The read's result type.</typeparam>
internal sealed class PendingRead<T> : IValueTaskSource<T>
{
    private static readonly Action<object?> s_finishOnLoop = static state => ((PendingRead<T>)state!).FinishOnLoop();

    private readonly StreamReader _reader;
    private readonly Action _onWaitCompleted;
    private ManualResetValueTaskSourceCore<T> _core;
    private Attempt? _attempt;
    private ReadRequest _request;
    private CancellationToken _cancellationToken;
    private ConfiguredValueTaskAwaitable<bool>.ConfiguredValueTaskAwaiter _wait;

    // Whether the read started on the loop thread: then it must also complete there.
    private bool _startedOnLoop;

    // Whether the result of the current read has been observed (so the reader's read-in-progress flag was cleared).
    private bool _observed = true;

    // An outcome produced off the loop for a read that must complete on it, waiting for FinishOnLoop.
    private T? _deferredResult;
    private Exception? _deferredError;

    public PendingRead(StreamReader reader)
    {
        _reader = reader;
        _onWaitCompleted = OnWaitCompleted;
    }

    /// <summary>Tries to finish a read from what is buffered.</summary>
    /// <returns><see langword="true"/> with the result; <see langword="false"/> to wait for more data. Failures are thrown.</returns>
    public delegate bool Attempt(StreamReader reader, ref ReadRequest request, out T result);

    /// <summary>Starts waiting for the read described by <paramref name="request"/>, whose first attempt did not finish.</summary>
    public ValueTask<T> Start(Attempt attempt, ref ReadRequest request, CancellationToken cancellationToken)
    {
        Debug.Assert(_observed, "A pending read is reused only after its last result was observed");
        _core.Reset();
        _core.RunContinuationsAsynchronously = true;
        _observed = false;
        _attempt = attempt;
        _request = request;
        _cancellationToken = cancellationToken;
        _startedOnLoop = _reader.Loop.IsOnLoopThread;
        var task = new ValueTask<T>(this, _core.Version);
        WaitForData();
        return task;
    }

    /// <summary>
    /// The destination of the read waiting now, if nothing but the loop thread can end that wait before the caller's
    /// next step on it: the read started on the loop thread (so it completes only there) and cannot be cancelled.
    /// </summary>
    /// <param name="destination">The read's <see cref="ReadRequest.Buffer"/>, when this returns <see langword="true"/>.</param>
    /// <returns>Whether a read waits that the loop alone can finish; always <see langword="false"/> off the loop thread.</returns>
    public bool TryGetLoopOnlyDestination(out Memory<byte> destination)
    {
        // _attempt is set from Start until Complete, and a read started on the loop completes on the loop: on the loop
        // thread, a set _attempt means the read still waits, and no other thread touches these fields meanwhile.
        if (_attempt is not null && _startedOnLoop && !_cancellationToken.CanBeCanceled && _reader.Loop.IsOnLoopThread)
        {
            destination = _request.Buffer;
            return true;
        }

        destination = default;
        return false;
    }

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if (_startedOnLoop
            && (flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0
            && SynchronizationContext.Current == _reader.Loop.SynchronizationContext
            && _reader.Loop.IsOnLoopThread)
        {
            // The awaiter wants the loop's context and this read completes on the loop thread: continue inline there.
            _core.RunContinuationsAsynchronously = false;
            flags &= ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext;
        }

        _core.OnCompleted(continuation, state, token, flags);
    }

    /// <inheritdoc/>
    public T GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            if (!_observed && token == _core.Version)
            {
                _observed = true;
                _reader.EndRead();
            }
        }
    }

    /// <summary>Waits on the channel until the attempt finishes; loops while the channel already has news.</summary>
    private void WaitForData()
    {
        while (true)
        {
            ValueTask<bool> wait = _reader.Inbound.Reader.WaitToReadAsync(_cancellationToken);
            _wait = wait.ConfigureAwait(false).GetAwaiter();
            if (!wait.IsCompleted)
            {
                _wait.UnsafeOnCompleted(_onWaitCompleted);
                return;
            }

            if (!Step())
            {
                return;
            }
        }
    }

    private void OnWaitCompleted()
    {
        if (Step())
        {
            WaitForData();
        }
    }

    /// <summary>Observes the finished wait and re-runs the attempt.</summary>
    /// <returns>Whether to wait again. After <see langword="false"/> this object may already serve the next read: touch nothing.</returns>
    private bool Step()
    {
        bool more;
        try
        {
            more = _wait.GetResult();
        }
        catch (Exception ex)
        {
            // Cancelled (or the channel failed): nothing was consumed.
            _wait = default;
            Finish(default, ex);
            return false;
        }

        _wait = default;
        T result;
        try
        {
            if (_attempt!(_reader, ref _request, out result))
            {
                Finish(result, null);
                return false;
            }
        }
        catch (Exception ex)
        {
            Finish(default, ex);
            return false;
        }

        if (!more)
        {
            // The channel is complete, so the attempt saw EOF or the error and must have decided; waiting again would spin.
            Debug.Fail("A read attempt after the end of the stream always finishes");
            Finish(default, new InvalidOperationException("The read could not finish after the end of the stream."));
            return false;
        }

        return true;
    }

    private void Finish(T? result, Exception? error)
    {
        _reader.EndWait();
        if (_startedOnLoop && !_reader.Loop.IsOnLoopThread)
        {
            // A read started on the loop completes there, where an inline awaiter may be waiting (cancelled from elsewhere).
            _deferredResult = result;
            _deferredError = error;
            try
            {
                _reader.Loop.CallSoonThreadSafe(s_finishOnLoop, this);
                return;
            }
            catch (ObjectDisposedException)
            {
                // The loop is closed: complete here; nothing will ever run on it again.
            }
        }

        Complete(result, error);
    }

    private void FinishOnLoop()
    {
        T? result = _deferredResult;
        Exception? error = _deferredError;
        _deferredResult = default;
        _deferredError = null;
        Complete(result, error);
    }

    private void Complete(T? result, Exception? error)
    {
        _attempt = null;
        _request = default;
        _cancellationToken = default;
        if (error is null)
        {
            _core.SetResult(result!);
        }
        else
        {
            _core.SetException(error);
        }
    }
}
