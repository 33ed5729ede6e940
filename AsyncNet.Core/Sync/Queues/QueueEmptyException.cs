namespace AsyncNet.Sync;

/// <summary>A get that may not wait found the queue empty (asyncio's <c>QueueEmpty</c>).</summary>
public class QueueEmptyException : InvalidOperationException
{
    /// <summary>Creates the exception with a default message.</summary>
    public QueueEmptyException()
        : base("The queue is empty.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public QueueEmptyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public QueueEmptyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
