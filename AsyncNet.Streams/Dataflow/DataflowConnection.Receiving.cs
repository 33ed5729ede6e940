using System.Diagnostics.CodeAnalysis;
using System.Threading.Tasks.Dataflow;

namespace AsyncNet.Streams.Dataflow;

/// <summary>The receiving direction: the pump from the reader into the source's buffer, and the source block itself.</summary>
public sealed partial class DataflowConnection
{
    private readonly int _maxSegmentLength;

    // What Source offers from: bounded, so a full buffer stops the pump (and, through the reader, the transport).
    private readonly BufferBlock<ReadOnlyMemory<byte>> _received;
    private readonly ConnectionSource _source;

    // Cancelled by Source.Complete and by Fail: stops a pending read (a cancelled read consumes nothing).
    private readonly CancellationTokenSource _stopReceiving = new();

    // Cancelled by Fail only: stops a SendAsync waiting for room, whose segment is then dropped.
    private readonly CancellationTokenSource _abortReceiving = new();

    /// <summary>The pump: reads segments and sends them to the buffer until EOF, Source.Complete or a fault.</summary>
    /// <remarks>
    /// Runs as a loop task and awaits in the loop's context on purpose: a read waiting on the loop thread finishes inside
    /// the transport's callback, without a thread hop or an extra iteration.
    /// </remarks>
    private async Task ReceiveAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                // ReadAsync(n) returns a fresh array of exactly the bytes read: the segment the message owns.
                byte[] segment = await _reader.ReadAsync(_maxSegmentLength, _stopReceiving.Token);
                if (segment.Length == 0)
                {
                    break;
                }

                Task<bool> sent = _received.SendAsync(segment, _abortReceiving.Token);
                if (!sent.IsCompleted)
                {
                    // The buffer is full: a consumer on the thread pool makes room. Wait there, not in the loop's context
                    // (whose post would throw on a pool thread if the loop closed meanwhile), then come back.
                    await ((Task)sent).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    await ResumeOnLoopAsync().ConfigureAwait(false);
                }

                if (!await sent)
                {
                    // The buffer declines for good: it was faulted.
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stopReceiving.IsCancellationRequested || _abortReceiving.IsCancellationRequested)
        {
            // Source.Complete (stop reading; what is buffered is still offered) or Fail.
        }
        catch (Exception ex)
        {
            // The connection was lost with an error (a reset), or someone else read from the reader.
            error = ex;
        }

        if (error is not null)
        {
            Fail(error);
        }
        else
        {
            _received.Complete();
        }

        lock (_lock)
        {
            _receiveEnded = true;
        }

        RunOnLoop(s_finishOnLoop);
    }

    /// <summary>Stops reading; the segments already buffered are still offered, then the source completes.</summary>
    private void StopReceiving() => _stopReceiving.Cancel();

    /// <summary>A task completed by a loop callback, so an awaiter that does not capture a context continues there, on the loop thread.</summary>
    /// <returns>The task; it fails with <see cref="ObjectDisposedException"/> if the loop is closed.</returns>
    private Task ResumeOnLoopAsync()
    {
        // Synchronous continuations on purpose: the pump runs on inside the callback.
        var resumed = new TaskCompletionSource();
        try
        {
            _loop.CallSoonThreadSafe(static state => ((TaskCompletionSource)state!).SetResult(), resumed);
        }
        catch (ObjectDisposedException ex)
        {
            resumed.SetException(ex);
        }

        return resumed.Task;
    }

    /// <summary>
    /// Watches a target linked with PropagateCompletion: if it faults, nothing will consume the connection's bytes any
    /// more (the source would fill and reading would pause for ever), so the connection fails with its error.
    /// </summary>
    private IDisposable WatchLinkedTarget(IDisposable link, ITargetBlock<ReadOnlyMemory<byte>> target)
    {
        Task targetCompletion;
        try
        {
            targetCompletion = target.Completion;
        }
        catch (NotSupportedException)
        {
            // ReceiveAsync's and OutputAvailableAsync's internal targets have no completion to watch.
            return link;
        }

        var watched = new WatchedLink(this, link);
        _ = targetCompletion.ContinueWith(
            static (completion, state) => ((WatchedLink)state!).TargetCompleted(completion),
            watched,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return watched;
    }

    /// <summary>A link from the source whose target's fault fails the connection, until the link is disposed.</summary>
    private sealed class WatchedLink(DataflowConnection connection, IDisposable link) : IDisposable
    {
        private volatile bool _disposed;

        public void TargetCompleted(Task completion)
        {
            if (!_disposed && completion.Exception is { } error)
            {
                connection.Fail(error);
            }
        }

        public void Dispose()
        {
            _disposed = true;
            link.Dispose();
        }
    }

    /// <summary>
    /// The source block: offers from the buffer; <c>Complete</c> stops reading, <c>Fault</c> fails the connection, and
    /// linking watches the target (see <see cref="WatchLinkedTarget"/>).
    /// </summary>
    private sealed class ConnectionSource(DataflowConnection connection) : IReceivableSourceBlock<ReadOnlyMemory<byte>>
    {
        private ISourceBlock<ReadOnlyMemory<byte>> Buffer => connection._received;

        public Task Completion => connection._received.Completion;

        public void Complete() => connection.StopReceiving();

        public void Fault(Exception exception)
        {
            ArgumentNullException.ThrowIfNull(exception);
            connection.Fail(exception);
        }

        public IDisposable LinkTo(ITargetBlock<ReadOnlyMemory<byte>> target, DataflowLinkOptions linkOptions)
        {
            ArgumentNullException.ThrowIfNull(target);
            ArgumentNullException.ThrowIfNull(linkOptions);
            IDisposable link = connection._received.LinkTo(target, linkOptions);
            return linkOptions.PropagateCompletion ? connection.WatchLinkedTarget(link, target) : link;
        }

        public ReadOnlyMemory<byte> ConsumeMessage(DataflowMessageHeader messageHeader, ITargetBlock<ReadOnlyMemory<byte>> target, out bool messageConsumed) =>
            Buffer.ConsumeMessage(messageHeader, target, out messageConsumed);

        public bool ReserveMessage(DataflowMessageHeader messageHeader, ITargetBlock<ReadOnlyMemory<byte>> target) =>
            Buffer.ReserveMessage(messageHeader, target);

        public void ReleaseReservation(DataflowMessageHeader messageHeader, ITargetBlock<ReadOnlyMemory<byte>> target) =>
            Buffer.ReleaseReservation(messageHeader, target);

        public bool TryReceive(Predicate<ReadOnlyMemory<byte>>? filter, out ReadOnlyMemory<byte> item) =>
            connection._received.TryReceive(filter, out item);

        public bool TryReceiveAll([NotNullWhen(true)] out IList<ReadOnlyMemory<byte>>? items) => connection._received.TryReceiveAll(out items);

        public override string ToString() => $"Source of {connection}";
    }
}
