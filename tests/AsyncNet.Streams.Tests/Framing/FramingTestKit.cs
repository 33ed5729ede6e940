using System.Buffers;
using System.Text;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>A frame copied out of the decoder's buffer, comparable by value.</summary>
internal sealed record DecodedFrame(uint Type, byte[] Payload)
{
    public bool Equals(DecodedFrame? other) => other is not null && Type == other.Type && Payload.AsSpan().SequenceEqual(other.Payload);

    public override int GetHashCode() => HashCode.Combine(Type, Payload.Length);

    public override string ToString() => $"Type={Type}, Payload={Convert.ToHexString(Payload)}";
}

/// <summary>What decoding a whole input produced: the frames, in order, then the fault (if any).</summary>
internal sealed record DecodeOutcome(List<DecodedFrame> Frames, InvalidFrameException? Fault, long Unconsumed, List<InvalidFrameException> Skipped);

/// <summary>Builds multi-segment sequences and feeds a decoder the way a PipeReader loop would.</summary>
internal static class FramingTestKit
{
    public static readonly byte[] HelloWorld = Encoding.ASCII.GetBytes("HELLO, WORLD");

    public static byte[] Bytes(params object[] parts)
    {
        var result = new List<byte>();
        foreach (object part in parts)
        {
            switch (part)
            {
                case byte b: result.Add(b); break;
                case int i: result.Add(checked((byte)i)); break;
                case byte[] a: result.AddRange(a); break;
                case string s: result.AddRange(Encoding.ASCII.GetBytes(s)); break;
                default: throw new ArgumentException($"Cannot turn {part} into bytes.");
            }
        }

        return result.ToArray();
    }

    public static byte[] Concat(params byte[][] arrays) => arrays.SelectMany(a => a).ToArray();

    /// <summary>A sequence whose segments are exactly <paramref name="parts"/> (empty parts included).</summary>
    public static ReadOnlySequence<byte> Sequence(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        if (parts.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (parts.Count == 1)
        {
            return new ReadOnlySequence<byte>(parts[0]);
        }

        var first = new Segment(parts[0], null);
        Segment last = first;
        for (int i = 1; i < parts.Count; i++)
        {
            last = new Segment(parts[i], last);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public static ReadOnlySequence<byte> Sequence(params byte[][] parts) => Sequence(parts.Select(p => (ReadOnlyMemory<byte>)p).ToList());

    /// <summary>Cuts of <paramref name="length"/> bytes: whole, split at every position, and byte by byte.</summary>
    public static IEnumerable<(string Name, int[] Cuts)> Chunkings(int length)
    {
        yield return ("whole", [length]);
        for (int i = 1; i < length; i++)
        {
            yield return ($"split at {i}", [i, length - i]);
        }

        yield return ("byte by byte", Enumerable.Repeat(1, length).ToArray());
        if (length > 6)
        {
            yield return ("threes", Enumerable.Repeat(3, length / 3).Append(length % 3).Where(c => c > 0).ToArray());
        }
    }

    /// <summary>
    /// Feeds <paramref name="bytes"/> in chunks of the given sizes, calling TryDecode after each arrival as a
    /// PipeReader loop does, and keeping the unconsumed segments as they are. An oversized frame in a discarding
    /// format is recorded in Skipped and decoding goes on; any other fault stops it.
    /// </summary>
    public static DecodeOutcome Decode(LengthFieldFormat format, byte[] bytes, IEnumerable<int> cuts)
    {
        var decoder = new FrameDecoder(format);
        var pending = new List<ReadOnlyMemory<byte>>();
        var frames = new List<DecodedFrame>();
        var skipped = new List<InvalidFrameException>();
        int offset = 0;
        long unconsumed = 0;
        foreach (int size in cuts)
        {
            pending.Add(bytes.AsMemory(offset, size));
            offset += size;
            ReadOnlySequence<byte> buffer = Sequence(pending);
            while (true)
            {
                try
                {
                    while (decoder.TryDecode(ref buffer, out Frame frame))
                    {
                        frames.Add(new DecodedFrame(frame.Type, frame.Payload.ToArray()));
                    }

                    break;
                }
                catch (FrameTooLargeException e) when (decoder.IsDiscarding)
                {
                    skipped.Add(e);
                }
                catch (InvalidFrameException e)
                {
                    return new DecodeOutcome(frames, e, buffer.Length, skipped);
                }
            }

            pending.Clear();
            foreach (ReadOnlyMemory<byte> memory in buffer)
            {
                pending.Add(memory);
            }

            unconsumed = buffer.Length;
        }

        Assert.Equal(bytes.Length, offset);
        return new DecodeOutcome(frames, null, unconsumed, skipped);
    }

    public static DecodeOutcome DecodeWhole(LengthFieldFormat format, byte[] bytes) => Decode(format, bytes, [bytes.Length]);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}
