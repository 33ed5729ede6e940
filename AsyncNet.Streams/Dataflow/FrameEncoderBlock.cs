using System.Buffers;
using System.Globalization;
using System.Threading.Tasks.Dataflow;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Dataflow;

/// <summary>
/// Frames in, encoded bytes out: each frame becomes one segment (header, payload, trailer) in an array of its own.
/// Made by <see cref="FramingBlocks.CreateEncoder"/>.
/// </summary>
internal sealed class FrameEncoderBlock : SequentialPropagatorBlock<Frame, ReadOnlyMemory<byte>>
{
    private readonly FrameEncoder _encoder;

    public FrameEncoderBlock(LengthFieldFormat format, DataflowBlockOptions? options)
        : base(options, FramingBlocks.DefaultBoundedCapacity)
    {
        _encoder = new FrameEncoder(format);
    }

    public override string ToString() =>
        string.Format(CultureInfo.InvariantCulture, "FrameEncoderBlock({0}, Input={1}, Output={2})", _encoder.Format, InputCount, OutputCount);

    /// <exception cref="ArgumentException">The frame cannot be encoded in the format (its payload or type does not fit).</exception>
    protected override Task ProcessAsync(Frame frame) => EmitAsync(Encode(frame));

    private byte[] Encode(Frame frame)
    {
        ReadOnlySequence<byte> payload = frame.Payload;
        if (payload.IsSingleSegment)
        {
            return _encoder.Encode(frame.Type, payload.FirstSpan);
        }

        byte[] bytes = new byte[checked((int)_encoder.GetFrameLength(payload.Length))];
        int headerLength = _encoder.WriteHeader(bytes, frame.Type, payload.Length);
        Span<byte> body = bytes.AsSpan(headerLength);
        payload.CopyTo(body);
        _encoder.WriteTrailer(body[(int)payload.Length..], bytes.AsSpan(0, headerLength), payload);
        return bytes;
    }
}
