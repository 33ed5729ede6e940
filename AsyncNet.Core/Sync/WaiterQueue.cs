using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace AsyncNet.Sync;

/// <summary>A node of an intrusive <see cref="WaiterQueue"/>: the waiter itself carries its links.</summary>
internal abstract class WaiterNode
{
    /// <summary>The next node towards the tail, or <see langword="null"/>.</summary>
    internal WaiterNode? Next { get; set; }

    /// <summary>The previous node towards the head, or <see langword="null"/>.</summary>
    internal WaiterNode? Previous { get; set; }

    /// <summary>The queue that holds this node, or <see langword="null"/> while it is in none.</summary>
    internal WaiterQueue? Queue { get; set; }
}

/// <summary>
/// An intrusive FIFO of waiters: append, pop and removal from the middle are O(1) and allocate nothing, so a
/// cancelled waiter leaves its place without a scan. A node is in at most one queue at a time.
/// </summary>
/// <remarks>Not thread-safe: the owner of the queue synchronises (loop thread, or the dual queue's lock).</remarks>
internal sealed class WaiterQueue
{
    private WaiterNode? _head;
    private WaiterNode? _tail;

    /// <summary>How many nodes the queue holds.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the queue holds no node.</summary>
    public bool IsEmpty => _head is null;

    /// <summary>Appends <paramref name="node"/>, which must not be in any queue.</summary>
    public void AddLast(WaiterNode node)
    {
        Debug.Assert(node.Queue is null, "A waiter is in at most one queue at a time");
        node.Queue = this;
        node.Next = null;
        node.Previous = _tail;
        if (_tail is null)
        {
            _head = node;
        }
        else
        {
            _tail.Next = node;
        }

        _tail = node;
        Count++;
    }

    /// <summary>Removes and returns the head, if there is one.</summary>
    public bool TryRemoveFirst([NotNullWhen(true)] out WaiterNode? node)
    {
        node = _head;
        if (node is null)
        {
            return false;
        }

        Unlink(node);
        return true;
    }

    /// <summary>Removes <paramref name="node"/> if this queue holds it.</summary>
    /// <returns>Whether the node was in this queue.</returns>
    public bool Remove(WaiterNode node)
    {
        if (node.Queue != this)
        {
            return false;
        }

        Unlink(node);
        return true;
    }

    private void Unlink(WaiterNode node)
    {
        if (node.Previous is null)
        {
            _head = node.Next;
        }
        else
        {
            node.Previous.Next = node.Next;
        }

        if (node.Next is null)
        {
            _tail = node.Previous;
        }
        else
        {
            node.Next.Previous = node.Previous;
        }

        node.Next = null;
        node.Previous = null;
        node.Queue = null;
        Count--;
    }
}
