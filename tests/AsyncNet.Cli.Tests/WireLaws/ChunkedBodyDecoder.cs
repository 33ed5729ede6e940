using System.Text;
using AsyncNet.Properties;
using AsyncNet.Samples.Http;

namespace AsyncNet.Cli.Tests.WireLaws;

/// <summary>
/// The HTTP sample's chunked-body reading as a push decoder, for the wire laws. The sample reads a chunked body inside
/// <see cref="HttpClientConnection"/> with awaited line and exact reads, so this adapter replays the same steps on the
/// bytes fed: a size line (<see cref="HttpSyntax.TryStripTerminator"/>, then <see cref="HttpSyntax.ParseChunkSize"/>),
/// the data, a line that must be empty, and after the size-0 chunk the trailer lines
/// (<see cref="HttpSyntax.ParseFieldLine"/>) up to an empty line, every line within
/// <see cref="HttpClientOptions.MaxLineLength"/>.
/// </summary>
internal sealed class ChunkedBodyDecoder(int maxLineLength, bool sizeLineSplitBug = false) : IWireDecoder<ChunkedBody>
{
    private readonly List<byte> _line = [];
    private readonly List<string> _chunks = [];
    private readonly List<string> _trailers = [];
    private readonly StringBuilder _data = new();
    private bool _extensions;

    // SizeLine: reading a chunk-size line. Data: _remaining bytes of chunk data to come. DataEnd: reading the line after
    // the data. Trailers: reading trailer lines after the size-0 chunk.
    private State _state;
    private long _remaining;
    private long _messageBytes;

    private enum State
    {
        SizeLine,
        Data,
        DataEnd,
        Trailers,
    }

    public long BufferedBytes => _messageBytes;

    public void Feed(ReadOnlyMemory<byte> chunk, ICollection<ChunkedBody> output)
    {
        ReadOnlySpan<byte> bytes = chunk.Span;
        while (!bytes.IsEmpty)
        {
            if (_state == State.Data)
            {
                int take = (int)Math.Min(_remaining, bytes.Length);
                _data.Append(Encoding.Latin1.GetString(bytes[..take]));
                Consume(ref bytes, take);
                if ((_remaining -= take) == 0)
                {
                    _chunks.Add(_data.ToString());
                    _data.Clear();
                    _state = State.DataEnd;
                }

                continue;
            }

            int lf = bytes.IndexOf((byte)'\n');
            int take2 = lf < 0 ? bytes.Length : lf + 1;
            _line.AddRange(bytes[..take2]);
            Consume(ref bytes, take2);
            if (lf < 0 && !(sizeLineSplitBug && _state == State.SizeLine && bytes.IsEmpty))
            {
                if (_line.Count > maxLineLength + 2)
                {
                    throw new MalformedResponseException(ResponseError.LineTooLong, $"A line is longer than {maxLineLength} bytes.");
                }

                continue;
            }

            // The planted bug: a chunk-size line that the segment ends in the middle of is taken as complete.
            byte[] line = [.. _line];
            _line.Clear();
            if (!HttpSyntax.TryStripTerminator(line, out ReadOnlySpan<byte> content))
            {
                content = line;
            }

            if (content.Length > maxLineLength)
            {
                throw HttpSyntax.Malformed(ResponseError.LineTooLong, $"A line is {content.Length} bytes long; the limit is {maxLineLength}.", content);
            }

            Line(content, output);
        }
    }

    public WireEnd EndOfStream() => _messageBytes == 0 ? WireEnd.Clean : WireEnd.Incomplete;

    private void Consume(ref ReadOnlySpan<byte> bytes, int count)
    {
        bytes = bytes[count..];
        _messageBytes += count;
    }

    /// <summary>Handles one whole line (its content, without the terminator).</summary>
    private void Line(ReadOnlySpan<byte> content, ICollection<ChunkedBody> output)
    {
        switch (_state)
        {
            case State.SizeLine:
                long size = HttpSyntax.ParseChunkSize(content);
                _extensions |= content.IndexOf((byte)';') >= 0;
                if (size == 0)
                {
                    _state = State.Trailers;
                }
                else
                {
                    _remaining = size;
                    _state = State.Data;
                }

                return;
            case State.DataEnd:
                if (!content.IsEmpty)
                {
                    throw HttpSyntax.Malformed(ResponseError.InvalidChunk, "The chunk's data is not followed by CRLF.", content);
                }

                _state = State.SizeLine;
                return;
            default:
                if (!content.IsEmpty)
                {
                    HttpHeader trailer = HttpSyntax.ParseFieldLine(content);
                    _trailers.Add($"{trailer.Name}: {trailer.Value}");
                    return;
                }

                output.Add(new ChunkedBody([.. _chunks], _extensions, [.. _trailers]));
                _chunks.Clear();
                _trailers.Clear();
                _extensions = false;
                _messageBytes = 0;
                _state = State.SizeLine;
                return;
        }
    }
}
