using System.Text;

namespace AsyncNet.Loop;

/// <summary>What the loop knows about an exception no caller could receive: asyncio's exception context.</summary>
/// <param name="message">A short description of where the exception happened.</param>
/// <param name="exception">The exception, when there is one.</param>
public sealed class LoopExceptionContext(string message, Exception? exception)
{
    /// <summary>A short description of where the exception happened.</summary>
    public string Message { get; } = message;

    /// <summary>The exception, when there is one.</summary>
    public Exception? Exception { get; } = exception;

    /// <summary>The callback handle that threw, if the exception came from a callback.</summary>
    public Handle? Handle { get; init; }

    /// <summary>The future whose exception was never retrieved, or that a callback concerned.</summary>
    public Future? Future { get; init; }

    /// <summary>The transport, protocol or other object involved, if any.</summary>
    public object? Source { get; init; }

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder(Message);
        if (Handle is not null)
        {
            text.Append("; handle: ").Append(Handle);
        }

        if (Source is not null)
        {
            text.Append("; source: ").Append(Source);
        }

        if (Exception is not null)
        {
            text.AppendLine().Append(Exception);
        }

        return text.ToString();
    }
}
