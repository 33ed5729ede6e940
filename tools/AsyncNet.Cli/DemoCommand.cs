using System.Diagnostics;
using System.Net;
using AsyncNet.Loop;
using AsyncNet.Streams;

namespace AsyncNet.Cli;

/// <summary>
/// The demo: one event loop runs a line-echo server and several concurrent clients on loopback over the
/// channel-based streams, beside timers and a producer on another thread, and prints a verified summary.
/// </summary>
public static class DemoCommand
{
    private const int Clients = 8;
    private const int MessagesPerClient = 2_000;

    public static int Run(string[] args)
    {
        if (args.Length > 0)
        {
            throw new UsageException($"demo takes no arguments (got '{args[0]}')");
        }

        using var loop = new EventLoop();
        Console.WriteLine($"AsyncNet demo: one event loop on {loop.Selector}");

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

        DemoResult result = loop.RunUntilComplete(() => EchoAsync(loop));
        producer.Join();
        loop.RunUntilComplete(() => loop.SleepAsync(TimeSpan.FromMilliseconds(40)));

        Console.WriteLine();
        Console.WriteLine($"timers fired in order: {string.Join(", ", fired)} (the 20ms timer was cancelled)");
        Console.WriteLine($"callbacks from another thread: {crossThread}");
        Console.WriteLine(
            $"echo: {Clients} clients x {MessagesPerClient} lines = {result.Messages} messages, {result.Bytes:N0} bytes each way, " +
            $"all verified, in {result.Elapsed.TotalMilliseconds:F0} ms ({result.Messages / result.Elapsed.TotalSeconds:N0} msgs/s)");
        bool ok = fired.SequenceEqual(["10ms-a", "10ms-b", "30ms"]) && crossThread == 1000 && result.Messages == Clients * MessagesPerClient;
        Console.WriteLine(ok ? "demo: OK" : "demo: FAILED");
        return ok ? 0 : 1;
    }

    private readonly record struct DemoResult(long Messages, long Bytes, TimeSpan Elapsed);

    private static async Task<DemoResult> EchoAsync(EventLoop loop)
    {
        // The server: each connection echoes every line back, honouring drain backpressure.
        await using StreamServer server = await loop.StartServerAsync(
            async (reader, writer) =>
            {
                while (true)
                {
                    byte[] line = await reader.ReadLineAsync();
                    if (line.Length == 0)
                    {
                        break;
                    }

                    writer.Write(line);
                    await writer.DrainAsync();
                }
            },
            "127.0.0.1",
            0);
        int port = ((IPEndPoint)server.Server.Sockets[0].LocalEndPoint!).Port;
        Console.WriteLine($"server listening on 127.0.0.1:{port}");

        var stopwatch = Stopwatch.StartNew();
        long done = 0, bytes = 0;
        var progress = loop.CallLater(TimeSpan.FromMilliseconds(100), ReportProgress, null);
        void ReportProgress(object? _)
        {
            Console.Write($"\rprogress: {done,6} / {Clients * MessagesPerClient} messages echoed");
            progress = loop.CallLater(TimeSpan.FromMilliseconds(100), ReportProgress, null);
        }

        // The clients run concurrently on the same loop; each pipelines its lines and checks every echo.
        var clients = Enumerable.Range(0, Clients).Select(async id =>
        {
            var (reader, writer) = await loop.OpenConnectionAsync("127.0.0.1", port);
            await using (writer)
            {
                var sent = new Queue<byte[]>();
                for (int i = 0; i < MessagesPerClient; i++)
                {
                    byte[] line = System.Text.Encoding.ASCII.GetBytes($"client {id} message {i} {new string('x', i % 97)}\n");
                    writer.Write(line);
                    sent.Enqueue(line);
                    bytes += line.Length;
                    if (i % 32 == 31 || i == MessagesPerClient - 1)
                    {
                        await writer.DrainAsync();
                        while (sent.Count > 0)
                        {
                            byte[] expected = sent.Dequeue();
                            byte[] echoed = await reader.ReadLineAsync();
                            if (!echoed.AsSpan().SequenceEqual(expected))
                            {
                                throw new InvalidDataException($"client {id}: echo mismatch at message {i}");
                            }

                            done++;
                        }
                    }
                }

                writer.WriteEof();
            }
        }).ToArray();
        await Task.WhenAll(clients);
        progress.Cancel();
        Console.Write($"\rprogress: {done,6} / {Clients * MessagesPerClient} messages echoed");
        return new DemoResult(done, bytes, stopwatch.Elapsed);
    }
}
