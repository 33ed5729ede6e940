namespace AsyncNet.Loop;

/// <summary>A binary min-heap of timers ordered by (when, sequence), with in-place compaction.</summary>
/// <remarks>
/// Hand-rolled rather than <see cref="PriorityQueue{TElement, TPriority}"/> so cancelled entries can be
/// filtered out and the heap rebuilt in O(n) without allocating. Loop thread only.
/// </remarks>
internal sealed class TimerQueue
{
    private TimerHandle[] _heap = new TimerHandle[16];

    public int Count { get; private set; }

    public TimerHandle Peek() => _heap[0];

    public void Push(TimerHandle timer)
    {
        if (Count == _heap.Length)
        {
            Array.Resize(ref _heap, _heap.Length * 2);
        }

        timer.IsScheduled = true;
        SiftUp(Count++, timer);
    }

    public TimerHandle Pop()
    {
        TimerHandle top = _heap[0];
        TimerHandle last = _heap[--Count];
        _heap[Count] = null!;
        if (Count > 0)
        {
            SiftDown(0, last);
        }

        top.IsScheduled = false;
        return top;
    }

    /// <summary>Drops every cancelled timer and restores the heap order; returns how many were dropped.</summary>
    public int RemoveCancelled()
    {
        int kept = 0;
        for (int i = 0; i < Count; i++)
        {
            TimerHandle timer = _heap[i];
            if (timer.IsCancelled)
            {
                timer.IsScheduled = false;
            }
            else
            {
                _heap[kept++] = timer;
            }
        }

        int removed = Count - kept;
        Array.Clear(_heap, kept, removed);
        Count = kept;
        for (int i = (Count / 2) - 1; i >= 0; i--)
        {
            SiftDown(i, _heap[i]);
        }

        // Give memory back after a burst (a million cancelled timers must not pin a million-slot array).
        if (_heap.Length > 64 && Count < _heap.Length / 4)
        {
            Array.Resize(ref _heap, Math.Max(16, Count * 2));
        }

        return removed;
    }

    public void Clear()
    {
        for (int i = 0; i < Count; i++)
        {
            _heap[i].IsScheduled = false;
        }

        Array.Clear(_heap, 0, Count);
        Count = 0;
    }

    private void SiftUp(int index, TimerHandle timer)
    {
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            if (!timer.RunsBefore(_heap[parent]))
            {
                break;
            }

            _heap[index] = _heap[parent];
            index = parent;
        }

        _heap[index] = timer;
    }

    private void SiftDown(int index, TimerHandle timer)
    {
        while (true)
        {
            int child = (2 * index) + 1;
            if (child >= Count)
            {
                break;
            }

            if (child + 1 < Count && _heap[child + 1].RunsBefore(_heap[child]))
            {
                child++;
            }

            if (!_heap[child].RunsBefore(timer))
            {
                break;
            }

            _heap[index] = _heap[child];
            index = child;
        }

        _heap[index] = timer;
    }
}
