using System.Buffers;

namespace AsyncNet.Streams.Dataflow;

/// <summary>
/// The bytes a decoder has received and not yet consumed, as one <see cref="ReadOnlySequence{T}"/> over the segments
/// themselves (no copy): what <see cref="Framing.Codec.FrameDecoder.TryDecode"/> must be given on every call.
/// </summary>
/// <remarks>
/// While the unconsumed bytes lie in one segment the sequence is built straight over its memory; a chain of nodes is
/// made only when a frame spans segments, and dropped again as soon as the rest fits in one. Segments are only read,
/// never written.
/// </remarks>
internal sealed class SegmentChain
{
    private ReadOnlySequence<byte> _sequence;

    // The last node while _sequence spans nodes; null while it is empty or lies over one segment's memory.
    private Node? _tail;

    /// <summary>The unconsumed bytes.</summary>
    public ReadOnlySequence<byte> Sequence => _sequence;

    /// <summary>Adds a segment after the unconsumed bytes. An empty segment is ignored.</summary>
    public void Append(ReadOnlyMemory<byte> segment)
    {
        if (segment.IsEmpty)
        {
            return;
        }

        if (_sequence.IsEmpty)
        {
            _sequence = new ReadOnlySequence<byte>(segment);
            return;
        }

        Node start;
        int startIndex;
        if (_tail is null)
        {
            // One segment so far: put what is left of it in a first node.
            start = new Node(_sequence.First, null);
            startIndex = 0;
            _tail = start;
        }
        else
        {
            start = (Node)_sequence.Start.GetObject()!;
            startIndex = _sequence.Start.GetInteger();
        }

        _tail = new Node(segment, _tail);
        _sequence = new ReadOnlySequence<byte>(start, startIndex, _tail, _tail.Memory.Length);
    }

    /// <summary>Drops the bytes before <paramref name="consumed"/>, a position in <see cref="Sequence"/>.</summary>
    public void Consume(SequencePosition consumed)
    {
        _sequence = _sequence.Slice(consumed);
        if (_sequence.IsEmpty)
        {
            _sequence = default;
            _tail = null;
        }
        else if (_tail is not null && _sequence.IsSingleSegment)
        {
            // Back to one segment: let the consumed nodes (and their segments) go.
            _sequence = new ReadOnlySequence<byte>(_sequence.First);
            _tail = null;
        }
    }

    private sealed class Node : ReadOnlySequenceSegment<byte>
    {
        public Node(ReadOnlyMemory<byte> memory, Node? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}
