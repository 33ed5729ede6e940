namespace AsyncNet.Streams;

/// <summary>
/// A read looking for a separator passed the reader's limit (asyncio's <c>LimitOverrunError</c>): thrown by
/// <see cref="StreamReader.ReadUntilAsync(ReadOnlyMemory{byte}, CancellationToken)"/> and
/// <see cref="StreamReader.ReadLineAsync(CancellationToken)"/>.
/// </summary>
/// <remarks>
/// After <see cref="StreamReader.ReadUntilAsync(ReadOnlyMemory{byte}, CancellationToken)"/> the bytes are kept:
/// <see cref="Consumed"/> says how many of them can be skipped (for example with
/// <see cref="StreamReader.ReadExactlyAsync(int, CancellationToken)"/>) to get past them. After
/// <see cref="StreamReader.ReadLineAsync(CancellationToken)"/> the overlong line was discarded and
/// <see cref="Consumed"/> says how many of its bytes were dropped so far.
/// </remarks>
public sealed class LimitOverrunException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What overran.</param>
    /// <param name="consumed">How many bytes the failed read examined (see <see cref="Consumed"/>).</param>
    public LimitOverrunException(string message, long consumed)
        : base(message)
    {
        Consumed = consumed;
    }

    /// <summary>Creates the exception with a default message.</summary>
    public LimitOverrunException()
        : this("The separator was not found within the reader's limit.", 0)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public LimitOverrunException(string message)
        : this(message, 0)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public LimitOverrunException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// For <c>ReadUntilAsync</c>: how many bytes at the front of the buffer hold no usable separator, so can be
    /// consumed to skip them (asyncio's <c>consumed</c>); they are still buffered. For <c>ReadLineAsync</c>: how
    /// many bytes of the overlong line were discarded when it threw.
    /// </summary>
    public long Consumed { get; }
}
