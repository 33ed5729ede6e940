using System.Collections.Concurrent;
using System.Diagnostics;
using AsyncNet.Buffers;
using AsyncNet.Diagnostics;
using AsyncNet.Selectors;

namespace AsyncNet.Loop;

/// <summary>
/// A single-threaded event loop over a selector: runs callbacks, timers and I/O readiness handlers, as
/// asyncio's <c>SelectorEventLoop</c> does.
/// </summary>
/// <remarks>
/// <para>
/// One iteration (<see cref="RunOnce"/>): wait in the selector until a descriptor is ready, the next timer
/// is due or another thread wakes the loop (not at all if callbacks are ready); queue the handlers of ready
/// descriptors, then the callbacks other threads sent, then the due timers; then run exactly the callbacks
/// queued when the run began. A callback scheduled while they run goes to the next iteration, so a callback
/// that reschedules itself cannot starve I/O.
/// </para>
/// <para>
/// Thread affinity: every member except <see cref="CallSoonThreadSafe(Action)"/>, <see cref="Stop"/>,
/// <see cref="Handle.Cancel"/>, <see cref="Time"/> and the read-only state properties must be called on the
/// loop's thread while it runs (or from any single thread while it does not); a call from another thread
/// while the loop runs throws <see cref="InvalidOperationException"/>. In debug mode (<see cref="EventLoopOptions.Debug"/>)
/// the loop-bound members that skip this check for speed otherwise (a future's state, protocol and flow-control
/// callbacks) check it too.
/// </para>
/// <para>
/// While the loop runs, its thread's <see cref="SynchronizationContext"/> is the loop's, so code started
/// with <see cref="CreateTask(Func{Task}, CancellationToken)"/> resumes on the loop thread after every <c>await</c>.
/// </para>
/// </remarks>
public sealed partial class EventLoop : IDisposable
{
    #pragma warning disable IDE1006 // [ThreadStatic] fields are t_camelCase, which the s_ rule cannot tell apart
    [ThreadStatic]
    private static EventLoop? t_current;
    #pragma warning restore IDE1006

    private static readonly object s_wakerMarker = new();

    private readonly ISelector _selector;
    private readonly Waker _waker;
    private readonly SelectorKey _wakerKey;
    private readonly TimeProvider _timeProvider;
    private readonly long _originTimestamp;
    private readonly Queue<Handle> _ready = new();
    private readonly ConcurrentQueue<Handle> _threadSafeReady = new();
    private readonly LoopSynchronizationContext _synchronizationContext;
    private readonly LoopTaskScheduler _taskScheduler;

    // 0: no wake-up pending; 1: a thread wrote (or is about to write) the waker and the loop has not drained it.
    private int _wakePending;
    private volatile bool _stopping;
    private volatile bool _closed;

    // Managed id of the thread inside RunForever, or 0 while the loop is not running.
    private volatile int _threadId;
    private Action<EventLoop, LoopExceptionContext>? _exceptionHandler;

    /// <summary>Creates a loop with its own selector and wake-up descriptor.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (<see cref="EventLoopOptions.SlowCallbackDuration"/> not positive, <see cref="EventLoopOptions.MaxReportsPerSecond"/> below 1).</exception>
    /// <exception cref="ArgumentNullException"><see cref="EventLoopOptions.TimeProvider"/> is null.</exception>
    public EventLoop(EventLoopOptions? options = null)
    {
        options ??= new EventLoopOptions();
        options.Validate(nameof(options));
        _debug = options.Debug;
        _slowCallbackDuration = options.SlowCallbackDuration;
        _log = new LoopLog(options.Logger, options.ErrorOutput, options.MaxReportsPerSecond);
        _selector = options.Selector ?? SelectorFactory.Create(options.SelectorKind);
        _timeProvider = options.TimeProvider;
        _originTimestamp = _timeProvider.GetTimestamp();
        _waker = Waker.Create(_selector);
        _wakerKey = _waker.Register(_selector, s_wakerMarker);
        _synchronizationContext = new LoopSynchronizationContext(this);
        _taskScheduler = new LoopTaskScheduler(this);
        BufferPool = new BufferPool(() => IsOnLoopThread);
    }

    /// <summary>
    /// The byte arrays this loop's connections read into, queue unsent bytes in and hand to their stream readers: one
    /// pool per loop, without locks on the loop thread and safe to return to from any thread.
    /// </summary>
    public BufferPool BufferPool { get; }

