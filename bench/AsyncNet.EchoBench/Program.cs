using System.Globalization;
using System.Runtime.InteropServices;
using AsyncNet.Echo;

namespace AsyncNet.EchoBench;

/// <summary>
/// The echo comparison benchmark (issues 3, 4 and 7): every echo server of <c>AsyncNet.Echo</c>, one after the other in
/// this process, under the same verifying load. Two modes:
/// <code>
/// compare [--seconds 5] [--warmup 1] [--rounds 3] [--connections 50] [--kinds protocol,stream,...] [--scenarios 64x1,64x16,1024x16]
///         [--quiet-max 20] [--quiet-timeout 60]   before each run, wait for other processes to use under 20 % of one CPU (0: don't wait)
/// server --port P [--kind protocol|stream|zerocopy|framed|socket|pipelines] [--host 127.0.0.1]   a standalone echo server, for echo-harness
/// idle [--kind protocol|zerocopy|framed|...] [--connections 10000] [--loops 4]   heap and descriptors per idle connection
/// </code>
/// </summary>
public static class Program
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    public static int Main(string[] args)
    {
        string mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "compare";
        Dictionary<string, string> options = ParseOptions(args);
        try
        {
            return mode switch
            {
                "server" => RunServer(options),
                "idle" => IdleFootprint.Run(ParseKind(options.GetValueOrDefault("kind", "protocol")), Get(options, "connections", 10_000), Get(options, "loops", 4)),
                "compare" => Compare(options),
                _ => Usage($"unknown mode '{mode}'"),
            };
        }
        catch (FormatException ex)
        {
            return Usage(ex.Message);
        }
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"AsyncNet.EchoBench: {problem}");
        Console.Error.WriteLine("usage: AsyncNet.EchoBench compare [--seconds S] [--warmup S] [--rounds N] [--connections C] [--kinds K,K,...] [--scenarios SIZExDEPTH,...] [--quiet-max PCT] [--quiet-timeout S]");
        Console.Error.WriteLine("       AsyncNet.EchoBench server --port P [--kind protocol|stream|zerocopy|framed|socket|pipelines] [--host 127.0.0.1]");
        Console.Error.WriteLine("       AsyncNet.EchoBench idle [--kind K] [--connections N] [--loops L]");
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
        !options.TryGetValue(name, out string? value) ? fallback
        : int.TryParse(value, NumberStyles.None, s_invariant, out int n) ? n
        : throw new FormatException($"--{name} needs a whole number (got '{value}')");

    private static EchoServerKind ParseKind(string name) =>
        EchoServerKinds.TryParse(name, out EchoServerKind kind) ? kind : throw new FormatException($"unknown server kind '{name}' (known: {EchoServerKinds.Names})");

    private static int RunServer(Dictionary<string, string> options)
    {
        string host = options.GetValueOrDefault("host", "127.0.0.1");
        int port = Get(options, "port", int.TryParse(Environment.GetEnvironmentVariable("PORT"), out int p) ? p : 0);
        EchoServerKind kind = ParseKind(options.GetValueOrDefault("kind", "protocol"));
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
        IEchoServer server = EchoServers.StartAsync(kind, host, port).GetAwaiter().GetResult();
        Console.WriteLine($"{server.Name} echo server on {server.EndPoint}");
        stopped.Wait();
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    private static int Compare(Dictionary<string, string> options)
    {
        var window = TimeSpan.FromSeconds(Get(options, "seconds", 5));
        var warmup = TimeSpan.FromSeconds(Get(options, "warmup", 1));
        int rounds = Get(options, "rounds", 3);
        int connections = Get(options, "connections", 50);
        int quietMax = Get(options, "quiet-max", 20);
        var quietTimeout = TimeSpan.FromSeconds(Get(options, "quiet-timeout", 60));
        double quietWaited = 0;
        EchoServerKind[] kinds = options.TryGetValue("kinds", out string? names)
            ? [.. names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseKind)]
            : [.. EchoServerKinds.All];
        (int Size, int Depth)[] scenarios = options.TryGetValue("scenarios", out string? list)
            ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseScenario)]
            : [(64, 1), (64, 16), (1024, 16)];

        Console.WriteLine($"# echo comparison, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: {connections} connections, {warmup.TotalSeconds:0} s warm-up + {window.TotalSeconds:0} s measured, {rounds} rounds with the servers interleaved, median by msgs/s");
        Console.WriteLine($"# {Environment.ProcessorCount} cores, .NET {Environment.Version}, GC server={System.Runtime.GCSettings.IsServerGC}, load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        var medians = new List<Measurement>();

        // Every measurement, in order: round r of a scenario holds each kind's r-th run, taken minutes apart at most.
        var all = new List<Measurement>();
        try
        {
            foreach ((int size, int depth) in scenarios)
            {
                var runs = kinds.ToDictionary(k => k, _ => new List<Measurement>());
                for (int round = 0; round < rounds; round++)
                {
                    // Interleave the servers, so drifting machine noise hits them alike.
                    foreach (EchoServerKind kind in kinds)
                    {
                        IEchoServer server = EchoServers.StartAsync(kind).GetAwaiter().GetResult();
                        try
                        {
                            if (quietMax > 0)
                            {
                                quietWaited += CpuTimes.WaitForQuiet(quietMax, quietTimeout).Waited;
                            }

                            runs[kind].Add(Measurement.Take(server, connections, size, depth, warmup, window));
                        }
                        finally
                        {
                            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
                        }
                    }
                }

                Console.Error.WriteLine($"  {size} B depth {depth}: " + string.Join("; ", kinds.Select(k =>
                    $"{k} {string.Join(", ", runs[k].Select(m => m.MessagesPerSecond.ToString("N0", s_invariant)))}")) + " msgs/s");
                medians.AddRange(kinds.Select(k => Median(runs[k])));
                all.AddRange(kinds.SelectMany(k => runs[k]));
            }
        }
        catch (Exception ex) when (ex is EchoMismatchException or IOException)
        {
            Console.Error.WriteLine($"AsyncNet.EchoBench: FAILED: {ex.Message}");
            return 1;
        }

        Console.WriteLine(string.Create(s_invariant, $"# load average after: {File.ReadAllText("/proc/loadavg").Trim()}; {quietWaited:0} s spent waiting for a quiet machine (other processes under {quietMax} % of one CPU)"));
        PrintTable(medians);
        PrintTargets(medians, all);
        return 0;
    }

    private static (int Size, int Depth) ParseScenario(string text)
    {
        string[] parts = text.Split('x');
        return parts.Length == 2 && int.TryParse(parts[0], s_invariant, out int size) && int.TryParse(parts[1], s_invariant, out int depth)
            ? (size, depth)
            : throw new FormatException($"a scenario is SIZExDEPTH, e.g. 64x16 (got '{text}')");
    }

    /// <summary>The baseline each kind is compared with: protocol with Socket, stream with Pipelines, zero-copy and framed with stream.</summary>
    private static EchoServerKind? BaselineOf(EchoServerKind kind) => kind switch
    {
        EchoServerKind.Protocol => EchoServerKind.Socket,
        EchoServerKind.Stream => EchoServerKind.Pipelines,
        EchoServerKind.ZeroCopy => EchoServerKind.Stream,
        EchoServerKind.Framed => EchoServerKind.Stream,
        _ => null,
    };

    private static void PrintTable(List<Measurement> medians)
    {
        Console.WriteLine();
        Console.WriteLine("| message | depth | server | msgs/s | MB/s | p50 µs | p99 µs | alloc B/msg | server CPU µs/msg (user + sys) | other CPU % | msgs/s vs baseline | CPU/msg vs baseline |");
        Console.WriteLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (Measurement m in medians)
        {
            Measurement? baseline = BaselineOf(m.Kind) is { } b ? medians.FirstOrDefault(x => x.Kind == b && x.MessageSize == m.MessageSize && x.Depth == m.Depth) : null;
            string versus = baseline is { } bl && bl.MessagesPerSecond > 0
                ? string.Create(s_invariant, $"{m.MessagesPerSecond / bl.MessagesPerSecond:N2}× {ShortName(bl.Kind)} | {m.ServerCpuMicros / bl.ServerCpuMicros:N2}×")
                : "— | —";
            Console.WriteLine(string.Create(
                s_invariant,
                $"| {m.MessageSize} B | {m.Depth} | {m.Kind.DisplayName()} | {m.MessagesPerSecond:N0} | {m.MegabytesPerSecond:N1} | {m.P50.TotalMicroseconds:N0} | {m.P99.TotalMicroseconds:N0} | {m.AllocatedBytesPerMessage:N2} | {m.ServerCpuMicros:N2} ({m.ServerUserMicros:N2} + {m.ServerSystemMicros:N2}) | {m.OtherCpuPercent:N0} | {versus} |"));
        }
    }

    private static void PrintTargets(List<Measurement> medians, List<Measurement> all)
    {
        Console.WriteLine();
        Console.WriteLine("Targets (a benchmark, not a test): msgs/s ratio of the medians; then the median of the per-round ratios, each");
        Console.WriteLine("round's run divided by the baseline's run of the same round, which the machine's drift between rounds cannot skew:");
        Target(medians, all, EchoServerKind.Protocol, EchoServerKind.Socket, 1.5);
        Target(medians, all, EchoServerKind.Stream, EchoServerKind.Pipelines, 1.2);
        Target(medians, all, EchoServerKind.Framed, EchoServerKind.Stream, 0.8);
        foreach (Measurement m in medians.Where(m => m.Kind == EchoServerKind.Protocol))
        {
            Console.WriteLine(string.Create(s_invariant, $"  protocol allocation, {m.MessageSize} B depth {m.Depth}: {m.AllocatedBytesPerMessage:N2} B/msg (target 0) {(m.AllocatedBytesPerMessage < 0.5 ? "met" : "MISSED")}"));
        }
    }

    private static void Target(List<Measurement> medians, List<Measurement> all, EchoServerKind kind, EchoServerKind baseline, double target)
    {
        foreach (Measurement m in medians.Where(m => m.Kind == kind))
        {
            if (medians.FirstOrDefault(x => x.Kind == baseline && x.MessageSize == m.MessageSize && x.Depth == m.Depth) is not { MessagesPerSecond: > 0 } b)
            {
                continue;
            }

            double ratio = m.MessagesPerSecond / b.MessagesPerSecond;
            double[] paired = PairedRatios(all, kind, baseline, m.MessageSize, m.Depth);
            double pairedMedian = paired[paired.Length / 2];
            string verdict = ratio >= target && pairedMedian >= target ? "met" : ratio >= target || pairedMedian >= target ? "met by one measure only" : "MISSED";
            Console.WriteLine(string.Create(
                s_invariant,
                $"  {ShortName(kind)} vs {ShortName(baseline)}, {m.MessageSize} B depth {m.Depth}: {ratio:N2}× of medians, {pairedMedian:N2}× paired (rounds {paired[0]:N2}–{paired[^1]:N2}) (target ≥ {target:N1}×) {verdict}"));
        }
    }

    /// <summary>Each round's msgs/s of <paramref name="kind"/> over the baseline's in the same round, sorted.</summary>
    private static double[] PairedRatios(List<Measurement> all, EchoServerKind kind, EchoServerKind baseline, int size, int depth)
    {
        Measurement[] runs = [.. all.Where(x => x.Kind == kind && x.MessageSize == size && x.Depth == depth)];
        Measurement[] baselines = [.. all.Where(x => x.Kind == baseline && x.MessageSize == size && x.Depth == depth)];
        return [.. runs.Zip(baselines, (r, bl) => bl.MessagesPerSecond > 0 ? r.MessagesPerSecond / bl.MessagesPerSecond : 0).Order()];
    }

    private static string ShortName(EchoServerKind kind) => kind.ToString().ToLowerInvariant();

    private static Measurement Median(List<Measurement> measurements) =>
        measurements.OrderBy(m => m.MessagesPerSecond).ElementAt(measurements.Count / 2);
}
