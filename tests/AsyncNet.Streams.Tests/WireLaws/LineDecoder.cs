using System.Text;
using AsyncNet.Properties;

namespace AsyncNet.Streams.Tests.WireLaws;

/// <summary>
/// A user's line protocol, written as a user would: text lines of at most <c>maxLength</c> characters, each ending in
/// CRLF, decoded by a push decoder that keeps the incomplete line in a list. A line over the limit, or a CR not
/// followed by LF, is a fault.
/// </summary>
internal sealed class LineDecoder(int maxLength, bool splitCrlfBug = false) : IWireDecoder<string>
{
    private readonly List<byte> _buffer = [];

    public long BufferedBytes => _buffer.Count;

    public void Feed(ReadOnlyMemory<byte> chunk, ICollection<string> output)
    {
        _buffer.AddRange(chunk.Span);
        while (true)
        {
            int cr = _buffer.IndexOf((byte)'\r');
            if ((cr < 0 ? _buffer.Count : cr) > maxLength)
            {
                throw new InvalidDataException($"A line is longer than {maxLength} characters.");
            }

            if (cr < 0)
            {
                return;
            }

            if (splitCrlfBug)
            {
                // The planted bug: takes the CR as the end of the line and skips two bytes, LF or not.
                output.Add(Encoding.ASCII.GetString([.. _buffer[..cr]]));
                _buffer.RemoveRange(0, Math.Min(cr + 2, _buffer.Count));
                continue;
            }

            if (cr + 1 == _buffer.Count)
            {
                return; // the LF is still to come
            }

            if (_buffer[cr + 1] != (byte)'\n')
            {
                throw new InvalidDataException("A CR is not followed by LF.");
            }

            output.Add(Encoding.ASCII.GetString([.. _buffer[..cr]]));
            _buffer.RemoveRange(0, cr + 2);
        }
    }

    public WireEnd EndOfStream() => _buffer.Count == 0 ? WireEnd.Clean : WireEnd.Incomplete;
}
