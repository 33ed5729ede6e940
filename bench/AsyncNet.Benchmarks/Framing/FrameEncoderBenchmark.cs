using System.Buffers;
using System.Buffers.Binary;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using BenchmarkDotNet.Attributes;

namespace AsyncNet.Benchmarks.Framing;

/// <summary>
/// Frames encoded per second (4-byte big-endian length, then the payload) into a buffer of
/// <see cref="Frames"/> frames: <see cref="FrameEncoder"/> into a span and into an <see cref="IBufferWriter{T}"/>,
/// with a CRC-32C trailer, and as a gathered write (header and trailer only: the payload is not copied), beside a
/// hand-rolled <see cref="BinaryPrimitives"/> write and copy (the baseline). One operation is one frame.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project bench/AsyncNet.Benchmarks -- --filter '*FrameEncoder*' --job short</c>.</remarks>
[MemoryDiagnoser]
[Config(typeof(FramingBenchmarkConfig))]
public class FrameEncoderBenchmark
{
    /// <summary>Frames each invocation encodes.</summary>
    public const int Frames = 256;

    private byte[] _payload = null!;
    private byte[] _destination = null!;
    private ArrayBufferWriter<byte> _writer = null!;
    private FrameEncoder _encoder = null!;
    private FrameEncoder _crc32CEncoder = null!;
    private byte[] _scratch = null!;
    private List<ReadOnlyMemory<byte>> _parts = null!;

    /// <summary>The payload size of every frame.</summary>
    [Params(16, 1024, 4096, 65536)]
    public int PayloadSize { get; set; }

    /// <summary>Allocates the payload and the destinations.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[PayloadSize];
        new Random(PayloadSize).NextBytes(_payload);
        _destination = new byte[Frames * (PayloadSize + 8)];
        _writer = new ArrayBufferWriter<byte>(_destination.Length);
        _encoder = new FrameEncoder(LengthFieldFormat.Default);
        _crc32CEncoder = new FrameEncoder(new LengthFieldFormat(checksum: ChecksumAlgorithm.Crc32C));
        _scratch = new byte[_encoder.ScratchLength * Frames];
        _parts = new List<ReadOnlyMemory<byte>>(3 * Frames);
    }

    /// <summary>A hand-rolled write: the length with <see cref="BinaryPrimitives"/>, then the payload copied.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Frames)]
    public int BinaryPrimitivesWrite()
    {
        Span<byte> destination = _destination;
        ReadOnlySpan<byte> payload = _payload;
        int offset = 0;
        for (int i = 0; i < Frames; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(destination[offset..], payload.Length);
            payload.CopyTo(destination[(offset + 4)..]);
            offset += 4 + payload.Length;
        }

        return offset;
    }

    /// <summary><see cref="FrameEncoder.Encode(Span{byte}, uint, ReadOnlySpan{byte})"/> into one array.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public int FrameEncoderSpan()
    {
        Span<byte> destination = _destination;
        int offset = 0;
        for (int i = 0; i < Frames; i++)
        {
            offset += _encoder.Encode(destination[offset..], 0, _payload);
        }

        return offset;
    }

    /// <summary><see cref="FrameEncoder.Encode(IBufferWriter{byte}, uint, ReadOnlySpan{byte})"/> into an <see cref="ArrayBufferWriter{T}"/>.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long FrameEncoderBufferWriter()
    {
        _writer.ResetWrittenCount();
        long total = 0;
        for (int i = 0; i < Frames; i++)
        {
            total += _encoder.Encode(_writer, 0, _payload);
        }

        return total;
    }

    /// <summary>With a CRC-32C trailer computed over header and payload.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public int FrameEncoderCrc32C()
    {
        Span<byte> destination = _destination;
        int offset = 0;
        for (int i = 0; i < Frames; i++)
        {
            offset += _crc32CEncoder.Encode(destination[offset..], 0, _payload);
        }

        return offset;
    }

    /// <summary><see cref="FrameEncoder.EncodeGathered"/>: the header written, the payload listed, not copied.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long FrameEncoderGathered()
    {
        _parts.Clear();
        Memory<byte> scratch = _scratch;
        int size = _encoder.ScratchLength;
        long total = 0;
        for (int i = 0; i < Frames; i++)
        {
            total += _encoder.EncodeGathered(0, _payload, scratch.Slice(i * size, size), _parts);
        }

        return total;
    }
}
