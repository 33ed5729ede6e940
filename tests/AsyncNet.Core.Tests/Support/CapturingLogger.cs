using Microsoft.Extensions.Logging;

namespace AsyncNet.Tests.Support;

/// <summary>An <see cref="ILogger"/> that keeps every entry: level, event id, rendered message, exception and the structured values.</summary>
internal sealed class CapturingLogger : ILogger
{
    public List<Entry> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = new Dictionary<string, object?>();
        if (state is IReadOnlyList<KeyValuePair<string, object?>> pairs)
        {
            foreach (KeyValuePair<string, object?> pair in pairs)
            {
                values[pair.Key] = pair.Value;
            }
        }

        lock (Entries)
        {
            Entries.Add(new Entry(logLevel, eventId, formatter(state, exception), exception, values));
        }
    }

    /// <summary>One log entry.</summary>
    public sealed record Entry(LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyDictionary<string, object?> Values);
}
