using System.Buffers;
using System.Collections;
using System.Diagnostics;

namespace AsyncNet.Streams;

/// <summary>
/// The segments of a <see cref="ReadOnlySequence{T}"/> as the <see cref="IEnumerable{T}"/> a transport's
/// <c>WriteLines</c> takes, without allocating: the object is its own enumerator and is reused by every write.
/// </summary>
/// <remarks>One enumeration at a time, on the loop thread, within the write that set the sequence: all a write needs.</remarks>
internal sealed class SequenceSegments : IEnumerable<ReadOnlyMemory<byte>>, IEnumerator<ReadOnlyMemory<byte>>
{
    private ReadOnlySequence<byte> _sequence;
    private ReadOnlySequence<byte>.Enumerator _enumerator;
    private bool _enumerating;

    public ReadOnlyMemory<byte> Current => _enumerator.Current;

    object IEnumerator.Current => Current;

    /// <summary>Points this object at <paramref name="sequence"/> for the write about to enumerate it.</summary>
    /// <returns>This object.</returns>
    public SequenceSegments Over(in ReadOnlySequence<byte> sequence)
    {
        Debug.Assert(!_enumerating, "One write at a time enumerates the segments");
        _sequence = sequence;
        return this;
    }

    public IEnumerator<ReadOnlyMemory<byte>> GetEnumerator()
    {
        _enumerator = _sequence.GetEnumerator();
        _enumerating = true;
        return this;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool MoveNext() => _enumerator.MoveNext();

    public void Reset() => _enumerator = _sequence.GetEnumerator();

    public void Dispose()
    {
        // Drop the references: the writer must not keep the caller's buffers alive after the write.
        _enumerating = false;
        _sequence = default;
        _enumerator = default;
    }
}
