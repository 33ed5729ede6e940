using System.Runtime.InteropServices;

namespace AsyncNet.Cli;

/// <summary>The <c>asyncnet</c> command line: one command per verb, parsed by System.CommandLine (see <see cref="CommandLine"/>).</summary>
/// <remarks>
/// <para>Commands (each takes <c>--help</c>; <c>asyncnet --version</c> prints the version):</para>
/// <list type="bullet">
/// <item><c>demo</c>: a framed echo server and pipelining clients on one loop, timers, cross-thread callbacks (<see cref="DemoCommand"/>).</item>
/// <item><c>echo-server [--kind raw|stream|zerocopy|framed|socket|pipelines] [--host H] [--port P] [--tls CERT [--tls-key KEY]]</c>: an echo server until Ctrl-C or SIGTERM (<see cref="EchoServerCommand"/>).</item>
/// <item><c>bench --port P [--host H] [--connections N] [--size B] [--depth D] [--seconds S] [--warmup S] [--framed] [--tls]</c>: a verifying echo load (<see cref="BenchCommand"/>).</item>
/// <item><c>fuzz --port P [--host H] [--format SPEC | --lines [--max-line N]] [--fault SPEC] [--cases N] [--seconds S] [--messages M] [--seed X] [--replay FILE]</c>: property-based fuzzing of an echo server of any length-field framing or of lines (<see cref="FuzzCommand"/>).</item>
/// <item><c>proxy --upstream HOST:PORT|unix:PATH [--listen HOST:PORT|unix:PATH] [--fault SPEC] [--fault-up SPEC] [--fault-down SPEC]</c>: a fault-injecting proxy until Ctrl-C or SIGTERM (<see cref="ProxyCommand"/>).</item>
/// </list>
/// <para>Exit codes (<see cref="ExitCodes"/>):</para>
/// <list type="table">
/// <item><term>0</term><description>success (for <c>echo-server</c> and <c>proxy</c>: stopped gracefully).</description></item>
/// <item><term>1</term><description><c>bench</c>: an echoed byte differed from the byte sent; <c>fuzz</c>: a case failed; <c>demo</c>: a check failed.</description></item>
/// <item><term>2</term><description>bad arguments: unknown command or option, a missing or invalid value (the message names it).</description></item>
/// <item><term>5</term><description>the host name did not resolve.</description></item>
/// <item><term>6</term><description>connection refused: nothing listens at the address.</description></item>
/// <item><term>7</term><description>a connection was reset or closed by the server, aborted, timed out, or failed otherwise.</description></item>
/// <item><term>10</term><description><c>echo-server</c>, <c>proxy</c>: the address is in use.</description></item>
/// <item><term>130</term><description><c>bench</c> or <c>fuzz</c> interrupted by Ctrl-C or SIGTERM.</description></item>
/// </list>
/// </remarks>
public static class Program
{
    /// <summary>Runs the command named by the first argument; Ctrl-C and SIGTERM stop <c>echo-server</c>, <c>bench</c>, <c>fuzz</c> and <c>proxy</c> gracefully.</summary>
    /// <param name="args">The verb, then its arguments.</param>
    /// <returns>The command's exit code.</returns>
    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        using var stop = new CancellationTokenSource();
        bool stoppable = args.Length > 0 && args[0] is "echo-server" or "bench" or "fuzz" or "proxy";
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
    /// <param name="cancellationToken">Stops <c>echo-server</c>, <c>bench</c>, <c>fuzz</c> and <c>proxy</c>.</param>
    /// <returns>The command's exit code (see the type's remarks).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default) =>
        CommandLine.Invoke(args, stdout, stderr, cancellationToken);
}
