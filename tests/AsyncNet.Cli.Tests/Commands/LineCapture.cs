using System.Text;

namespace AsyncNet.Cli.Tests.Commands;

/// <summary>A thread-safe <see cref="TextWriter"/> that keeps what was written and lets a test wait for a line.</summary>
internal sealed class LineCapture : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly object _lock = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_lock)
        {
            _text.Append(value);
            Monitor.PulseAll(_lock);
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            _text.Append(value);
            Monitor.PulseAll(_lock);
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return _text.ToString();
        }
    }

    /// <summary>Waits until a whole line containing <paramref name="fragment"/> has been written; returns it.</summary>
    public string WaitForLine(string fragment, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        lock (_lock)
        {
            while (true)
            {
                string? line = _text.ToString().Split('\n').SkipLast(1).FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal));
                if (line is not null)
                {
                    return line.TrimEnd('\r');
                }

                TimeSpan left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_lock, left))
                {
                    throw new TimeoutException($"No line with '{fragment}' within {timeout}; got: {_text}");
                }
            }
        }
    }
}
