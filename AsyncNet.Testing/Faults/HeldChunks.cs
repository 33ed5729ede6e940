using System.Diagnostics;
using AsyncNet.Buffers;

namespace AsyncNet.Testing.Faults;

/// <summary>
/// The bytes one direction of a proxied connection holds back, in order: chunks of pooled arrays, each with the time it
/// may leave and the faults it was read under. A ring of structs, so steady traffic allocates nothing once it has grown.
/// </summary>
/// <remarks>Loop thread only. Arrays come from, and go back to, the loop's <see cref="BufferPool"/>.</remarks>
internal sealed class HeldChunks(BufferPool pool)
{
    // Small reads share an array when they may leave together: the smallest array a chunk rents.
    private const int MinChunkArray = 4096;

    private HeldChunk[] _ring = new HeldChunk[8];
    private int _head;
    private int _count;

    /// <summary>The bytes held, in all chunks.</summary>
    public long Bytes { get; private set; }

    public bool IsEmpty => _count == 0;

    /// <summary>The chunk that leaves first.</summary>
    public ref HeldChunk Head
    {
        get
        {
            Debug.Assert(_count > 0, "Only a non-empty queue has a head");
            return ref _ring[_head];
        }
    }

    /// <summary>Copies <paramref name="data"/> in, to leave at <paramref name="due"/> under <paramref name="faults"/>.</summary>
    /// <remarks>Appended to the last chunk when that one leaves at the same time under the same faults and has room.</remarks>
    public void Add(ReadOnlySpan<byte> data, TimeSpan due, FaultSpec faults)
    {
        if (_count > 0)
        {
            ref HeldChunk tail = ref _ring[(_head + _count - 1) % _ring.Length];
            if (tail.Due == due && ReferenceEquals(tail.Faults, faults) && tail.Array.Length - tail.End >= data.Length)
            {
                data.CopyTo(tail.Array.AsSpan(tail.End));
                tail.End += data.Length;
                Bytes += data.Length;
                return;
            }
        }

        if (_count == _ring.Length)
        {
            Grow();
        }

        byte[] array = pool.Rent(Math.Max(data.Length, MinChunkArray));
        data.CopyTo(array);
        _ring[(_head + _count) % _ring.Length] = new HeldChunk { Array = array, Start = 0, End = data.Length, Due = due, Faults = faults };
        _count++;
        Bytes += data.Length;
    }

    /// <summary>The head's first <paramref name="count"/> bytes have left; a chunk left empty goes back to the pool.</summary>
    public void Consume(int count)
    {
        ref HeldChunk head = ref Head;
        Debug.Assert(count > 0 && count <= head.Length, "Consume what the head holds");
        head.Start += count;
        Bytes -= count;
        if (head.Length == 0)
        {
            pool.Return(head.Array);
            head = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
        }
    }

    /// <summary>Drops everything held (the direction ended); returns how many bytes were dropped.</summary>
    public long Clear()
    {
        long dropped = Bytes;
        while (_count > 0)
        {
            pool.Return(_ring[_head].Array);
            _ring[_head] = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
        }

        Bytes = 0;
        return dropped;
    }

    private void Grow()
    {
        var larger = new HeldChunk[_ring.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            larger[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = larger;
        _head = 0;
    }
}

/// <summary>One read's bytes (or several reads' that leave together), waiting to be forwarded.</summary>
internal struct HeldChunk
{
    /// <summary>The pooled array; the bytes still held are [Start, End).</summary>
    public byte[] Array;
    public int Start;
    public int End;

    /// <summary>When the next bytes may leave, on the loop's clock.</summary>
    public TimeSpan Due;

    /// <summary>The faults in force when the bytes were read: their slicing and bandwidth apply.</summary>
    public FaultSpec Faults;

    public readonly int Length => End - Start;
}
