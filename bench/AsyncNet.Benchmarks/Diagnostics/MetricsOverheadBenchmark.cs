using System.Diagnostics.Metrics;
using System.Net;
using AsyncNet.Diagnostics;
using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using BenchmarkDotNet.Attributes;

namespace AsyncNet.Benchmarks.Diagnostics;

/// <summary>
/// What AsyncNet's metrics cost per message: the same work with nobody listening to the "AsyncNet" meter
/// (<see cref="Listening"/> false: every recording site is one <c>Enabled</c> check) and with a
/// <see cref="MeterListener"/> that takes every measurement of every instrument and adds it up.
/// </summary>
/// <remarks>
/// <para>
/// Run: <c>./build.sh bench --filter '*MetricsOverhead*' --job short</c>; compare each benchmark's two rows. The
/// listener here only sums: an exporter (OpenTelemetry, dotnet-counters) aggregates per tag set and costs more per
/// measurement, but the number of measurements per message is what this shows.
/// </para>
/// <para>
/// <see cref="FramedEchoOverLoopback"/>: a framed echo over a TCP connection on 127.0.0.1, client and server on one loop;
/// one operation is one message there and back (bytes counted per send and receive call, a frame decoded on each side,
/// loop histograms once per iteration). <see cref="CallbacksPerIteration"/>: 16 callbacks and the iteration that runs
/// them; one operation is one callback (the loop's histograms once per iteration).
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class MetricsOverheadBenchmark
{
    /// <summary>Messages in flight at once, as the echo benchmark's pipelining depth.</summary>
    private const int Depth = 16;

    private const int Batches = 200;

    private static readonly Action<object?> s_noop = static _ => { };

    private EventLoop _loop = null!;
    private StreamServer _server = null!;
    private FramedConnection _client = null!;
    private byte[] _payload = null!;
    private MeterListener? _listener;
    private double _measured;

    /// <summary>Whether a listener takes the "AsyncNet" meter's measurements.</summary>
    [Params(false, true)]
    public bool Listening { get; set; }

    /// <summary>Starts the echo server and its client on one loop, and the listener if <see cref="Listening"/>.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (Listening)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == AsyncNetMetrics.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => _measured += value);
            _listener.SetMeasurementEventCallback<int>((_, value, _, _) => _measured += value);
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) => _measured += value);
            _listener.Start();
        }

        _loop = new EventLoop();
        _payload = new byte[64];
        LengthFieldFormat format = LengthFieldFormat.Default;
        (_server, _client) = _loop.RunUntilComplete(async () =>
        {
            StreamServer server = await _loop.StartFramedServerAsync(EchoAsync, "127.0.0.1", 0, format);
            int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;
            return (server, await _loop.OpenFramedConnectionAsync("127.0.0.1", port, format));
        });
    }

    /// <summary>Closes the connection, the server and the loop, and stops the listener.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.RunUntilComplete(async () =>
        {
            await _client.DisposeAsync();
            await _server.ShutdownAsync();
        });
        _loop.Close();
        _listener?.Dispose();
        GC.KeepAlive(_measured);
    }

    /// <summary>A 64-byte framed message there and back over loopback TCP, <see cref="Depth"/> in flight.</summary>
    /// <returns>The payload bytes echoed.</returns>
    [Benchmark(OperationsPerInvoke = Batches * Depth)]
    public long FramedEchoOverLoopback() => _loop.RunUntilComplete(async () =>
    {
        long echoed = 0;
        for (int batch = 0; batch < Batches; batch++)
        {
            for (int i = 0; i < Depth; i++)
            {
                _client.Writer.Write(0, _payload);
            }

            await _client.Writer.DrainAsync();
            for (int i = 0; i < Depth; i++)
            {
                echoed += (await _client.Reader.ReadFrameAsync()).GetValueOrDefault().Payload.Length;
            }
        }

        return echoed;
    });

    /// <summary>One callback of an iteration that runs <see cref="Depth"/> of them.</summary>
    [Benchmark(OperationsPerInvoke = Depth)]
    public void CallbacksPerIteration()
    {
        for (int i = 0; i < Depth; i++)
        {
            _loop.CallSoon(s_noop, this);
        }

        _loop.RunOnce();
    }

    private static async Task EchoAsync(FramedConnection connection)
    {
        while (await connection.Reader.ReadFrameAsync() is { } frame)
        {
            connection.Writer.Write(frame);
            await connection.Writer.DrainAsync();
        }
    }
}