    /// <summary>The loop running on the calling thread, or <see langword="null"/> (asyncio's <c>get_running_loop</c>).</summary>
    public static EventLoop? Current => t_current;

    /// <summary>The loop's monotonic clock: time elapsed since the loop was created, from its <see cref="EventLoopOptions.TimeProvider"/>.</summary>
    public TimeSpan Time => _timeProvider.GetElapsedTime(_originTimestamp);

    /// <summary>Whether the loop is inside <see cref="RunForever"/> or <see cref="RunUntilComplete(Task)"/>.</summary>
    public bool IsRunning => _threadId != 0;

    /// <summary>Whether <see cref="Close"/> has been called.</summary>
    public bool IsClosed => _closed;

    /// <summary>The selector the loop waits on.</summary>
    public ISelector Selector => _selector;

    /// <summary>The synchronization context installed on the loop thread while it runs.</summary>
    public SynchronizationContext SynchronizationContext => _synchronizationContext;

    /// <summary>A task scheduler that runs tasks on the loop thread.</summary>
    public TaskScheduler TaskScheduler => _taskScheduler;

    /// <summary>
    /// Whether the caller is the thread running this loop (Netty's <c>inEventLoop()</c>): <see langword="false"/> on
    /// any other thread, and on every thread while the loop is not running.
    /// </summary>
    /// <remarks>
    /// Code that may run on either side uses it to choose: on the loop thread call transports, protocols and futures
    /// directly; elsewhere hand the work over with <see cref="CallSoonThreadSafe(Action)"/>.
    /// </remarks>
    public bool IsOnLoopThread => _threadId == Environment.CurrentManagedThreadId;

    /// <summary>
    /// Receives exceptions that no caller can observe (a throwing callback, a failed transport).
    /// The default, <see langword="null"/>, uses <see cref="DefaultExceptionHandler"/>.
    /// </summary>
    /// <remarks>A handler that throws is reported through <see cref="DefaultExceptionHandler"/>; the loop keeps running either way.</remarks>
    public Action<EventLoop, LoopExceptionContext>? ExceptionHandler
    {
        get => _exceptionHandler;
        set => _exceptionHandler = value;
    }

