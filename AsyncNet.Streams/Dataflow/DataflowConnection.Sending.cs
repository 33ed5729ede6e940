using System.Threading.Tasks.Dataflow;
using AsyncNet.Errors;

namespace AsyncNet.Streams.Dataflow;

/// <summary>The sending direction: an ActionBlock on the loop that writes and drains, and the target block around it.</summary>
public sealed partial class DataflowConnection
{
    private static readonly Action<object?> s_sendEndedOnLoop = static state =>
    {
        var connection = (DataflowConnection)state!;
        connection.FinishOnLoop();
        connection._sendCompletion.TrySetResult();
    };

    // Writes each segment on the loop thread. Its BoundedCapacity counts the segment being drained, so offers beyond
    // SendCapacity are postponed until the drain completes.
    private readonly ActionBlock<ReadOnlyMemory<byte>> _sending;
    private readonly ConnectionTarget _target;

    // The target's completion: set after the end of sending was acted on (EOF or close requested), or with its fault.
    private readonly TaskCompletionSource _sendCompletion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ActionBlock<ReadOnlyMemory<byte>> CreateSending(int capacity)
    {
        var sending = new ActionBlock<ReadOnlyMemory<byte>>(WriteSegmentAsync, new ExecutionDataflowBlockOptions
        {
            BoundedCapacity = capacity,
            MaxDegreeOfParallelism = 1,

            // On the loop thread the writer hands bytes straight to the transport (no copy unless it must queue them),
            // and a drain below the low mark completes synchronously.
            TaskScheduler = _loop.TaskScheduler,
        });
        _ = sending.Completion.ContinueWith(
            static (completion, state) => ((DataflowConnection)state!).SendEnded(completion),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return sending;
    }

    /// <summary>Writes one segment and waits until the transport's buffer is back at its low mark.</summary>
    private Task WriteSegmentAsync(ReadOnlyMemory<byte> segment)
    {
        if (_closed)
        {
            throw new ConnectionResetException("The connection is closed: a segment accepted by its target could not be sent.");
        }

        _writer.Write(segment.Span);
        ValueTask drained = _writer.DrainAsync();
        return drained.IsCompletedSuccessfully ? Task.CompletedTask : drained.AsTask();
    }

    /// <summary>The sending block finished: act on the end of sending, or fail the connection with its fault.</summary>
    private void SendEnded(Task completion)
    {
        lock (_lock)
        {
            _sendEnded = true;
        }

        if (completion.Exception is { } error)
        {
            // Report the connection's first error, not whatever else the block collected on the way down (a drain that
            // failed because the abort closed the transport).
            Fail(error);
            Exception reason;
            lock (_lock)
            {
                reason = _error!;
            }

            _sendCompletion.TrySetException(reason);
            return;
        }

        if (!RunOnLoop(s_sendEndedOnLoop))
        {
            _sendCompletion.TrySetResult();
        }
    }

    /// <summary>The target block: accepts into the sending block; <c>Fault</c> fails the connection.</summary>
    private sealed class ConnectionTarget(DataflowConnection connection) : ITargetBlock<ReadOnlyMemory<byte>>
    {
        public Task Completion => connection._sendCompletion.Task;

        public DataflowMessageStatus OfferMessage(
            DataflowMessageHeader messageHeader, ReadOnlyMemory<byte> messageValue, ISourceBlock<ReadOnlyMemory<byte>>? source, bool consumeToAccept) =>
            ((ITargetBlock<ReadOnlyMemory<byte>>)connection._sending).OfferMessage(messageHeader, messageValue, source, consumeToAccept);

        public void Complete() => connection._sending.Complete();

        public void Fault(Exception exception)
        {
            ArgumentNullException.ThrowIfNull(exception);
            connection.Fail(exception);
        }

        public override string ToString() => $"Target of {connection}";
    }
}
