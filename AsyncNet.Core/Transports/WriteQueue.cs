using System.Diagnostics;
using AsyncNet.Buffers;

namespace AsyncNet.Transports;

/// <summary>
/// The bytes a stream transport has accepted and not yet handed to the OS, in order: a deque of segments of
/// pooled arrays, sent with one gathered send.
/// </summary>
/// <remarks>
/// <para>
/// A segment is either <em>owned</em> (a <see cref="BufferPool"/> array the queue copied bytes into and
/// returns to the pool once they are sent) or <em>borrowed</em> (a window on the loop's read buffer, queued
/// without a copy while a <c>DataReceived</c> callback runs; see <see cref="AppendBorrowed"/>). Borrowed
/// segments must be copied, with <see cref="DetachBorrowed"/>, before the read buffer goes back to the pool.
/// </para>
/// <para>Small copies fill the free room of the last owned segment first, so many small writes become few segments.</para>
/// </remarks>
internal sealed class WriteQueue(BufferPool pool)
{
    /// <summary>The smallest array a copy rents: 16 KiB, so a burst of small writes fits a handful of segments.</summary>
    private const int MinSegmentLength = 16 * 1024;

    private Segment[] _segments = new Segment[4];

    // The array DetachBorrowed rebuilds into, kept so that doing so allocates nothing after the first time.
    private Segment[]? _spare;
    private int _head;
    private int _count;
    private int _bytes;
    private int _borrowed;

    /// <summary>Bytes queued.</summary>
    public int Bytes => _bytes;

    /// <summary>Whether nothing is queued.</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>How many segments are queued.</summary>
    public int SegmentCount => _count;

    /// <summary>Whether a segment still points into a buffer the queue does not own.</summary>
    public bool HasBorrowed => _borrowed > 0;

    /// <summary>The bytes of the first segment.</summary>
    public ReadOnlySpan<byte> First
    {
        get
        {
            Debug.Assert(_count > 0, "Only a non-empty queue has a first segment");
            ref Segment head = ref _segments[_head];
            return head.Array.AsSpan(head.Start, head.End - head.Start);
        }
    }

    /// <summary>Copies <paramref name="data"/> to the end of the queue.</summary>
    /// <param name="data">The bytes.</param>
    public void Append(ReadOnlySpan<byte> data)
    {
        _bytes += data.Length;
        if (_count > 0)
        {
            ref Segment tail = ref Tail();
            if (!tail.Borrowed && tail.End < tail.Array.Length)
            {
                int n = Math.Min(tail.Array.Length - tail.End, data.Length);
                data[..n].CopyTo(tail.Array.AsSpan(tail.End));
                tail.End += n;
                data = data[n..];
            }
        }

        while (!data.IsEmpty)
        {
            byte[] array = pool.Rent(Math.Max(MinSegmentLength, data.Length));
            int n = Math.Min(array.Length, data.Length);
            data[..n].CopyTo(array);
            Push(new Segment(array, 0, n, borrowed: false));
            data = data[n..];
        }

        AssertInvariants();
    }

    /// <summary>Queues <paramref name="count"/> bytes of <paramref name="array"/> at <paramref name="offset"/> without copying them.</summary>
    /// <param name="array">A buffer that stays unchanged until <see cref="DetachBorrowed"/> or until the bytes are consumed.</param>
    /// <param name="offset">Where the bytes start.</param>
    /// <param name="count">How many bytes.</param>
    public void AppendBorrowed(byte[] array, int offset, int count)
    {
        _bytes += count;
        if (_count > 0)
        {
            // An echo that writes back consecutive frames of one read extends a single window.
            ref Segment tail = ref Tail();
            if (tail.Borrowed && ReferenceEquals(tail.Array, array) && tail.End == offset)
            {
                tail.End += count;
                return;
            }
        }

        Push(new Segment(array, offset, offset + count, borrowed: true));
        _borrowed++;
        AssertInvariants();
    }