    /// <summary>Schedules <paramref name="callback"/> to run on the next loop iteration (FIFO).</summary>
    /// <param name="callback">The callback.</param>
    /// <returns>A handle that can cancel the call.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public Handle CallSoon(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return EnqueueReady(new Handle(this, callback, null));
    }

    /// <summary>Schedules <paramref name="callback"/>(<paramref name="state"/>) to run on the next iteration, without a closure.</summary>
    /// <param name="callback">The callback.</param>
    /// <param name="state">The argument passed to the callback.</param>
    /// <returns>A handle that can cancel the call.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public Handle CallSoon(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return EnqueueReady(new Handle(this, callback, state));
    }

    /// <summary>Schedules <paramref name="callback"/> from any thread, waking the loop if it is waiting.</summary>
    /// <param name="callback">The callback.</param>
    /// <returns>A handle that can cancel the call.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public Handle CallSoonThreadSafe(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return EnqueueThreadSafe(new Handle(this, callback, null));
    }

    /// <summary>Schedules <paramref name="callback"/>(<paramref name="state"/>) from any thread, waking the loop if it is waiting.</summary>
    /// <param name="callback">The callback.</param>
    /// <param name="state">The argument passed to the callback.</param>
    /// <returns>A handle that can cancel the call.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public Handle CallSoonThreadSafe(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return EnqueueThreadSafe(new Handle(this, callback, state));
    }

    /// <summary>Runs iterations until <see cref="Stop"/> is called.</summary>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">The loop, or another loop on this thread, is already running.</exception>
    public void RunForever()
    {
        ThrowIfClosed();
        if (IsRunning)
        {
            throw new InvalidOperationException("This event loop is already running.");
        }

        if (t_current is not null)
        {
            throw new InvalidOperationException("Another event loop is already running on this thread.");
        }

        SynchronizationContext? previousContext = SynchronizationContext.Current;
        _threadId = Environment.CurrentManagedThreadId;
        t_current = this;
        SynchronizationContext.SetSynchronizationContext(_synchronizationContext);
        try
        {
            while (true)
            {
                RunOnce();
                if (_stopping)
                {
                    break;
                }
            }
        }
        finally
        {
            _stopping = false;
            t_current = null;
            _threadId = 0;
            SynchronizationContext.SetSynchronizationContext(previousContext);
        }
    }

    /// <summary>
    /// Asks the loop to stop: <see cref="RunForever"/> returns after the current iteration. Safe from any
    /// thread. Called while the loop is not running, the next run performs one iteration and returns.
    /// </summary>
    public void Stop()
    {
        _stopping = true;
        if (!IsOnLoopThread && !_closed)
        {
            WakeUp();
        }
    }

    /// <summary>Closes the loop: drops pending callbacks and timers, then closes the selector and wake-up descriptor.</summary>
    /// <remarks>
    /// Idempotent. Descriptors added with <see cref="AddReader(int, Action)"/> are not closed; their owners close them.
    /// Work posted with <see cref="RunCoroutineThreadSafe{T}"/> that has not started fails with
    /// <see cref="ObjectDisposedException"/>, so no other thread waits for it forever.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The loop is running.</exception>
    public void Close()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("Cannot close a running event loop.");
        }

        if (_closed)
        {
            return;
        }

        _closed = true;
        _log.WriteEndedSummaries(TimeSpan.MaxValue);
        AbandonQueued();
        _ready.Clear();
        _threadSafeReady.Clear();
        _timers.Clear();
        _cancelledTimers = 0;
        _registrations.Clear();
        _selector.Unregister(_wakerKey.Fd);
        _waker.Dispose();
        _selector.Dispose();
    }

    /// <summary>Tells the queued callbacks that wait on behalf of a caller (cross-thread work) that they will never run.</summary>
    private void AbandonQueued()
    {
        foreach (Handle handle in _ready.Concat(_threadSafeReady))
        {
            if (handle.State is IAbandonable abandoned)
            {
                abandoned.Abandon();
            }
        }
    }

    /// <summary>Closes the loop (<see cref="Close"/>).</summary>
    public void Dispose() => Close();

    /// <summary>Sends <paramref name="context"/> to the <see cref="ExceptionHandler"/>, or the default one.</summary>
    /// <param name="context">What happened.</param>
    public void CallExceptionHandler(LoopExceptionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Action<EventLoop, LoopExceptionContext>? handler = _exceptionHandler;
        if (handler is null)
        {
            DefaultExceptionHandler(context);
            return;
        }

        try
        {
            handler(this, context);
        }
        catch (Exception ex)
        {
            DefaultExceptionHandler(new LoopExceptionContext("Unhandled exception in the event loop's exception handler", ex));
            DefaultExceptionHandler(context);
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"EventLoop({(IsClosed ? "closed" : IsRunning ? "running" : "idle")}, Ready={_ready.Count}, Timers={_timers.Count}, Selector={_selector})";

    /// <summary>Runs one iteration, as described in the type's remarks.</summary>
    /// <remarks>Internal so tests on a manual clock can step the loop; <see cref="RunForever"/> is the public way.</remarks>
    internal void RunOnce()
    {
        PruneCancelledTimers();

        TimeSpan? timeout;
        if (_ready.Count > 0 || _stopping || !_threadSafeReady.IsEmpty)
        {
            timeout = TimeSpan.Zero;
        }
        else if (_timers.Count > 0)
        {
            TimeSpan wait = _timers.Peek().When - Time;
            timeout = wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        else
        {
            timeout = null;
        }

        ReadOnlySpan<SelectorReady> events = _selector.Select(timeout);

        // The iteration's work is timed only while its histogram is listened to (EventLoop.Diagnostics.cs).
        bool timed = CoreMeter.LoopIterationDuration.Enabled;
        long started = timed ? _timeProvider.GetTimestamp() : 0;
        ProcessEvents(events);

        // Reset the wake flag before taking the queue: a thread that enqueues after this point sees 0 and wakes
        // the next select; one that enqueued before it is taken just below.
        Volatile.Write(ref _wakePending, 0);
        while (_threadSafeReady.TryDequeue(out Handle? handle))
        {
            _ready.Enqueue(handle);
        }

        QueueDueTimers();

        // Only what is ready now runs in this iteration; callbacks scheduled meanwhile wait for the next.
        int ready = _ready.Count;
        if (_debug || CoreMeter.SlowCallbacks.Enabled)
        {
            RunTimed(ready);
        }
        else
        {
            for (int remaining = ready; remaining > 0; remaining--)
            {
                _ready.Dequeue().Run();
            }
        }

        RecordIteration(timed, started, ready);
    }

    /// <summary>
    /// Throws unless the caller may use the loop's thread-bound members now: it is on the loop's thread, or the loop is
    /// not running (WPF's <c>Dispatcher.VerifyAccess</c>; <see cref="IsOnLoopThread"/> is the non-throwing test).
    /// </summary>
    /// <remarks>Loop-bound components of your own (a protocol, a cache only loop code touches) can guard themselves with it.</remarks>
    /// <exception cref="InvalidOperationException">The loop runs on another thread.</exception>
    public void VerifyAccess()
    {
        int owner = _threadId;
        if (owner != 0 && owner != Environment.CurrentManagedThreadId)
        {
            throw new InvalidOperationException(
                "This event loop member was called from a thread other than the loop's; use CallSoonThreadSafe to reach the loop.");
        }
    }

    internal void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new ObjectDisposedException(nameof(EventLoop), "The event loop is closed.");
        }
    }

    /// <summary>Queues from the loop thread when on it (no wake-up needed), otherwise thread-safely.</summary>
    internal Handle CallSoonFromAnyThread(object callback, object? state)
    {
        var handle = new Handle(this, callback, state);
        return IsOnLoopThread ? EnqueueReady(handle) : EnqueueThreadSafe(handle);
    }

    /// <summary>
    /// Like <see cref="CallSoonFromAnyThread"/>, but drops the callback and returns false once the loop is closed.
    /// </summary>
    /// <remarks>
    /// For the loop's SynchronizationContext and TaskScheduler: the runtime calls them from whatever thread completed
    /// the awaited work, often a thread-pool thread, where an exception would end the process. A continuation bound to
    /// a closed loop has no thread left to run on (asyncio drops a closed loop's pending callbacks too), and one queued
    /// just before Close is dropped with the rest of the queue.
    /// </remarks>
    internal bool TryCallSoonFromAnyThread(object callback, object? state)
    {
        if (_closed)
        {
            return false;
        }

        try
        {
            CallSoonFromAnyThread(callback, state);
            return true;
        }
        catch (ObjectDisposedException) when (_closed)
        {
            return false; // closed between the check and the enqueue
        }
    }

    private Handle EnqueueReady(Handle handle)
    {
        ThrowIfClosed();
        VerifyAccess();
        _ready.Enqueue(handle);
        return handle;
    }

    private Handle EnqueueThreadSafe(Handle handle)
    {
        ThrowIfClosed();
        _threadSafeReady.Enqueue(handle);
        if (!IsOnLoopThread)
        {
            WakeUp();
        }

        return handle;
    }

    private void WakeUp()
    {
        // Coalesce: one write per drain, however many threads call in.
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            try
            {
                _waker.Wake();
            }
            catch (ObjectDisposedException) when (_closed)
            {
                // Raced with Close: nobody is left to wake.
            }
        }
    }

    private void ProcessEvents(ReadOnlySpan<SelectorReady> events)
    {
        foreach (SelectorReady ready in events)
        {
            object? data = ready.Key.Data;
            if (ReferenceEquals(data, s_wakerMarker))
            {
                _waker.Drain();
                continue;
            }

            var registration = (IoRegistration)data!;
            if ((ready.Events & SelectorEvents.Read) != 0 && registration.Reader is { } reader)
            {
                QueueIoHandle(reader, registration, SelectorEvents.Read);
            }

            if ((ready.Events & SelectorEvents.Write) != 0 && registration.Writer is { } writer)
            {
                QueueIoHandle(writer, registration, SelectorEvents.Write);
            }
        }
    }

    private void QueueIoHandle(Handle handle, IoRegistration registration, SelectorEvents which)
    {
        if (handle.IsCancelled)
        {
            // Cancelling a reader's or writer's handle removes it, lazily, as asyncio does.
            RemoveInterest(registration.Fd, which);
            return;
        }

        _ready.Enqueue(handle);
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        // Only a lower bound holds: a Cancel racing with the loop popping that timer may count it once more.
        Debug.Assert(_cancelledTimers >= 0, "The count of cancelled timers in the heap is never negative");
    }
}
