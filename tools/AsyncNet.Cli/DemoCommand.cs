using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;

namespace AsyncNet.Cli;

/// <summary>
/// The demo: one event loop runs an echo server and several clients on loopback, with timers and a
/// cross-thread producer, and prints a verified summary.
/// </summary>
public static class DemoCommand
{
    public static int Run(string[] args)
    {
        if (args.Length > 0)
        {
            throw new UsageException($"demo takes no arguments (got '{args[0]}')");
        }

        using var loop = new EventLoop();
        Console.WriteLine($"AsyncNet demo on {loop.Selector}");
        var stopwatch = Stopwatch.StartNew();

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

        long echoed = loop.RunUntilComplete(() => EchoRoundTripsAsync(loop));
        producer.Join();
        loop.RunUntilComplete(() => loop.SleepAsync(TimeSpan.FromMilliseconds(40)));

        Console.WriteLine($"timers fired in order: {string.Join(", ", fired)} (the 20ms timer was cancelled)");
        Console.WriteLine($"callbacks from another thread: {crossThread}");
        Console.WriteLine($"echoed and verified: {echoed} bytes over loopback in {stopwatch.ElapsedMilliseconds} ms");
        bool ok = fired.SequenceEqual(["10ms-a", "10ms-b", "30ms"]) && crossThread == 1000 && echoed > 0;
        Console.WriteLine(ok ? "demo: OK" : "demo: FAILED");
        return ok ? 0 : 1;
    }

    /// <summary>A minimal echo over raw loop readiness: the server echoes what each client sends.</summary>
    private static async Task<long> EchoRoundTripsAsync(EventLoop loop)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        long total = 0;
        for (int client = 0; client < 4; client++)
        {
            using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            c.Connect(listener.LocalEndPoint!);
            using Socket s = listener.Accept();
            c.Blocking = false;
            s.Blocking = false;
            byte[] message = new byte[1024 * (client + 1)];
            Random.Shared.NextBytes(message);
            byte[] buffer = new byte[65536];
            var received = new MemoryStream();
            var done = loop.CreateFuture<bool>();
            loop.AddReader(s, _ =>
            {
                int n = s.Receive(buffer, 0, buffer.Length, SocketFlags.None, out SocketError error);
                if (n > 0 && error == SocketError.Success)
                {
                    s.Send(buffer, 0, n, SocketFlags.None);
                }
            }, null);
            loop.AddReader(c, _ =>
            {
                int n = c.Receive(buffer, 0, buffer.Length, SocketFlags.None, out SocketError error);
                if (n > 0 && error == SocketError.Success)
                {
                    received.Write(buffer, 0, n);
                    if (received.Length == message.Length)
                    {
                        done.TrySetResult(true);
                    }
                }
            }, null);
            c.Send(message);
            await done;
            loop.RemoveReader(s);
            loop.RemoveReader(c);
            if (!received.ToArray().AsSpan().SequenceEqual(message))
            {
                throw new InvalidDataException("echo mismatch");
            }

            total += message.Length;
        }

        return total;
    }
}
