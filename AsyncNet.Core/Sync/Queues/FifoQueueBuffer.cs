using System.Diagnostics;

namespace AsyncNet.Sync;

/// <summary>First in, first out: a growable ring buffer (a deque, so a given-back item goes to the front).</summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class FifoQueueBuffer<T> : QueueBuffer<T>
{
    private (T Item, long Sequence)[] _ring;
    private int _head;
    private int _count;

    /// <summary>Creates a buffer with room for <paramref name="capacity"/> items before it grows.</summary>
    public FifoQueueBuffer(int capacity = 8) => _ring = new (T, long)[Math.Max(capacity, 4)];

    public override int Count => _count;

    public override void Add(T item, long sequence)
    {
        Grow();
        _ring[(_head + _count) % _ring.Length] = (item, sequence);
        _count++;
    }

    public override T Take(out long sequence)
    {
        Debug.Assert(_count > 0, "Take needs an item");
        (T item, sequence) = _ring[_head];
        _ring[_head] = default;
        _head = (_head + 1) % _ring.Length;
        _count--;
        return item;
    }

    public override void PutBack(T item, long sequence)
    {
        Grow();

        // Usually the item was the head and nothing older is buffered: push it at the front. Otherwise (several
        // getters gave items back) shift the older ones forward by one to keep sequence order.
        _head = (_head - 1 + _ring.Length) % _ring.Length;
        _count++;
        int index = 0;
        while (index + 1 < _count && _ring[(_head + index + 1) % _ring.Length].Sequence < sequence)
        {
            _ring[(_head + index) % _ring.Length] = _ring[(_head + index + 1) % _ring.Length];
            index++;
        }

        _ring[(_head + index) % _ring.Length] = (item, sequence);
    }

    public override void Clear()
    {
        Array.Clear(_ring);
        _head = 0;
        _count = 0;
    }

    private void Grow()
    {
        if (_count < _ring.Length)
        {
            return;
        }

        var larger = new (T, long)[_ring.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            larger[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = larger;
        _head = 0;
    }
}
