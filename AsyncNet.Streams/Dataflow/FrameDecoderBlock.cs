using System.Buffers;
using System.Globalization;
using System.Threading.Tasks.Dataflow;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Dataflow;

/// <summary>
/// Segments in, frames out: a <see cref="FrameDecoder"/> fed incrementally with whatever segments arrive, in any
/// chunking. Made by <see cref="FramingBlocks.CreateDecoder"/>.
/// </summary>
/// <remarks>
/// The decoder reads the segments in place (a frame spanning several is decoded across them without copying); each
/// frame's payload is then copied into an array of its own, because a frame outlives the segments it came from and
/// must not pin a large segment for a few bytes. Faults: every frame decoded before a bad one is offered first, then the block faults with the decoder's exception (see <see cref="FramingBlocks.CreateDecoder"/>).
/// </remarks>
internal sealed class FrameDecoderBlock : SequentialPropagatorBlock<ReadOnlyMemory<byte>, Frame>
{
    private readonly FrameDecoder _decoder;
    private readonly SegmentChain _pending = new();

    public FrameDecoderBlock(LengthFieldFormat format, DataflowBlockOptions? options)
        : base(options, FramingBlocks.DefaultBoundedCapacity)
    {
        _decoder = new FrameDecoder(format);
    }

    public override string ToString() =>
        string.Format(CultureInfo.InvariantCulture, "FrameDecoderBlock({0}, Pending={1}, Input={2}, Output={3})", _decoder, _pending.Sequence.Length, InputCount, OutputCount);

    protected override async Task ProcessAsync(ReadOnlyMemory<byte> segment)
    {
        _pending.Append(segment);
        while (TryDecode(out Frame frame))
        {
            if (!await EmitAsync(frame).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>The input ended: bytes of an unfinished frame mean the stream was cut inside it.</summary>
    protected override Exception? CheckInputEnd()
    {
        ReadOnlySequence<byte> rest = _pending.Sequence;
        if (rest.IsEmpty && _decoder.IsAtFrameBoundary)
        {
            return null;
        }

        // As FrameReader reports it: the frame's bytes received and the length the decoder was waiting for.
        if (_decoder.IsDiscarding)
        {
            return new IncompleteReadException("The stream ended inside an oversized frame that was being skipped.");
        }

        long expected = _decoder.BytesNeeded;
        return new IncompleteReadException(rest.ToArray(), expected <= int.MaxValue ? (int)expected : null);
    }

    /// <summary>Decodes the next whole frame, its payload copied out of the segments; false when more bytes are needed.</summary>
    /// <exception cref="InvalidFrameException">The next frame is corrupt (the block faults after delivering the frames before it).</exception>
    private bool TryDecode(out Frame frame)
    {
        while (true)
        {
            ReadOnlySequence<byte> buffer = _pending.Sequence;
            try
            {
                if (!_decoder.TryDecode(ref buffer, out Frame decoded))
                {
                    // Possibly advanced: the bytes of an oversized frame being discarded.
                    _pending.Consume(buffer.Start);
                    frame = default;
                    return false;
                }

                frame = new Frame(decoded.Type, decoded.Payload.ToArray());
            }
            catch (FrameTooLargeException) when (_decoder.IsDiscarding)
            {
                // The format discards oversized frames: the decoder skips exactly this one and goes on.
                continue;
            }

            _pending.Consume(buffer.Start);
            return true;
        }
    }
}
