namespace AsyncNet.Transports;

/// <summary>The callbacks every protocol receives from its transport (asyncio's <c>BaseProtocol</c>).</summary>
/// <remarks>
/// Every callback runs on the loop thread. Order: <see cref="ConnectionMade"/> once, then the kind's
/// data callbacks, then <see cref="ConnectionLost"/> exactly once. <see cref="PauseWriting"/> and
/// <see cref="ResumeWriting"/> alternate, starting with pause, and only between made and lost.
/// </remarks>
public interface IBaseProtocol
{
    /// <summary>The connection is ready; <paramref name="transport"/> is the protocol's for its whole life.</summary>
    /// <param name="transport">The transport.</param>
    void ConnectionMade(ITransport transport);

    /// <summary>The connection is closed; called exactly once, and last.</summary>
    /// <param name="exception">The error that ended it, or <see langword="null"/> for EOF, <c>Close</c> or <c>Abort</c>.</param>
    void ConnectionLost(Exception? exception);

    /// <summary>The transport's write buffer went strictly above the high-water mark: stop writing.</summary>
    void PauseWriting()
    {
    }

    /// <summary>The transport's write buffer fell to or below the low-water mark: writing may resume.</summary>
    void ResumeWriting()
    {
    }
}
