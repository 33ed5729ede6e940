namespace AsyncNet.Sync;

/// <summary>Last in, first out: a stack ordered by sequence number, newest on top.</summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class LifoQueueBuffer<T> : QueueBuffer<T>
{
    private readonly List<(T Item, long Sequence)> _stack = [];

    public override int Count => _stack.Count;

    public override void Add(T item, long sequence) => _stack.Add((item, sequence));

    public override T Take(out long sequence)
    {
        (T item, sequence) = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return item;
    }

    public override void PutBack(T item, long sequence)
    {
        // Back under any item put after it was taken: the stack stays ordered by sequence.
        int index = _stack.Count;
        while (index > 0 && _stack[index - 1].Sequence > sequence)
        {
            index--;
        }

        _stack.Insert(index, (item, sequence));
    }

    public override void Clear() => _stack.Clear();
}
