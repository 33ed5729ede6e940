using System.Globalization;
using System.Runtime.InteropServices;

namespace AsyncNet.EchoBench;

/// <summary>
/// The protocol-level echo benchmark (issue 3). Two modes:
/// <code>
/// compare [--seconds 5] [--warmup 1] [--rounds 3] [--connections 50]   both servers in this process, driven by the load client
/// server --port P [--impl asyncnet|socket] [--host 127.0.0.1]          a standalone echo server, for echo-harness
/// </code>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "compare";
        Dictionary<string, string> options = ParseOptions(args);
        return mode switch
        {
            "server" => RunServer(options),
            "compare" => Compare(options),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: AsyncNet.EchoBench compare [--seconds S] [--warmup S] [--rounds N] [--connections C]");
        Console.Error.WriteLine("       AsyncNet.EchoBench server --port P [--impl asyncnet|socket] [--host 127.0.0.1]");
        return 2;
    }

    private static Dictionary<string, string> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                options[args[i][2..]] = args[++i];
            }
        }

        return options;
    }

    private static int Get(Dictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out string? value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static int RunServer(Dictionary<string, string> options)
    {
        string host = options.GetValueOrDefault("host", "127.0.0.1");
        int port = Get(options, "port", int.TryParse(Environment.GetEnvironmentVariable("PORT"), out int p) ? p : 0);
        string impl = options.GetValueOrDefault("impl", "asyncnet");
        using var stopped = new ManualResetEventSlim();
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stopped.Set();
        });
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            stopped.Set();
        });
        using IEchoServer server = impl == "socket" ? new SocketAsyncEchoServer(host, port) : new AsyncNetEchoServer(host, port);
        Console.WriteLine($"{server.Name} echo server on {host}:{server.Port}");
        stopped.Wait();
        return 0;
    }

    private static int Compare(Dictionary<string, string> options)
    {
        var window = TimeSpan.FromSeconds(Get(options, "seconds", 5));
        var warmup = TimeSpan.FromSeconds(Get(options, "warmup", 1));
        int rounds = Get(options, "rounds", 3);
        int connections = Get(options, "connections", 50);
        (int Size, int Depth)[] scenarios = [(64, 1), (64, 16), (1024, 16)];

        Console.WriteLine($"# echo: {connections} connections, {warmup.TotalSeconds:0} s warm-up + {window.TotalSeconds:0} s measured, {rounds} rounds interleaved, median reported");
        Console.WriteLine($"# {Environment.ProcessorCount} cores, .NET {Environment.Version}, GC server={System.Runtime.GCSettings.IsServerGC}, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        var results = new List<Measurement>();
        foreach ((int size, int depth) in scenarios)
        {
            var asyncNet = new List<Measurement>();
            var socket = new List<Measurement>();
            for (int round = 0; round < rounds; round++)
            {
                // Interleave the servers, so drifting machine noise hits both alike.
                using (var server = new AsyncNetEchoServer("127.0.0.1", 0))
                {
                    asyncNet.Add(Measurement.Take(server, connections, size, depth, warmup, window));
                }

                using (var server = new SocketAsyncEchoServer("127.0.0.1", 0))
                {
                    socket.Add(Measurement.Take(server, connections, size, depth, warmup, window));
                }
            }

            Measurement a = Median(asyncNet);
            Measurement s = Median(socket);
            results.Add(a);
            results.Add(s);
            Console.Error.WriteLine($"  {size} B depth {depth}: AsyncNet {string.Join(", ", asyncNet.Select(m => m.MessagesPerSecond.ToString("N0", CultureInfo.InvariantCulture)))}; "
                + $".NET {string.Join(", ", socket.Select(m => m.MessagesPerSecond.ToString("N0", CultureInfo.InvariantCulture)))} msgs/s");
        }

        Console.WriteLine();
        Console.WriteLine("| message | depth | server | msgs/s | MB/s | alloc B/msg | server CPU µs/msg (user + sys) | errors | msgs/s vs .NET | CPU/msg vs .NET |");
        Console.WriteLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int i = 0; i < results.Count; i += 2)
        {
            Measurement baseline = results[i + 1];
            foreach (Measurement m in new[] { results[i], baseline })
            {
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {m.MessageSize} B | {m.Depth} | {m.Server} | {m.MessagesPerSecond:N0} | {m.MegabytesPerSecond:N1} | {m.AllocatedBytesPerMessage:N2} | {m.ServerCpuMicros:N2} ({m.ServerUserMicros:N2} + {m.ServerSystemMicros:N2}) | {m.Errors} | {m.MessagesPerSecond / baseline.MessagesPerSecond:N2}× | {m.ServerCpuMicros / baseline.ServerCpuMicros:N2}× |"));
            }
        }

        return results.Any(r => r.Errors != 0) ? 1 : 0;
    }

    private static Measurement Median(List<Measurement> measurements) =>
        measurements.OrderBy(m => m.MessagesPerSecond).ElementAt(measurements.Count / 2);
}
