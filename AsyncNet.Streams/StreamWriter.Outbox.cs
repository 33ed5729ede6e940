using AsyncNet.Loop;

namespace AsyncNet.Streams;

/// <summary>
/// The outbox: how calls from threads other than the loop's reach the transport, in order (see the overview in
/// StreamWriter.cs). Entries are queued under the writer's lock; the first of a batch schedules one
/// <c>CallSoonThreadSafe</c>, and the loop replays the batch, gathering consecutive writes into one transport write.
/// </summary>
public sealed partial class StreamWriter
{
    /// <summary>What one outbox entry asks the loop to do.</summary>
    private enum OutboxCommand
    {
        Write,
        WriteEof,
        Close,
        Drain,
    }

    /// <summary>Queues an entry for the loop (lock held); the first entry of a batch schedules the replay.</summary>
    private void EnqueueLocked(OutboxEntry entry)
    {
        _outbox.Enqueue(entry);
        _outboxCount = _outbox.Count;
        if (_outbox.Count == 1)
        {
            _loop.CallSoonThreadSafe(s_flushOutbox, this);
        }
    }

    /// <summary>Replays the outbox on the loop thread, in order; consecutive writes go out as one gathered write.</summary>
    private void FlushOutbox()
    {
        lock (_lock)
        {
            _replaying.AddRange(_outbox);
            _outbox.Clear();
            _outboxCount = 0;
        }

        try
        {
            foreach (OutboxEntry entry in _replaying)
            {
                if (entry.Command == OutboxCommand.Write)
                {
                    _gather.Add(entry.Data.AsMemory(0, entry.Length));
                    continue;
                }

                WriteGathered();
                switch (entry.Command)
                {
                    case OutboxCommand.WriteEof:
                        _transport.WriteEof();
                        break;
                    case OutboxCommand.Close:
                        _transport.Close();
                        break;
                    case OutboxCommand.Drain:
                        _ = CompleteDrainAsync(entry.Drain!);
                        break;
                }
            }

            WriteGathered();
        }
        catch (InvalidOperationException ex)
        {
            // Someone closed the transport itself (not through this writer) while other threads' writes were on their
            // way: they cannot be sent. The drains among them learn it from the transport's state.
            _loop.CallExceptionHandler(new LoopExceptionContext("Writes from another thread arrived after the transport was closed", ex) { Source = this });
            foreach (OutboxEntry entry in _replaying)
            {
                if (entry.Command == OutboxCommand.Drain)
                {
                    _ = CompleteDrainAsync(entry.Drain!);
                }
            }
        }
        finally
        {
            foreach (OutboxEntry entry in _replaying)
            {
                if (entry.Data is { } array)
                {
                    _pool.Return(array);
                }
            }

            _replaying.Clear();
            _gather.Clear();
        }
    }

    private void WriteGathered()
    {
        if (_gather.Count == 0)
        {
            return;
        }

        // The transport copies what it cannot send at once, so the arrays can go back to the pool afterwards.
        if (_gather.Count == 1)
        {
            _transport.Write(_gather[0].Span);
        }
        else
        {
            _transport.WriteLines(_gather);
        }

        _gather.Clear();
    }

    /// <summary>Drops whatever other threads queued after the connection was lost, returning the arrays.</summary>
    private void ReleaseOutbox()
    {
        lock (_lock)
        {
            foreach (OutboxEntry entry in _outbox)
            {
                if (entry.Data is { } array)
                {
                    _pool.Return(array);
                }

                entry.Drain?.TrySetException(_lostError ?? LostException());
            }

            _outbox.Clear();
            _outboxCount = 0;
        }
    }

    private ValueTask DrainFromOtherThread(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_lost && _outbox.Count == 0)
            {
                return ValueTask.FromException(_reader.Exception ?? LostException(_lostError));
            }

            EnqueueLocked(new OutboxEntry(OutboxCommand.Drain, null, 0, done));
        }

        return new ValueTask(cancellationToken.CanBeCanceled ? done.Task.WaitAsync(cancellationToken) : done.Task);
    }

    /// <summary>Runs a drain another thread asked for, on the loop, and passes its outcome on.</summary>
    private async Task CompleteDrainAsync(TaskCompletionSource done)
    {
        try
        {
            await DrainOnLoop(CancellationToken.None, yielded: false);
            done.TrySetResult();
        }
        catch (Exception ex)
        {
            done.TrySetException(ex);
        }
    }

    /// <summary>One request from another thread: bytes to write (a pooled copy), a close, an EOF or a drain.</summary>
    private readonly record struct OutboxEntry(OutboxCommand Command, byte[]? Data, int Length, TaskCompletionSource? Drain);
}
