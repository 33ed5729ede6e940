namespace AsyncNet.Sync;

/// <summary>
/// The items a queue holds, in the queue's order (FIFO, LIFO or priority). Each item carries the sequence
/// number it was put with, so an item given back by a getter cancelled after its wake-up returns to exactly
/// the place it was taken from.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>Not thread-safe: the queue's owner synchronises.</remarks>
internal abstract class QueueBuffer<T>
{
    /// <summary>How many items are held.</summary>
    public abstract int Count { get; }

    /// <summary>Adds a newly put item; <paramref name="sequence"/> is greater than every earlier one.</summary>
    public abstract void Add(T item, long sequence);

    /// <summary>Removes the next item in the queue's order. The buffer must not be empty.</summary>
    public abstract T Take(out long sequence);

    /// <summary>Puts back an item taken earlier, in the place its <paramref name="sequence"/> gives it.</summary>
    public abstract void PutBack(T item, long sequence);

    /// <summary>Drops every item.</summary>
    public abstract void Clear();
}
