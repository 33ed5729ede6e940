namespace AsyncNet.Sync;

/// <summary>
/// The queue was shut down (Python 3.13's <c>QueueShutDown</c>): a put after <c>Shutdown</c>, a get on a shut-down
/// queue with nothing left, or a waiter released by the shutdown.
/// </summary>
public class QueueShutDownException : InvalidOperationException
{
    /// <summary>Creates the exception with a default message.</summary>
    public QueueShutDownException()
        : base("The queue is shut down.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public QueueShutDownException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public QueueShutDownException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
