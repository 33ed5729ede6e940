using System.Buffers;
using System.CommandLine;
using System.Diagnostics;
using System.Net;
using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Cli;

/// <summary>
/// The demo: one event loop runs a framed echo server and several concurrent clients on loopback, each pipelining
/// frames of mixed types and sizes and checking every echo, beside a client that sends a corrupt frame (the server
/// echoes the frames before it, then closes with the checksum error), timers, and a producer on another thread.
/// </summary>
/// <remarks>Ends with "demo: OK" (exit 0) or "demo: FAILED" (exit 1).</remarks>
public static class DemoCommand
{
    private const int Clients = 6;
    private const int FramesPerClient = 3_000;
    private const int Window = 32;

    // 1-byte type, a 4-byte big-endian length of what follows it, the payload, a CRC-32C trailer.
    private static readonly LengthFieldFormat s_format = new(
        lengthFieldOffset: 1, lengthFieldSize: 4, typeFieldSize: 1, checksum: ChecksumAlgorithm.Crc32C, maxFrameLength: 1 << 20);

    /// <summary>Creates the <c>demo</c> verb.</summary>
    /// <returns>The verb; it takes no arguments.</returns>
    public static Command Create()
    {
        var verb = new Verb(
            "demo",
            "Run a framed echo server and clients on one event loop on loopback, and show what the library does.",
            "0    every check passed (\"demo: OK\")\n1    a check failed (\"demo: FAILED\")\n2    bad arguments (demo takes none)");
        verb.SetAction(result => Run(result.InvocationConfiguration.Output));
        return verb;
    }

    /// <summary>Runs the demo.</summary>
    /// <param name="stdout">Where the demo's report goes; failures are reported there too, in its summary.</param>
    /// <returns>0 when every check passed, 1 otherwise.</returns>
    public static int Run(TextWriter stdout)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        using var loop = new EventLoop();
        stdout.WriteLine($"AsyncNet demo: one event loop on {loop.Selector}");

        // Timers run by due time and FIFO among equals, whatever order they were scheduled in.
        var fired = new List<string>();
        loop.CallLater(TimeSpan.FromMilliseconds(30), s => fired.Add((string)s!), "30ms");
        loop.CallLater(TimeSpan.FromMilliseconds(10), s => fired.Add((string)s!), "10ms-a");
        loop.CallLater(TimeSpan.FromMilliseconds(10), s => fired.Add((string)s!), "10ms-b");
        loop.CallLater(TimeSpan.FromMilliseconds(20), s => fired.Add((string)s!), "20ms").Cancel();

