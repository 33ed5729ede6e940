using System.Diagnostics;

namespace AsyncNet.Streams;

/// <summary>
/// Direct receives: bytes received straight into the buffer of a <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>
/// that waits on the loop thread (asyncio's <c>sock_recv_into</c>), instead of into a pooled segment and then copied.
/// </summary>
/// <remarks>
/// <para>
/// When: <see cref="StreamProtocol.GetBuffer"/> asks <see cref="TryLendWaitingDestination"/> before it rents a segment.
/// The waiting read must have started on the loop thread and be uncancellable (so nothing but the loop can end it
/// between the receive and its completion), nothing may be buffered (so the bytes are next in the stream), and its
/// buffer must hold at least the transport's read size (so receiving into it never takes more system calls than
/// receiving into a segment would).
/// </para>
/// <para>
/// How the bytes reach the read: <see cref="PublishDirect"/> publishes a marker segment (<see cref="s_receivedDirect"/>,
/// carrying only the count) through the channel as any segment goes, so flow control, ordering and the read's wake-up
/// stay exactly as for a pooled segment; the woken read takes the count as its result without copying. The read is
/// woken synchronously inside that publish (the channel's continuations run inline on the loop thread), so the marker
/// is always the first thing it takes, with nothing queued before it.
/// </para>
/// </remarks>
public sealed partial class StreamReader
{
    /// <summary>The array of a marker segment: its bytes are already in the waiting read's own buffer.</summary>
    private static readonly byte[] s_receivedDirect = [];

    // Consumer-owned: bytes received straight into the waiting read's buffer, taken from a marker, not yet returned.
    private int _receivedDirect;

    /// <summary>How many reads were received straight into the reader's buffer (tests: shows the direct path is taken).</summary>
    internal long DirectReceives { get; private set; }

    /// <summary>
    /// Lends the transport the buffer of the read waiting now, if the bytes may be received straight into it (see the
    /// type's remarks); on the loop thread.
    /// </summary>
    /// <param name="sizeHint">The transport's read size: a smaller buffer is not lent.</param>
    /// <param name="destination">The waiting read's buffer, when this returns <see langword="true"/>.</param>
    /// <returns>Whether the transport may receive into <paramref name="destination"/>; then call <see cref="PublishDirect"/>.</returns>
    internal bool TryLendWaitingDestination(int sizeHint, out Memory<byte> destination)
    {
        destination = default;
        return Volatile.Read(ref _unread) == 0
            && _exception is null
            && !_eof
            && _pendingInto is { } pending
            && pending.TryGetLoopOnlyDestination(out destination)
            && destination.Length >= sizeHint
            && !_discardingLine;
    }

    /// <summary>The transport received <paramref name="bytesReceived"/> bytes into the buffer <see cref="TryLendWaitingDestination"/> lent; on the loop thread.</summary>
    /// <param name="bytesReceived">How many; at least one.</param>
    internal void PublishDirect(int bytesReceived)
    {
        DirectReceives++;
        Publish(new ReceivedSegment(s_receivedDirect, bytesReceived));
        Debug.Assert(_receivedDirect == 0, "The waiting read took the direct bytes inside the publish");
    }

    /// <summary>Takes a segment out of the channel: a marker's count for the read, any other segment into the queue.</summary>
    private void TakeSegment(ReceivedSegment segment)
    {
        if (ReferenceEquals(segment.Array, s_receivedDirect))
        {
            Debug.Assert(_queue.Bytes == 0 && _receivedDirect == 0, "Direct bytes are next in the stream: nothing is queued before them");
            _receivedDirect = segment.Length;
        }
        else
        {
            _queue.Append(segment);
        }
    }

    /// <summary>Returns the bytes received straight into the read's buffer, if any: a read into that buffer finishes with them.</summary>
    /// <param name="read">How many bytes the read got.</param>
    /// <returns>Whether there were any.</returns>
    private bool TakeReceivedDirect(out int read)
    {
        read = _receivedDirect;
        if (read == 0)
        {
            return false;
        }

        _receivedDirect = 0;
        Interlocked.Add(ref _unread, -read);
        return true;
    }
}
