using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Echo;

/// <summary>What an <see cref="EchoLoadGenerator"/> sends: where, over how many connections, how big, how deep, how long.</summary>
public sealed record EchoLoadOptions
{
    /// <summary>The largest <see cref="MessageSize"/>: 16 MiB.</summary>
    public const int MaxMessageSize = 16 * 1024 * 1024;

    /// <summary>The server's address: an IP literal or a host name. The default is 127.0.0.1.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The server's TCP port (1 to 65535). Required.</summary>
    public int Port { get; init; }

    /// <summary>How many connections to open. The default is 50.</summary>
    public int Connections { get; init; } = 50;

    /// <summary>The size of one message in bytes; in framed mode, of one frame's payload. The default is 64.</summary>
    public int MessageSize { get; init; } = 64;

    /// <summary>How many messages each connection keeps in flight (pipelining depth). The default is 1.</summary>
    public int Depth { get; init; } = 1;

    /// <summary>How long to run before measuring (connections warm up, the JIT settles). The default is zero.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.Zero;

    /// <summary>How long to measure, after the warm-up. The default is 5 seconds.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <see langword="null"/> (the default) to send raw bytes; a format to send frames of it, each with a
    /// <see cref="MessageSize"/>-byte payload (and, if the format has one, a type that cycles through its values), and to
    /// expect every frame back unchanged. <see cref="EchoFraming.DefaultFormat"/> is what the framed echo server reads.
    /// </summary>
    public LengthFieldFormat? FrameFormat { get; init; }

    /// <summary>How often the progress callback is called. The default is 250 ms.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long one connect may take. The default is 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws if a setting is out of range.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        Check(!string.IsNullOrWhiteSpace(Host), nameof(Host), "must not be empty");
        Check(Port is >= 1 and <= 65535, nameof(Port), $"must be from 1 to 65535 (was {Port})");
        Check(Connections is >= 1 and <= 10_000, nameof(Connections), $"must be from 1 to 10000 (was {Connections})");
        Check(MessageSize is >= 1 and <= MaxMessageSize, nameof(MessageSize), $"must be from 1 to {MaxMessageSize} (was {MessageSize})");
        Check(Depth is >= 1 and <= 4096, nameof(Depth), $"must be from 1 to 4096 (was {Depth})");
        Check((long)MessageSize * Depth <= 64L * 1024 * 1024, nameof(Depth), $"times MessageSize must be at most 64 MiB in flight per connection (was {(long)MessageSize * Depth})");
        Check(Warmup >= TimeSpan.Zero, nameof(Warmup), "must not be negative");
        Check(Duration > TimeSpan.Zero, nameof(Duration), "must be positive");
        Check(ProgressInterval > TimeSpan.Zero, nameof(ProgressInterval), "must be positive");
        Check(ConnectTimeout > TimeSpan.Zero, nameof(ConnectTimeout), "must be positive");
        if (FrameFormat is { } format)
        {
            long frameLength;
            try
            {
                frameLength = new FrameEncoder(format).GetFrameLength(MessageSize);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"{nameof(MessageSize)} cannot be framed in {format}: {ex.Message}", nameof(MessageSize), ex);
            }

            Check(frameLength <= format.MaxFrameLength, nameof(MessageSize), $"makes {frameLength}-byte frames, above the format's maximum of {format.MaxFrameLength}");
        }
    }

    private static void Check(bool ok, string name, string problem)
    {
        if (!ok)
        {
            throw new ArgumentException($"{name} {problem}.", name);
        }
    }
}
