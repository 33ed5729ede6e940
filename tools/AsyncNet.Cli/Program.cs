using System.Runtime.InteropServices;

namespace AsyncNet.Cli;

/// <summary>The <c>asyncnet</c> command line: a thin dispatcher to one command per verb (see <see cref="Run"/>).</summary>
/// <remarks>
/// <para>Commands:</para>
/// <list type="bullet">
/// <item><c>demo</c>: a line-echo server and pipelining clients on one loop, timers, cross-thread callbacks (<see cref="DemoCommand"/>).</item>
/// <item><c>echo-server [--kind raw|stream|framed|socket|pipelines] [--host H] [--port P]</c>: an echo server until Ctrl-C or SIGTERM (<see cref="EchoServerCommand"/>).</item>
/// <item><c>bench --port P [--host H] [--connections N] [--size B] [--depth D] [--seconds S] [--warmup S] [--framed]</c>: a verifying echo load (<see cref="BenchCommand"/>).</item>
/// <item><c>fuzz --port P [--host H] [--cases N] [--seconds S] [--frames F] [--seed X]</c>: property-based fuzzing of a framed echo server (<see cref="FuzzCommand"/>).</item>
/// <item><c>get URL [--include] [--output FILE] [--repeat N]</c>: an HTTP GET with the sample client (<see cref="GetCommand"/>).</item>
/// </list>
/// <para>Exit codes (<see cref="ExitCodes"/>; <c>get</c> documents its own, which share the network ones):</para>
/// <list type="table">
/// <item><term>0</term><description>success (for <c>echo-server</c>: stopped gracefully).</description></item>
/// <item><term>1</term><description><c>bench</c>: an echoed byte differed from the byte sent; <c>fuzz</c>: a case failed; <c>demo</c>: a check failed.</description></item>
/// <item><term>2</term><description>bad arguments: unknown command or option, a missing or invalid value (the message names it).</description></item>
/// <item><term>5</term><description>the host name did not resolve.</description></item>
/// <item><term>6</term><description>connection refused: nothing listens at the address.</description></item>
/// <item><term>7</term><description>a connection was reset or closed by the server, aborted, timed out, or failed otherwise.</description></item>
/// <item><term>10</term><description><c>echo-server</c>: the address is in use.</description></item>
/// <item><term>130</term><description><c>bench</c> or <c>fuzz</c> interrupted by Ctrl-C or SIGTERM.</description></item>
/// </list>
/// </remarks>
public static class Program
{
    /// <summary>Runs the command named by the first argument; Ctrl-C and SIGTERM stop <c>echo-server</c>, <c>bench</c> and <c>fuzz</c> gracefully.</summary>
    /// <param name="args">The verb, then its arguments.</param>
    /// <returns>The command's exit code.</returns>
    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        using var stop = new CancellationTokenSource();
        bool stoppable = args.Length > 0 && args[0] is "echo-server" or "bench" or "fuzz";
        void OnSignal(PosixSignalContext context)
        {
            // The first signal stops a stoppable command gracefully; any other signal keeps its default (termination).
            if (stoppable && !stop.IsCancellationRequested)
            {
                context.Cancel = true;
                stop.Cancel();
            }
        }

        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return Run(args, Console.Out, Console.Error, stop.Token);
    }

    /// <summary>Runs the command named by <c>args[0]</c> in this process, writing to the given writers (what tests call).</summary>
    /// <param name="args">The verb, then its arguments.</param>
    /// <param name="stdout">The command's standard output.</param>
    /// <param name="stderr">The command's standard error: usage errors, failures, progress.</param>
    /// <param name="cancellationToken">Stops <c>echo-server</c>, <c>bench</c> and <c>fuzz</c>.</param>
    /// <returns>The command's exit code (see the type's remarks).</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        string verb = args.Length > 0 ? args[0] : "help";
        string[] rest = args.Length > 1 ? args[1..] : [];
        try
        {
            return verb switch
            {
                "demo" => DemoCommand.Run(rest, stdout, stderr, cancellationToken),
                "echo-server" => EchoServerCommand.Run(rest, stdout, stderr, cancellationToken),
                "bench" => BenchCommand.Run(rest, stdout, stderr, cancellationToken),
                "fuzz" => FuzzCommand.Run(rest, stdout, stderr, cancellationToken),
                "get" => GetCommand.Run(rest, stdout, stderr),
                "help" or "--help" or "-h" => Usage(stdout, ExitCodes.Ok),
                _ => Usage(stderr, ExitCodes.Usage, $"unknown command '{verb}'"),
            };
        }
        catch (UsageException ex)
        {
            return Usage(stderr, ExitCodes.Usage, ex.Message);
        }
    }

    private static int Usage(TextWriter to, int exitCode, string? problem = null)
    {
        if (problem is not null)
        {
            to.WriteLine($"asyncnet: {problem}");
        }

        to.WriteLine("usage: asyncnet <command> [options]");
        to.WriteLine("  demo           run a server and clients on loopback and show what the library does");
        to.WriteLine($"  {EchoServerCommand.Usage}");
        to.WriteLine("                 run an echo server until Ctrl-C/SIGTERM (raw = AsyncNet protocol echo; framed = 4-byte BE length + payload)");
        to.WriteLine($"  {BenchCommand.Usage}");
        to.WriteLine("                 drive an echo server with a verifying load; report msgs/s, MB/s, p50/p99 latency");
        to.WriteLine($"  {FuzzCommand.Usage}");
        to.WriteLine("                 fuzz a framed echo server with generated frames, cuts and pauses; shrink a failure");
        to.WriteLine("  get URL [--include] [--output FILE] [--repeat N]");
        to.WriteLine("                 fetch a plain-http URL with the sample HTTP client");
        to.WriteLine("exit codes: 0 ok, 1 echo mismatch or failed check, 2 bad arguments, 5 name not resolved, 6 connection refused,");
        to.WriteLine("            7 connection reset/closed/failed, 10 address in use, 130 interrupted (get: see its own codes 3-9)");
        return exitCode;
    }
}