    /// <summary>Adds up to <paramref name="maxSegments"/> leading segments to <paramref name="list"/>.</summary>
    /// <param name="list">An empty list.</param>
    /// <param name="maxSegments">The most segments to add.</param>
    /// <returns>How many bytes the added segments hold.</returns>
    public int FillGather(List<ArraySegment<byte>> list, int maxSegments)
    {
        int n = Math.Min(_count, maxSegments);
        int bytes = 0;
        for (int i = 0; i < n; i++)
        {
            ref Segment s = ref At(i);
            list.Add(new ArraySegment<byte>(s.Array, s.Start, s.End - s.Start));
            bytes += s.End - s.Start;
        }

        return bytes;
    }

    /// <summary>Drops the first <paramref name="count"/> bytes (they were sent), returning emptied owned arrays to the pool.</summary>
    /// <param name="count">At most <see cref="Bytes"/>.</param>
    public void Consume(int count)
    {
        Debug.Assert(count >= 0 && count <= _bytes, "Cannot consume more than is queued");
        _bytes -= count;
        while (count > 0)
        {
            ref Segment head = ref _segments[_head];
            int length = head.End - head.Start;
            if (count < length)
            {
                head.Start += count;
                break;
            }

            count -= length;
            PopHead(returnToPool: true);
        }

        AssertInvariants();
    }

    /// <summary>Copies every borrowed segment into owned arrays, keeping the order of all bytes.</summary>
    public void DetachBorrowed()
    {
        if (_borrowed == 0)
        {
            return;
        }

        Segment[] old = _segments;
        int oldHead = _head;
        int oldCount = _count;
        _segments = _spare is { } spare && spare.Length >= old.Length ? spare : new Segment[old.Length];
        _head = 0;
        _count = 0;
        _bytes = 0;
        _borrowed = 0;
        for (int i = 0; i < oldCount; i++)
        {
            ref Segment s = ref old[(oldHead + i) & (old.Length - 1)];
            if (s.Borrowed)
            {
                Append(s.Array.AsSpan(s.Start, s.End - s.Start));
            }
            else
            {
                _bytes += s.End - s.Start;
                Push(s);
            }

            s = default;
        }

        _spare = old;
        AssertInvariants();
    }

    /// <summary>Drops everything, returning owned arrays to the pool.</summary>
    public void Clear()
    {
        while (_count > 0)
        {
            PopHead(returnToPool: true);
        }

        _bytes = 0;
        _head = 0;
        AssertInvariants();
    }

    /// <inheritdoc/>
    public override string ToString() => $"WriteQueue(Bytes={_bytes}, Segments={_count}, Borrowed={_borrowed})";

    private ref Segment At(int index) => ref _segments[(_head + index) & (_segments.Length - 1)];

    private ref Segment Tail() => ref At(_count - 1);

    private void Push(Segment segment)
    {
        if (_count == _segments.Length)
        {
            // Capacity stays a power of two so indices wrap with a mask.
            var grown = new Segment[_segments.Length * 2];
            for (int i = 0; i < _count; i++)
            {
                grown[i] = At(i);
            }

            _segments = grown;
            _head = 0;
        }

        _segments[(_head + _count) & (_segments.Length - 1)] = segment;
        _count++;
    }

    private void PopHead(bool returnToPool)
    {
        ref Segment head = ref _segments[_head];
        if (head.Borrowed)
        {
            _borrowed--;
        }
        else if (returnToPool)
        {
            pool.Return(head.Array);
        }

        head = default;
        _head = (_head + 1) & (_segments.Length - 1);
        _count--;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        int bytes = 0;
        int borrowed = 0;
        for (int i = 0; i < _count; i++)
        {
            ref Segment s = ref At(i);
            bytes += s.End - s.Start;
            borrowed += s.Borrowed ? 1 : 0;
            Debug.Assert(s.End > s.Start || (i == 0 && s.End == s.Start), "Only a head being consumed may be empty");
        }

        Debug.Assert(bytes == _bytes, "The byte count matches the segments");
        Debug.Assert(borrowed == _borrowed, "The borrowed count matches the segments");
    }

    private struct Segment(byte[] array, int start, int end, bool borrowed)
    {
        public byte[] Array = array;
        public int Start = start;
        public int End = end;
        public bool Borrowed = borrowed;
    }
}
