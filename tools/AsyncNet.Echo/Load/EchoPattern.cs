using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Echo;

/// <summary>The byte stream one load connection sends, over and over: raw pseudo-random bytes, or frames.</summary>
/// <remarks>
/// Raw: <see cref="RawPeriod"/> random bytes, a prime, so the period never lines up with message boundaries and a lost,
/// duplicated or reordered byte is a mismatch. Framed: at least two and at least 64 KiB worth of frames, each with its
/// own random payload (and, if the format has a type field, a type that cycles), so a lost or repeated frame is a
/// mismatch too. Either way the array holds the period followed by its own first bytes again (up to 64 KiB), so a send
/// that wraps around the period is still one slice. Each connection's seed differs, so crossed streams mismatch.
/// </remarks>
internal sealed class EchoPattern
{
    /// <summary>The raw period: the largest prime below 64 Ki.</summary>
    public const int RawPeriod = 65_521;

    private const int MaxWrap = 64 * 1024;

    private EchoPattern(byte[] bytes, int period, int messageLength)
    {
        Bytes = bytes;
        Period = period;
        MessageLength = messageLength;
    }

    /// <summary>The period, then its first bytes again.</summary>
    public byte[] Bytes { get; }

    /// <summary>How many bytes before the stream repeats.</summary>
    public int Period { get; }

    /// <summary>The bytes of one message on the wire (a whole frame in framed mode).</summary>
    public int MessageLength { get; }

    /// <summary>Compares bytes echoed at stream offset <paramref name="offset"/> with the pattern there.</summary>
    /// <returns>The index in <paramref name="received"/> of the first byte that differs, or -1 when all match.</returns>
    public int FindMismatch(ReadOnlySpan<byte> received, long offset)
    {
        // One stretch up to the period's end at a time.
        int checkedBytes = 0;
        while (checkedBytes < received.Length)
        {
            int start = (int)((offset + checkedBytes) % Period);
            int length = Math.Min(received.Length - checkedBytes, Period - start);
            ReadOnlySpan<byte> actual = received.Slice(checkedBytes, length);
            ReadOnlySpan<byte> expected = Bytes.AsSpan(start, length);
            if (!actual.SequenceEqual(expected))
            {
                return checkedBytes + actual.CommonPrefixLength(expected);
            }

            checkedBytes += length;
        }

        return -1;
    }

    /// <summary>The mismatch <see cref="FindMismatch"/> found, as the exception a load fails with.</summary>
    public EchoMismatchException Mismatch(int connection, ReadOnlySpan<byte> received, long offset, int at) =>
        new(connection, offset + at, Bytes[(int)((offset + at) % Period)], received[at], MessageLength);

    public static int GetMessageLength(int messageSize, LengthFieldFormat? format) =>
        format is null ? messageSize : checked((int)new FrameEncoder(format).GetFrameLength(messageSize));

    public static EchoPattern Create(int connection, int messageSize, int depth, LengthFieldFormat? format)
    {
        var random = new Random((connection * 7919) + 1);
        int messageLength = GetMessageLength(messageSize, format);
        int period;
        byte[] bytes;
        if (format is null)
        {
            period = RawPeriod;
            bytes = new byte[period + Wrap(period, messageLength, depth)];
            random.NextBytes(bytes.AsSpan(0, period));
        }
        else
        {
            var encoder = new FrameEncoder(format);
            int frames = Math.Max(2, (RawPeriod + messageLength - 1) / messageLength);
            period = checked(frames * messageLength);
            bytes = new byte[period + Wrap(period, messageLength, depth)];
            byte[] payload = new byte[messageSize];
            uint types = format.HasTypeField ? Math.Min(format.MaxType, 250u) + 1 : 1;
            for (int i = 0; i < frames; i++)
            {
                random.NextBytes(payload);
                encoder.Encode(bytes.AsSpan(i * messageLength, messageLength), (uint)(i % types), payload);
            }
        }

        for (int i = period; i < bytes.Length; i++)
        {
            bytes[i] = bytes[i - period];
        }

        return new EchoPattern(bytes, period, messageLength);
    }

    private static int Wrap(int period, int messageLength, int depth) => (int)Math.Min(Math.Min((long)messageLength * depth, MaxWrap), period);
}
