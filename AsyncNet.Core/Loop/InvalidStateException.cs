namespace AsyncNet.Loop;

/// <summary>
/// An operation does not fit the object's state: reading a future's result before it is set, or setting
/// it twice (asyncio's <c>InvalidStateError</c>).
/// </summary>
public class InvalidStateException : InvalidOperationException
{
    /// <summary>Creates the exception with a message that says which state was wrong.</summary>
    /// <param name="message">The message.</param>
    public InvalidStateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public InvalidStateException()
        : base("The operation is not valid in the object's current state.")
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
