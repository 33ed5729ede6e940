using System.Globalization;
using System.Text;
using AsyncNet.Properties;

namespace AsyncNet.Streams.Tests.WireLaws;

/// <summary>A RESP-style value: a simple string (<c>+text\r\n</c>) or a bulk string (<c>$length\r\ndata\r\n</c>).</summary>
internal sealed record RespValue(bool IsBulk, string Text)
{
    public byte[] Encode() => Encoding.Latin1.GetBytes(IsBulk ? $"${Text.Length}\r\n{Text}\r\n" : $"+{Text}\r\n");

    public override string ToString() => IsBulk ? $"${Text.Length}:{Text.Replace("\r", "\\r").Replace("\n", "\\n")}" : $"+{Text}";
}

/// <summary>
/// A user's RESP-style decoder, written as a user would: a line (a type byte, then text, then CRLF) of at most
/// <c>maxLine</c> bytes before its CRLF; a bulk string's line gives its length, at most <c>maxBulk</c>, and that many
/// bytes of any value follow, then CRLF. It keeps the whole value in progress, re-parsing it as bytes arrive.
/// </summary>
internal sealed class RespDecoder(int maxLine, int maxBulk, bool trustsBulkLength = false) : IWireDecoder<RespValue>
{
    private readonly List<byte> _buffer = [];

    public long BufferedBytes => _buffer.Count;

    public void Feed(ReadOnlyMemory<byte> chunk, ICollection<RespValue> output)
    {
        _buffer.AddRange(chunk.Span);
        while (TryDecode(out RespValue? value, out int length))
        {
            output.Add(value);
            _buffer.RemoveRange(0, length);
        }
    }

    public WireEnd EndOfStream() => _buffer.Count == 0 ? WireEnd.Clean : WireEnd.Incomplete;

    private bool TryDecode([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RespValue? value, out int length)
    {
        value = null;
        length = 0;
        int cr = _buffer.IndexOf((byte)'\r');
        if ((cr < 0 ? _buffer.Count : cr) > maxLine)
        {
            throw new InvalidDataException($"A line is longer than {maxLine} bytes.");
        }

        if (cr < 0 || cr + 1 == _buffer.Count)
        {
            return false;
        }

        if (_buffer[cr + 1] != (byte)'\n')
        {
            throw new InvalidDataException("A CR is not followed by LF.");
        }

        string line = Encoding.Latin1.GetString([.. _buffer[1..cr]]);
        switch (cr == 0 ? '\0' : (char)_buffer[0])
        {
            case '+':
                value = new RespValue(false, line);
                length = cr + 2;
                return true;
            case '$':
                if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int size))
                {
                    throw new InvalidDataException($"A bulk length '{line}' is not a number.");
                }

                if (size > maxBulk && !trustsBulkLength)
                {
                    throw new InvalidDataException($"A bulk string of {size} bytes is over the limit of {maxBulk}.");
                }

                int end = cr + 2 + size;
                if (_buffer.Count < end + 2)
                {
                    return false;
                }

                if (_buffer[end] != (byte)'\r' || _buffer[end + 1] != (byte)'\n')
                {
                    throw new InvalidDataException("A bulk string is not followed by CRLF.");
                }

                value = new RespValue(true, Encoding.Latin1.GetString([.. _buffer[(cr + 2)..end]]));
                length = end + 2;
                return true;
            default:
                throw new InvalidDataException($"A value starts with 0x{_buffer[0]:X2}, not '+' or '$'.");
        }
    }
}
