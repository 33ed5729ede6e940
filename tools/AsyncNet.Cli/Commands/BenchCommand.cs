using System.Globalization;
using AsyncNet.Echo;
using AsyncNet.Errors;

namespace AsyncNet.Cli;

/// <summary>
/// <c>asyncnet bench --port P [--host H] [--connections N] [--size B] [--depth D] [--seconds S] [--warmup S] [--framed]</c>:
/// drives an echo server with a verifying load and reports messages/s, MB/s, p50/p99 latency and the bytes verified.
/// </summary>
/// <remarks>
/// <para>
/// Every echoed byte is compared with the byte sent; <c>--framed</c> sends frames of <see cref="EchoFraming.DefaultFormat"/>
/// (for <c>echo-server --kind framed</c>) and expects them back whole. A live progress line is rewritten on standard
/// error four times a second; the results go to standard output.
/// </para>
/// <para>
/// Exit codes: 0 when every echoed byte matched; 1 on the first mismatch (the message names the connection, the offset,
/// the expected and the actual byte); 2 for bad arguments; 5 when the host does not resolve; 6 when the connection is
/// refused; 7 when a connection is reset or closed by the server, or fails otherwise; 130 when interrupted.
/// </para>
/// </remarks>
public static class BenchCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "bench --port P [--host 127.0.0.1] [--connections 50] [--size 64] [--depth 1] [--seconds 5] [--warmup 1] [--framed]";

    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    /// <summary>Runs the load and reports it.</summary>
    /// <param name="args">The arguments after <c>bench</c>.</param>
    /// <param name="stdout">Where the results go.</param>
    /// <param name="stderr">Where the progress line and failures go.</param>
    /// <param name="cancellationToken">Stops the load early (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="UsageException">The arguments are malformed.</exception>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        CommandLine line = CommandLine.Parse("bench", args, ["host", "port", "connections", "size", "depth", "seconds", "warmup"], ["framed"]);
        bool framed = line.Has("framed");
        var options = new EchoLoadOptions
        {
            Host = line.GetString("host", "127.0.0.1"),
            Port = line.GetInt32("port", null, 1, 65535),
            Connections = line.GetInt32("connections", 50, 1, 10_000),
            MessageSize = line.GetInt32("size", 64, 1, EchoLoadOptions.MaxMessageSize),
            Depth = line.GetInt32("depth", 1, 1, 4096),
            Duration = line.GetSeconds("seconds", 5, 0.1, 86_400),
            Warmup = line.GetSeconds("warmup", 1, 0, 3_600),
            FrameFormat = framed ? EchoFraming.DefaultFormat : null,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"bench: {OptionName(ex.ParamName)}: {ex.Message}");
        }

        stdout.WriteLine(string.Create(
            s_invariant,
            $"bench: {options.Host}:{options.Port}, {options.Connections} connections, {options.MessageSize} B {(framed ? "framed" : "raw")} messages, depth {options.Depth}, {options.Warmup.TotalSeconds:0.###} s warm-up + {options.Duration.TotalSeconds:0.###} s measured"));
        stdout.Flush();

        EchoLoadResult result;
        bool progressShown = false;
        try
        {
            result = EchoLoadGenerator.RunAsync(options, p =>
            {
                progressShown = true;
                stderr.Write(string.Create(
                    s_invariant,
                    $"\r  {p.Elapsed.TotalSeconds,6:0.0} s  {(p.WarmingUp ? "warm-up  " : "measuring")}  {p.Messages,14:N0} msgs  {p.MessagesPerSecond,12:N0} msgs/s  {p.VerifiedBytes / 1e6,10:N1} MB verified "));
                stderr.Flush();
            }, cancellationToken).GetAwaiter().GetResult();
        }
        catch (EchoMismatchException ex)
        {
            EndProgressLine(stderr, progressShown);
            stderr.WriteLine($"bench: FAILED: {ex.Message}");
            return ExitCodes.Failed;
        }
        catch (NetworkException ex)
        {
            EndProgressLine(stderr, progressShown);
            return ExitCodes.Report("bench", ex, stderr);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            EndProgressLine(stderr, progressShown);
            stderr.WriteLine("bench: interrupted");
            return ExitCodes.Interrupted;
        }

        EndProgressLine(stderr, progressShown);
        stdout.WriteLine(string.Create(s_invariant, $"messages/s: {result.MessagesPerSecond:N0} ({result.Messages:N0} messages in {result.Elapsed.TotalSeconds:0.00} s)"));
        stdout.WriteLine(string.Create(s_invariant, $"MB/s: {result.MegabytesPerSecond:N1} (message bytes, each way)"));
        stdout.WriteLine(string.Create(
            s_invariant,
            $"latency: p50 {result.LatencyP50.TotalMilliseconds:0.000} ms, p99 {result.LatencyP99.TotalMilliseconds:0.000} ms, max {result.LatencyMax.TotalMilliseconds:0.000} ms"));
        stdout.WriteLine(string.Create(s_invariant, $"verified bytes: {result.VerifiedBytes:N0} (every echoed byte matched)"));
        return ExitCodes.Ok;
    }

    private static void EndProgressLine(TextWriter stderr, bool progressShown)
    {
        if (progressShown)
        {
            stderr.WriteLine();
        }
    }

    private static string OptionName(string? parameter) => parameter switch
    {
        nameof(EchoLoadOptions.Host) => "--host",
        nameof(EchoLoadOptions.Port) => "--port",
        nameof(EchoLoadOptions.Connections) => "--connections",
        nameof(EchoLoadOptions.MessageSize) => "--size",
        nameof(EchoLoadOptions.Depth) => "--depth",
        nameof(EchoLoadOptions.Duration) => "--seconds",
        nameof(EchoLoadOptions.Warmup) => "--warmup",
        _ => parameter ?? "options",
    };
}
