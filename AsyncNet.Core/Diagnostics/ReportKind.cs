namespace AsyncNet.Diagnostics;

/// <summary>What makes reports "similar" for the rate limit: the same message and the same exception type.</summary>
/// <param name="Message">The report's message, without the exception's own text.</param>
/// <param name="ExceptionType">The exception's type, or <see langword="null"/>.</param>
internal readonly record struct ReportKind(string Message, Type? ExceptionType)
{
    /// <inheritdoc/>
    public override string ToString() => ExceptionType is null ? Message : $"{Message}: {ExceptionType.Name}";
}