        // Another thread hands work to the loop; the loop wakes from its selector to run it.
        int crossThread = 0;
        var producer = new Thread(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                loop.CallSoonThreadSafe(_ => crossThread++, null);
            }
        });
        producer.Start();

        DemoResult result = loop.RunUntilComplete(() => EchoAsync(loop, stdout));
        producer.Join();
        loop.RunUntilComplete(() => loop.SleepAsync(TimeSpan.FromMilliseconds(40)));

        stdout.WriteLine();
        stdout.WriteLine($"timers fired in order: {string.Join(", ", fired)} (the 20ms timer was cancelled)");
        stdout.WriteLine($"callbacks from another thread: {crossThread}");
        stdout.WriteLine(
            $"framed echo: {Clients} clients x {FramesPerClient} frames = {result.Frames:N0} frames, {result.Bytes:N0} payload bytes each way, " +
            $"all verified, in {result.Elapsed.TotalMilliseconds:F0} ms ({result.Frames / result.Elapsed.TotalSeconds:N0} frames/s, " +
            $"{2 * result.Bytes / result.Elapsed.TotalSeconds / 1e6:F1} MB/s)");
        stdout.WriteLine($"bad input: {result.BadClientReport}");
        bool ok = fired.SequenceEqual(["10ms-a", "10ms-b", "30ms"])
            && crossThread == 1000
            && result.Frames == Clients * FramesPerClient
            && result.BadClientOk;
        stdout.WriteLine(ok ? "demo: OK" : "demo: FAILED");
        return ok ? 0 : 1;
    }

    private readonly record struct DemoResult(long Frames, long Bytes, TimeSpan Elapsed, bool BadClientOk, string BadClientReport);

    private static async Task<DemoResult> EchoAsync(EventLoop loop, TextWriter stdout)
    {
        // The server: every frame comes back as it came, type and payload; a bad frame ends the connection.
        var serverFaults = new List<string>();
        await using StreamServer server = await loop.StartFramedServerAsync(
            async connection =>
            {
                try
                {
                    while (await connection.Reader.ReadFrameAsync() is { } frame)
                    {
                        connection.Writer.Write(frame);
                        await connection.Writer.DrainAsync();
                    }
                }
                catch (InvalidFrameException e)
                {
                    serverFaults.Add(e.Message); // the reader has closed the connection, after the frames before it
                }
            },
            "127.0.0.1",
            0,
            s_format);
        int port = ((IPEndPoint)server.Server.Sockets[0].LocalEndPoint!).Port;
        stdout.WriteLine($"framed echo server on 127.0.0.1:{port}: {s_format}");

        var stopwatch = Stopwatch.StartNew();
        long done = 0, bytes = 0;
        TimerHandle progress = loop.CallLater(TimeSpan.FromMilliseconds(100), ReportProgress, null);
        void ReportProgress(object? _)
        {
            stdout.Write($"\rprogress: {done,6:N0} / {Clients * FramesPerClient:N0} frames echoed");
            progress = loop.CallLater(TimeSpan.FromMilliseconds(100), ReportProgress, null);
        }

        // The clients run concurrently on the same loop; each pipelines a window of frames and checks every echo.
        Task[] clients = Enumerable.Range(0, Clients).Select(async id =>
        {
            await using FramedConnection connection = await loop.OpenFramedConnectionAsync("127.0.0.1", port, s_format);
            var random = new Random(id);
            var sent = new Queue<(uint Type, byte[] Payload)>();
            for (int i = 0; i < FramesPerClient; i++)
            {
                (uint type, byte[] payload) = MixedFrame(random, i);
                connection.Writer.Write(type, payload);
                sent.Enqueue((type, payload));
                bytes += payload.Length;
                if (sent.Count == Window || i == FramesPerClient - 1)
                {
                    await connection.Writer.DrainAsync();
                    while (sent.Count > 0)
                    {
                        (uint expectedType, byte[] expected) = sent.Dequeue();
                        Frame echoed = await connection.Reader.ReadFrameAsync()
                            ?? throw new InvalidDataException($"client {id}: the server closed after {done} frames");
                        if (echoed.Type != expectedType || !echoed.Payload.ToArray().AsSpan().SequenceEqual(expected))
                        {
                            throw new InvalidDataException($"client {id}: frame {i - sent.Count} came back different");
                        }

                        done++;
                    }
                }
            }

            connection.Writer.Writer.WriteEof();
        }).ToArray();

        Task<(bool, string)> badClient = BadClientAsync(loop, port, serverFaults);
        await Task.WhenAll(clients);
        (bool badOk, string badReport) = await badClient;
        progress.Cancel();
        stdout.Write($"\rprogress: {done,6:N0} / {Clients * FramesPerClient:N0} frames echoed");
        return new DemoResult(done, bytes, stopwatch.Elapsed, badOk, badReport);
    }

    /// <summary>Mostly small frames, some of a few KiB, now and then an empty one or one of 64 KiB.</summary>
    private static (uint Type, byte[] Payload) MixedFrame(Random random, int index)
    {
        int length = (index % 100) switch
        {
            0 => 0,
            1 => 64 * 1024,
            < 20 => random.Next(1024, 8 * 1024),
            _ => random.Next(1, 256),
        };
        byte[] payload = new byte[length];
        random.NextBytes(payload);
        return ((uint)random.Next(1, 4), payload);
    }

    /// <summary>Sends three good frames, then one whose checksum is wrong: the three come back, then the server closes.</summary>
    private static async Task<(bool Ok, string Report)> BadClientAsync(EventLoop loop, int port, List<string> serverFaults)
    {
        var encoder = new FrameEncoder(s_format);
        var (reader, writer) = await loop.OpenConnectionAsync("127.0.0.1", port);
        await using (writer)
        {
            for (uint i = 1; i <= 3; i++)
            {
                writer.Write(encoder.Encode(i, "good"u8));
            }

            byte[] bad = encoder.Encode(1, "bad!"u8);
            bad[^1] ^= 0xFF; // a bit flipped in the CRC trailer
            writer.Write(bad);
            await writer.DrainAsync();

            var frames = new FrameReader(reader, s_format);
            int echoed = 0;
            while (await frames.ReadFrameAsync() is not null)
            {
                echoed++;
            }

            bool ok = echoed == 3 && serverFaults.Count == 1;
            string fault = serverFaults.Count > 0 ? serverFaults[0] : "no fault reported";
            return (ok, $"a client sent 3 good frames and one with a corrupt CRC: {echoed} echoed, then the server closed: {fault}");
        }
    }
}
