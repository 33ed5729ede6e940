namespace AsyncNet.Loop;

/// <summary>Hands one task's outcome to a task completion source: the loop's cross-thread calls and debug-mode task proxies.</summary>
internal static class TaskForwarding
{
    /// <summary>
    /// Completes <paramref name="target"/> as <paramref name="done"/> completed: with its result (the default for a task
    /// without one), its exceptions, or its cancellation and the token it was cancelled with. Reading them observes
    /// <paramref name="done"/>'s exception.
    /// </summary>
    /// <param name="target">The source to complete.</param>
    /// <param name="done">A completed task.</param>
    public static void TrySetFrom<T>(this TaskCompletionSource<T> target, Task done)
    {
        if (done.IsCanceled)
        {
            // Keep the work's own token: a caller matching on it must find it.
            try
            {
                done.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException ex)
            {
                target.TrySetCanceled(ex.CancellationToken);
            }
        }
        else if (done.IsFaulted)
        {
            target.TrySetException(done.Exception!.InnerExceptions);
        }
        else
        {
            target.TrySetResult(done is Task<T> typed ? typed.Result : default!);
        }
    }
}
