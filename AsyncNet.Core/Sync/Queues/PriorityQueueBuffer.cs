namespace AsyncNet.Sync;

/// <summary>Smallest first by a comparer; equal items leave in the order they were put (stable).</summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class PriorityQueueBuffer<T> : QueueBuffer<T>
{
    private readonly PriorityQueue<T, (T Item, long Sequence)> _heap;

    public PriorityQueueBuffer(IComparer<T> comparer) =>
        _heap = new PriorityQueue<T, (T, long)>(new StableComparer(comparer));

    public override int Count => _heap.Count;

    public override void Add(T item, long sequence) => _heap.Enqueue(item, (item, sequence));

    public override T Take(out long sequence)
    {
        _heap.TryDequeue(out T? item, out (T Item, long Sequence) priority);
        sequence = priority.Sequence;
        return item!;
    }

    // The original sequence number restores the item's exact rank among equals.
    public override void PutBack(T item, long sequence) => Add(item, sequence);

    public override void Clear() => _heap.Clear();

    private sealed class StableComparer(IComparer<T> comparer) : IComparer<(T Item, long Sequence)>
    {
        public int Compare((T Item, long Sequence) x, (T Item, long Sequence) y)
        {
            int order = comparer.Compare(x.Item, y.Item);
            return order != 0 ? order : x.Sequence.CompareTo(y.Sequence);
        }
    }
}
