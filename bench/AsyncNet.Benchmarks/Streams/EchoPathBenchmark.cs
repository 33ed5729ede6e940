using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Testing;
using BenchmarkDotNet.Attributes;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Benchmarks.Streams;

/// <summary>
/// The user-space cost of an echo, per message, without a socket: a batch of <see cref="Depth"/> pipelined messages
/// is delivered to a stream over an in-memory transport (the kernel takes every write at once), and echoed the way
/// <c>asyncnet echo-server</c> does: the raw stream echo (one read of the whole batch, one write, one drain; the
/// baseline), the framed echo (per frame: <see cref="FrameReader.ReadFrameAsync"/>,
/// <see cref="FrameWriter.Write(Frame)"/>, a drain) and the framed echo in batches (one awaited read, then
/// <see cref="FrameReader.TryReadFrame"/> for the rest, one drain).
/// </summary>
/// <remarks>
/// Run: <c>./build.sh bench --filter '*EchoPath*' --job short</c>. The socket echoes (bench/AsyncNet.EchoBench) spend
/// most of their time in the kernel and share the machine with their load; this isolates what the framing layer adds
/// per message, which is what separates the framed echo from the stream echo there.
/// </remarks>
[MemoryDiagnoser]
public class EchoPathBenchmark
{
    /// <summary>Messages per delivered segment, as the echo benchmark's pipelining depth.</summary>
    public const int Depth = 16;

    private const int Batches = 1000;

    private EventLoop _loop = null!;
    private ScriptedTransport _transport = null!;
    private StreamReader _reader = null!;
    private StreamWriter _writer = null!;
    private FrameReader _frames = null!;
    private FrameWriter _output = null!;
    private byte[] _rawBatch = null!;
    private byte[] _framedBatch = null!;
    private byte[] _buffer = null!;

    /// <summary>The payload size of every message.</summary>
    [Params(64, 1024)]
    public int MessageSize { get; set; }

    /// <summary>Makes the stream pair and the two batches.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _loop = new EventLoop();
        var protocol = new StreamProtocol(_loop, new StreamOptions());
        _transport = new ScriptedTransport(_loop, protocol) { RecordSent = false };
        _loop.RunUntilComplete(() =>
        {
            _transport.Start();
            return Task.CompletedTask;
        });
        _reader = protocol.Reader;
        _writer = protocol.Writer;
        LengthFieldFormat format = LengthFieldFormat.Default;
        _frames = new FrameReader(_reader, format);
        _output = new FrameWriter(_writer, format);
        _buffer = new byte[64 * 1024];
        _rawBatch = new byte[Depth * MessageSize];
        new Random(1).NextBytes(_rawBatch);
        var encoder = new FrameEncoder(format);
        var framed = new List<byte>();
        byte[] frame = new byte[MessageSize + format.MaxHeaderLength + format.ChecksumLength];
        for (int i = 0; i < Depth; i++)
        {
            int length = encoder.Encode(frame, 0, _rawBatch.AsSpan(i * MessageSize, MessageSize));
            framed.AddRange(frame.AsSpan(0, length));
        }

        _framedBatch = [.. framed];
    }

    /// <summary>Closes the loop.</summary>
    [GlobalCleanup]
    public void Cleanup() => _loop.Close();

    /// <summary>The raw stream echo: one read, one write and one drain per batch.</summary>
    /// <returns>The bytes echoed.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Batches * Depth)]
    public long StreamEcho() => _loop.RunUntilComplete(async () =>
    {
        long echoed = 0;
        for (int batch = 0; batch < Batches; batch++)
        {
            _transport.Deliver(_rawBatch);
            int n = await _reader.ReadAsync(_buffer);
            _writer.Write(_buffer.AsSpan(0, n));
            await _writer.DrainAsync();
            echoed += n;
        }

        return echoed;
    });

    /// <summary>The framed echo: a read, a write and a drain per frame.</summary>
    /// <returns>The payload bytes echoed.</returns>
    [Benchmark(OperationsPerInvoke = Batches * Depth)]
    public long FramedEcho() => _loop.RunUntilComplete(async () =>
    {
        long echoed = 0;
        for (int batch = 0; batch < Batches; batch++)
        {
            _transport.Deliver(_framedBatch);
            for (int i = 0; i < Depth; i++)
            {
                Frame frame = (await _frames.ReadFrameAsync()).GetValueOrDefault();
                _output.Write(frame);
                await _output.DrainAsync();
                echoed += frame.Payload.Length;
            }
        }

        return echoed;
    });

    /// <summary>The framed echo in batches: the frames already buffered are read with <see cref="FrameReader.TryReadFrame"/>, written, and drained once.</summary>
    /// <returns>The payload bytes echoed.</returns>
    [Benchmark(OperationsPerInvoke = Batches * Depth)]
    public long FramedEchoBatched() => _loop.RunUntilComplete(async () =>
    {
        long echoed = 0;
        for (int batch = 0; batch < Batches; batch++)
        {
            _transport.Deliver(_framedBatch);
            Frame frame = (await _frames.ReadFrameAsync()).GetValueOrDefault();
            do
            {
                _output.Write(frame);
                echoed += frame.Payload.Length;
            }
            while (_frames.TryReadFrame(out frame));

            await _output.DrainAsync();
        }

        return echoed;
    });
}
