using System.Buffers;
using System.Buffers.Binary;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using BenchmarkDotNet.Attributes;

namespace AsyncNet.Benchmarks.Framing;

/// <summary>
/// Frames decoded per second from a buffer of <see cref="Frames"/> frames (4-byte big-endian length, then the
/// payload): <see cref="FrameDecoder"/> over one segment, over 4 KiB segments as a pipe delivers them, and with a
/// CRC-32C or CRC-32 trailer checked, beside a hand-rolled <see cref="BinaryPrimitives"/> loop over one array
/// (the baseline) and the same loop copying each payload out, as naive decoders do. One operation is one frame.
/// </summary>
/// <remarks>
/// Run: <c>dotnet run -c Release --project bench/AsyncNet.Benchmarks -- --filter '*FrameDecoder*' --job short</c>.
/// Without a checksum the decoder never touches payload bytes (it slices them), so its cost is per frame.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(FramingBenchmarkConfig))]
public class FrameDecoderBenchmark
{
    /// <summary>Frames in the buffer each invocation decodes.</summary>
    public const int Frames = 256;

    private const int SegmentSize = 4096;

    private byte[] _wire = null!;
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _segmented;
    private ReadOnlySequence<byte> _crc32C;
    private ReadOnlySequence<byte> _crc32;
    private FrameDecoder _decoder = null!;
    private FrameDecoder _crc32CDecoder = null!;
    private FrameDecoder _crc32Decoder = null!;

    /// <summary>The payload size of every frame.</summary>
    [Params(16, 1024, 4096, 65536)]
    public int PayloadSize { get; set; }

    /// <summary>Encodes the buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var plain = new LengthFieldFormat();
        var crc32C = new LengthFieldFormat(checksum: ChecksumAlgorithm.Crc32C);
        var crc32 = new LengthFieldFormat(checksum: ChecksumAlgorithm.Crc32);
        _wire = EncodeFrames(plain, PayloadSize);
        _single = new ReadOnlySequence<byte>(_wire);
        _segmented = Segmented(_wire, SegmentSize);
        _crc32C = new ReadOnlySequence<byte>(EncodeFrames(crc32C, PayloadSize));
        _crc32 = new ReadOnlySequence<byte>(EncodeFrames(crc32, PayloadSize));
        _decoder = new FrameDecoder(plain);
        _crc32CDecoder = new FrameDecoder(crc32C);
        _crc32Decoder = new FrameDecoder(crc32);
    }

    /// <summary>A hand-rolled loop over one array: read the length, slice the payload, move on.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Frames)]
    public long BinaryPrimitivesLoop()
    {
        ReadOnlyMemory<byte> rest = _wire;
        long total = 0;
        while (rest.Length >= 4)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(rest.Span);
            if (rest.Length - 4 < length)
            {
                break;
            }

            ReadOnlyMemory<byte> payload = rest.Slice(4, length);
            total += payload.Length;
            rest = rest[(4 + length)..];
        }

        return total;
    }

    /// <summary>The same loop, copying each payload into a new array.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long BinaryPrimitivesLoopCopying()
    {
        ReadOnlyMemory<byte> rest = _wire;
        long total = 0;
        while (rest.Length >= 4)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(rest.Span);
            if (rest.Length - 4 < length)
            {
                break;
            }

            byte[] payload = rest.Slice(4, length).ToArray();
            total += payload.Length;
            rest = rest[(4 + length)..];
        }

        return total;
    }

    /// <summary><see cref="FrameDecoder.TryDecode"/> over one segment.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long FrameDecoderSingleSegment() => DecodeAll(_decoder, _single);

    /// <summary><see cref="FrameDecoder.TryDecode"/> over 4 KiB segments: headers and payloads straddle them.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long FrameDecoderSegmented() => DecodeAll(_decoder, _segmented);

    /// <summary>With a CRC-32C trailer checked (the CPU's CRC32 instruction): every payload byte is read.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long FrameDecoderCrc32C() => DecodeAll(_crc32CDecoder, _crc32C);

    /// <summary>With a CRC-32 trailer checked (carry-less multiplication): every payload byte is read.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long FrameDecoderCrc32() => DecodeAll(_crc32Decoder, _crc32);

    private static long DecodeAll(FrameDecoder decoder, ReadOnlySequence<byte> buffer)
    {
        long total = 0;
        while (decoder.TryDecode(ref buffer, out Frame frame))
        {
            total += frame.Payload.Length;
        }

        return total;
    }

    internal static byte[] EncodeFrames(LengthFieldFormat format, int payloadSize)
    {
        var encoder = new FrameEncoder(format);
        byte[] payload = new byte[payloadSize];
        new Random(payloadSize).NextBytes(payload);
        var writer = new ArrayBufferWriter<byte>();
        for (int i = 0; i < Frames; i++)
        {
            encoder.Encode(writer, 0, payload);
        }

        return writer.WrittenSpan.ToArray();
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentSize)
    {
        var first = new Segment(bytes.AsMemory(0, Math.Min(segmentSize, bytes.Length)), null);
        Segment last = first;
        for (int offset = segmentSize; offset < bytes.Length; offset += segmentSize)
        {
            last = new Segment(bytes.AsMemory(offset, Math.Min(segmentSize, bytes.Length - offset)), last);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

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
