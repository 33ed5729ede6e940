namespace AsyncNet.Loop;

/// <summary>
/// The synchronization context of a running loop's thread: <c>await</c> continuations captured on the
/// loop come back to it as callbacks.
/// </summary>
/// <remarks>
/// A post from the loop thread is a plain <see cref="EventLoop.CallSoon(Action{object?}, object?)"/> (no
/// wake-up, no lock); from another thread it goes through the thread-safe queue and wakes the loop.
/// A continuation whose awaited work completes on the loop thread itself is run inline by the runtime,
/// since the captured context is the current one, so loop-local awaits cost no extra iteration.
/// Once the loop is closed, posts are dropped rather than thrown (see <see cref="EventLoop.TryCallSoonFromAnyThread"/>):
/// code awaiting inside a closed loop never resumes.
/// </remarks>
internal sealed class LoopSynchronizationContext(EventLoop loop) : SynchronizationContext
{
    public EventLoop Loop { get; } = loop;

    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        Loop.TryCallSoonFromAnyThread(d, state);
    }

    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (Loop.IsOnLoopThread)
        {
            d(state);
            return;
        }

        Exception? failure = null;
        using var done = new ManualResetEventSlim();
        Loop.CallSoonThreadSafe(_ =>
        {
            try
            {
                d(state);
            }
            catch (Exception ex)
            {
                failure = ex;
            }
            finally
            {
                done.Set();
            }
        }, null);
        done.Wait();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    public override SynchronizationContext CreateCopy() => this;
}
