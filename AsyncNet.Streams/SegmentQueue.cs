using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using AsyncNet.Buffers;

namespace AsyncNet.Streams;

/// <summary>One received segment in flight: a pooled array whose first <see cref="Length"/> bytes arrived in one read.</summary>
/// <param name="Array">The pooled array; its owner returns it to the <see cref="BufferPool"/> once its bytes are consumed.</param>
/// <param name="Length">How many bytes of <paramref name="Array"/> hold data (at least one).</param>
internal readonly record struct ReceivedSegment(byte[] Array, int Length);

/// <summary>
/// The reader's side of the inbound buffer: the segments it has taken out of the channel and not yet consumed,
/// in arrival order, seen as one logical run of bytes.
/// </summary>
/// <remarks>
/// <para>
/// Owned by whichever read operation is in progress (one at a time, see <see cref="StreamReader"/>), so it needs
/// no lock. Every array in it belongs to the queue alone: the producer handed it over through the channel and
/// never touches it again; the queue returns it to the pool once all its bytes are consumed.
/// </para>
/// <para>
/// Small segments are compacted on arrival: one that fits in the free room at the end of the last array is
/// copied there and its own array returned at once, so a peer trickling single bytes cannot make a reader hold
/// one array per byte. Compaction writes only after an entry's end, never over bytes a <see cref="Peek"/> view shows.
/// </para>
/// <para>
/// <see cref="Peek"/> shows the bytes held as one <see cref="ReadOnlySequence{T}"/> over the arrays themselves. Its
/// linked segments are reused by the next peek, so a view is valid only until the next <see cref="Peek"/>, and its
/// bytes only until they are consumed (their array may go back to the pool).
/// </para>
/// </remarks>
internal sealed class SegmentQueue(BufferPool pool, bool compact = true)
{
    /// <summary>Segments up to this size are copied into the previous array's free room when they fit.</summary>
    private const int CompactLength = 4096;

    private Entry[] _entries = new Entry[8];

    // The linked segments Peek strings together for a view over several arrays: made on first need, then reused.
    private SequenceNode?[] _nodes = [];
    private int _head;
    private int _count;
    private long _bytes;

    /// <summary>Bytes held.</summary>
    public long Bytes => _bytes;

    /// <summary>How many arrays are held (diagnostics and tests).</summary>
    public int SegmentCount => _count;

    /// <summary>Takes ownership of <paramref name="segment"/> and appends its bytes.</summary>
    public void Append(ReceivedSegment segment)
    {
        Debug.Assert(segment.Length > 0, "Segments are never empty");
        if (compact && _count > 0 && segment.Length <= CompactLength)
        {
            ref Entry tail = ref At(_count - 1);
            if (tail.Array.Length - tail.End >= segment.Length)
            {
                segment.Array.AsSpan(0, segment.Length).CopyTo(tail.Array.AsSpan(tail.End));
                tail.End += segment.Length;
                _bytes += segment.Length;
                pool.Return(segment.Array);
                return;
            }
        }

        if (_count == _entries.Length)
        {
            Grow();
        }

        _entries[(_head + _count) & (_entries.Length - 1)] = new Entry(segment.Array, 0, segment.Length);
        _count++;
        _bytes += segment.Length;
        AssertInvariants();
    }

    /// <summary>Copies up to <paramref name="destination"/>'s length of bytes from the front into it and consumes them.</summary>
    /// <returns>How many bytes were copied.</returns>
    public int Read(Span<byte> destination)
    {
        int copied = 0;
        while (copied < destination.Length && _count > 0)
        {
            ref Entry head = ref At(0);
            int n = Math.Min(head.End - head.Start, destination.Length - copied);
            head.Array.AsSpan(head.Start, n).CopyTo(destination[copied..]);
            copied += n;
            Advance(ref head, n);
        }

        return copied;
    }

    /// <summary>Consumes the first <paramref name="count"/> bytes into a new array.</summary>
    public byte[] Take(int count)
    {
        Debug.Assert(count <= _bytes, "Only buffered bytes can be taken");
        if (count == 0)
        {
            return [];
        }

        byte[] result = GC.AllocateUninitializedArray<byte>(count);
        int read = Read(result);
        Debug.Assert(read == count, "Take copies exactly what it was asked for");
        return result;
    }

