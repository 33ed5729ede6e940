using System.Buffers;
using AsyncNet.Properties;
using FsCheck;
using FsCheck.Fluent;

namespace AsyncNet.Cli.Fuzz;

/// <summary>
/// Newline-terminated lines as a wire format (what a line protocol's echo server reads): a message is a line's bytes
/// without its <c>\n</c>, at most a limit long, and any byte but <c>\n</c> (a <c>\r</c> before it is the line's own).
/// </summary>
internal static class LineWire
{
    /// <summary>The default limit: 1024 bytes before the newline.</summary>
    public const int DefaultMaxLine = 1024;

    /// <summary>The wire format of lines of at most <paramref name="maxLine"/> bytes before the newline.</summary>
    /// <param name="maxLine">The longest line, without its newline.</param>
    /// <param name="maxLines">The most lines in one case.</param>
    /// <returns>The format: its lines favour the edges (empty, one byte, the limit and one under it) and printable text.</returns>
    public static WireFormat<byte[]> Format(int maxLine, int maxLines)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLine);
        Gen<int> length = Gen.Frequency(
            (4, Gen.Choose(0, Math.Min(maxLine, 16))),
            (2, Gen.Choose(0, maxLine)),
            (1, Gen.Elements(0, Math.Min(1, maxLine), Math.Max(0, maxLine - 1), maxLine)));
        Gen<byte> lineByte = Gen.Frequency(
            (8, Gen.Choose(32, 126)),
            (1, Gen.Elements(13, 9, 0, 255)),
            (1, Gen.Choose(0, 255).Where(b => b != '\n'))).Select(b => (byte)b);
        Gen<byte[]> line = length.SelectMany(n => Gen.ArrayOf(lineByte, n));
        return new WireFormat<byte[]>(
            $"lines (at most {maxLine} bytes before the newline)",
            message => [.. message, (byte)'\n'],
            () => new LineDecoder(maxLine),
            line)
        {
            Invalid = Gen.ArrayOf(lineByte, maxLine + 1).Select(bytes => (byte[])[.. bytes, (byte)'\n']),
            MaxBufferedBytes = maxLine,
            MaxMessages = maxLines,
            Comparer = ByteArrayComparer.Instance,
            Show = ByteText.Quote,
            ShrinkMessage = Shorter,
        };
    }

    /// <summary>Shorter lines: half, one byte less at the end, one less at the start.</summary>
    private static IEnumerable<byte[]> Shorter(byte[] line)
    {
        if (line.Length > 0)
        {
            yield return line[..(line.Length / 2)];
            yield return line[..^1];
            yield return line[1..];
        }
    }

    /// <summary>Decodes lines of at most a limit: a longer line is rejected as soon as it is longer.</summary>
    private sealed class LineDecoder(int maxLine) : IWireDecoder<byte[]>
    {
        private readonly ArrayBufferWriter<byte> _line = new();

        public long BufferedBytes => _line.WrittenCount;

        public void Feed(ReadOnlyMemory<byte> chunk, ICollection<byte[]> output)
        {
            ReadOnlySpan<byte> rest = chunk.Span;
            while (!rest.IsEmpty)
            {
                int newline = rest.IndexOf((byte)'\n');
                ReadOnlySpan<byte> part = newline < 0 ? rest : rest[..newline];
                if (_line.WrittenCount + part.Length > maxLine)
                {
                    throw new InvalidDataException($"A line is longer than {maxLine} bytes.");
                }

                _line.Write(part);
                if (newline < 0)
                {
                    return;
                }

                output.Add(_line.WrittenSpan.ToArray());
                _line.Clear();
                rest = rest[(newline + 1)..];
            }
        }

        public WireEnd EndOfStream() => _line.WrittenCount == 0 ? WireEnd.Clean : WireEnd.Incomplete;
    }

    /// <summary>Byte arrays compared by content.</summary>
    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}
