namespace AsyncNet.Sync;

/// <summary>A put that may not wait found the queue full (asyncio's <c>QueueFull</c>).</summary>
public class QueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception for a queue bounded at <paramref name="maxSize"/> items.</summary>
    /// <param name="maxSize">The queue's bound.</param>
    public QueueFullException(int maxSize)
        : base($"The queue is full: it holds its maximum of {maxSize} items.")
    {
        MaxSize = maxSize;
    }

    /// <summary>Creates the exception with a default message.</summary>
    public QueueFullException()
        : base("The queue is full.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public QueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public QueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The bound of the queue that was full; 0 when unknown.</summary>
    public int MaxSize { get; }
}