    /// <summary>The bytes held, in order, as one sequence over the queue's arrays: no copy.</summary>
    /// <returns>
    /// The view: array-backed when one array holds everything; otherwise linked segments that the next call reuses,
    /// so it is valid until the next <see cref="Peek"/> (and its bytes until they are consumed).
    /// </returns>
    /// <remarks>Allocates only while the number of arrays held grows past what an earlier peek saw.</remarks>
    public ReadOnlySequence<byte> Peek()
    {
        if (_count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (_count == 1)
        {
            ref Entry only = ref At(0);
            return new ReadOnlySequence<byte>(only.Array, only.Start, only.End - only.Start);
        }

        if (_nodes.Length < _count)
        {
            Array.Resize(ref _nodes, _entries.Length);
        }

        SequenceNode? first = null;
        SequenceNode? last = null;
        long runningIndex = 0;
        for (int i = 0; i < _count; i++)
        {
            ref Entry entry = ref At(i);
            SequenceNode node = _nodes[i] ??= new SequenceNode();
            node.Reset(entry.Array.AsMemory(entry.Start, entry.End - entry.Start), runningIndex);
            last?.Link(node);
            first ??= node;
            last = node;
            runningIndex += entry.End - entry.Start;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>The unconsumed bytes of the first array held, in place; false when the queue is empty.</summary>
    /// <param name="array">The first array.</param>
    /// <param name="start">Where its unconsumed bytes start.</param>
    /// <param name="length">How many there are (at least one).</param>
    /// <returns>Whether the queue holds any bytes.</returns>
    public bool TryPeekFirst([NotNullWhen(true)] out byte[]? array, out int start, out int length)
    {
        if (_count == 0)
        {
            array = null;
            start = length = 0;
            return false;
        }

        ref Entry first = ref At(0);
        array = first.Array;
        start = first.Start;
        length = first.End - first.Start;
        return true;
    }

    /// <summary>Consumes and drops the first <paramref name="count"/> bytes.</summary>
    public void Skip(long count)
    {
        Debug.Assert(count <= _bytes, "Only buffered bytes can be skipped");
        while (count > 0)
        {
            ref Entry head = ref At(0);
            int n = (int)Math.Min(head.End - head.Start, count);
            count -= n;
            Advance(ref head, n);
        }

        AssertInvariants();
    }

    /// <summary>Drops every byte and returns every array to the pool.</summary>
    public void Clear() => Skip(_bytes);

    /// <summary>The offset of the first occurrence of <paramref name="separator"/> at or after <paramref name="from"/>, or -1.</summary>
    /// <remarks>
    /// Finds occurrences split across any number of segments. Within a segment the vectorised
    /// <see cref="MemoryExtensions.IndexOf{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/> does the work; only the last
    /// <c>separator.Length - 1</c> positions of each segment are checked byte by byte against what follows.
    /// </remarks>
    public long IndexOf(ReadOnlySpan<byte> separator, long from)
    {
        Debug.Assert(!separator.IsEmpty, "A separator has at least one byte");
        long segmentStart = 0;
        for (int i = 0; i < _count; i++)
        {
            ref Entry entry = ref At(i);
            int length = entry.End - entry.Start;
            if (segmentStart + length <= from)
            {
                segmentStart += length;
                continue;
            }

            ReadOnlySpan<byte> span = entry.Array.AsSpan(entry.Start, length);
            int local = (int)Math.Max(0, from - segmentStart);
            int found = span[local..].IndexOf(separator);
            if (found >= 0)
            {
                // Any occurrence that crosses into the next segment starts later than one wholly inside this one.
                return segmentStart + local + found;
            }

            for (int start = Math.Max(local, length - separator.Length + 1); start < length; start++)
            {
                if (span[start] == separator[0] && MatchesFrom(i, start, separator))
                {
                    return segmentStart + start;
                }
            }

            segmentStart += length;
        }

        return -1;
    }

    /// <summary>Whether the bytes from offset <paramref name="offset"/> of segment <paramref name="index"/> on begin with <paramref name="separator"/> (all of it buffered).</summary>
    public bool MatchesFrom(int index, int offset, ReadOnlySpan<byte> separator)
    {
        int matched = 0;
        for (int i = index; i < _count && matched < separator.Length; i++)
        {
            ref Entry entry = ref At(i);
            int start = entry.Start + (i == index ? offset : 0);
            int n = Math.Min(entry.End - start, separator.Length - matched);
            if (!entry.Array.AsSpan(start, n).SequenceEqual(separator.Slice(matched, n)))
            {
                return false;
            }

            matched += n;
        }

        return matched == separator.Length;
    }

    /// <summary>Whether the bytes at logical offset <paramref name="offset"/> begin with <paramref name="separator"/>.</summary>
    public bool StartsWithAt(long offset, ReadOnlySpan<byte> separator)
    {
        if (offset + separator.Length > _bytes)
        {
            return false;
        }

        for (int i = 0; i < _count; i++)
        {
            ref Entry entry = ref At(i);
            int length = entry.End - entry.Start;
            if (offset < length)
            {
                return MatchesFrom(i, (int)offset, separator);
            }

            offset -= length;
        }

        return false;
    }

    /// <inheritdoc/>
    public override string ToString() => $"SegmentQueue(Bytes={_bytes}, Segments={_count})";

    private ref Entry At(int index) => ref _entries[(_head + index) & (_entries.Length - 1)];

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        long sum = 0;
        for (int i = 0; i < _count; i++)
        {
            ref Entry entry = ref At(i);
            Debug.Assert(entry.Start < entry.End, "A held entry has unconsumed bytes: empty ones go back to the pool at once");
            Debug.Assert(entry.End <= entry.Array.Length, "An entry's window lies inside its array");
            sum += entry.End - entry.Start;
        }

        Debug.Assert(sum == _bytes, "Bytes is the sum of the entries' windows");
    }

    /// <summary>Consumes <paramref name="count"/> bytes of the head entry, returning its array once it is empty.</summary>
    private void Advance(ref Entry head, int count)
    {
        head.Start += count;
        _bytes -= count;
        if (head.Start == head.End)
        {
            pool.Return(head.Array);
            head = default;
            _head = (_head + 1) & (_entries.Length - 1);
            _count--;
        }
    }

    private void Grow()
    {
        // The capacity stays a power of two so the ring can mask instead of dividing.
        var larger = new Entry[_entries.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            larger[i] = At(i);
        }

        _entries = larger;
        _head = 0;
    }

    /// <summary>One link of a <see cref="Peek"/> view; relinked by every peek, so never shared between two live views.</summary>
    private sealed class SequenceNode : ReadOnlySequenceSegment<byte>
    {
        /// <summary>Points the node at <paramref name="memory"/>, starting <paramref name="runningIndex"/> bytes into the view, as its last link.</summary>
        public void Reset(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
            Next = null;
        }

        /// <summary>Makes <paramref name="next"/> the link after this one.</summary>
        public void Link(SequenceNode next) => Next = next;
    }

    /// <summary>An array and the window of it that holds unconsumed bytes; the room after <see cref="End"/> is free.</summary>
    private struct Entry(byte[] array, int start, int end)
    {
        public byte[] Array = array;
        public int Start = start;
        public int End = end;
    }
}
