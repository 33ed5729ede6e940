using AsyncNet.Loop;

namespace AsyncNet.Diagnostics;

/// <summary>
/// Debug mode's witness of a failed <see cref="Future"/> whose exception nobody has retrieved yet: if it is
/// garbage-collected undismissed, the future went with it unread, and the loop hears "Future exception was never
/// retrieved" (asyncio's report).
/// </summary>
/// <remarks>
/// The future holds the only reference to it, so the two become garbage together; only this small object is
/// finalizable, so futures themselves stay cheap to allocate and collect whether debug mode is on or not.
/// </remarks>
/// <param name="future">The failed future.</param>
/// <param name="exception">Its exception.</param>
internal sealed class UnretrievedFutureException(Future future, Exception exception)
{
    /// <summary>The message of the report.</summary>
    public const string Message = "Future exception was never retrieved";

    /// <summary>The exception was retrieved: nothing to report.</summary>
    public void Dismiss() => GC.SuppressFinalize(this);

    /// <summary>Reports the exception to the future's loop (from the finalizer thread, so through the loop's queue).</summary>
    ~UnretrievedFutureException() => future.Loop.ReportFromAnyThread(new LoopExceptionContext(Message, exception) { Future = future });
}
