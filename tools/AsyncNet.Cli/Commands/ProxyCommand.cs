using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Testing.Faults;

namespace AsyncNet.Cli;

/// <summary>
/// <c>asyncnet proxy --upstream HOST:PORT|unix:PATH [--listen HOST:PORT|unix:PATH] [--fault SPEC] [--fault-up SPEC]
/// [--fault-down SPEC] [--seed N] [--faults-from-stdin]</c>: a TCP (or Unix-socket) proxy that injects network faults
/// (<see cref="FaultProxy"/>) until Ctrl-C or SIGTERM.
/// </summary>
/// <remarks>
/// <para>
/// SPEC is <see cref="FaultSpec"/>'s text form (<c>latency=50ms,jitter=10ms</c>, <c>slice=16,slice-delay=1ms</c>,
/// <c>bandwidth=64KiB/s</c>, <c>blackhole</c>, <c>reset-after=1000</c>, <c>none</c>). <c>--fault</c> sets both
/// directions; <c>--fault-up</c> (client to upstream) and <c>--fault-down</c> (upstream to client) set one, over
/// <c>--fault</c>. With <c>--faults-from-stdin</c> each line read from standard input changes the faults of open and new
/// connections: <c>up SPEC</c>, <c>down SPEC</c>, or <c>SPEC</c> for both.
/// </para>
/// <para>
/// The line "proxy: listening on HOST:PORT, forwarding to …" on standard output says where (port 0, the default, lets
/// the OS choose). A failed upstream connect resets that client and is reported on standard error.
/// </para>
/// <para>
/// Exit codes: 0 after a stop; 2 for bad arguments (a fault spec or an address that does not parse); 5 when the listening
/// host does not resolve; 10 when the listening address is in use; 7 for another network failure.
/// </para>
/// </remarks>
public static class ProxyCommand
{
    private static readonly TimeSpan s_watchInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Creates the <c>proxy</c> verb.</summary>
    /// <returns>The verb, with its options and action.</returns>
    public static Command Create()
    {
        Option<EndPoint?> listen = Address("--listen", "Where to listen: HOST:PORT (port 0 lets the OS choose) or unix:PATH. The default is 127.0.0.1:0.", listening: true);
        Option<EndPoint?> upstream = Address("--upstream", "The server to forward to: HOST:PORT or unix:PATH.", listening: false);
        upstream.Required = true;
        var faults = new FaultOptions();
        Option<int> seed = ValueOptions.WholeNumber("--seed", "The seed of the random jitter and slice sizes, to repeat a run; the default is a random one.", 0, int.MaxValue, null);
        seed.Required = false;
        var fromStdin = new Option<bool>("--faults-from-stdin")
        {
            Description = "Change the faults while running: each line of standard input is 'up SPEC', 'down SPEC' or 'SPEC' (both directions).",
        };
        var verb = new Verb(
            "proxy",
            "Forward connections to an upstream server with injected network faults (latency, jitter, bandwidth, slicing, blackhole, reset, close) until Ctrl-C or SIGTERM.",
            "0    stopped\n2    bad arguments (a fault spec or an address that does not parse)\n5    the listening host name did not resolve\n7    another network failure\n10   the listening address is in use")
        {
            listen, upstream, seed, fromStdin,
        };
        foreach (Option option in faults.All)
        {
            verb.Add(option);
        }

        verb.SetAction((result, cancellationToken) =>
        {
            (FaultSpec up, FaultSpec down) = faults.Read(result);
            var options = new FaultProxyOptions
            {
                ListenEndPoint = result.GetValue(listen) ?? FaultProxyOptions.Default.ListenEndPoint,
                ClientToUpstream = up,
                UpstreamToClient = down,
                Seed = result.GetResult(seed) is { Implicit: false } ? result.GetValue(seed) : null,
            };
            TextReader? commands = result.GetValue(fromStdin) ? Console.In : null;
            return Task.FromResult(Run(result.GetRequiredValue(upstream)!, options, commands, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, cancellationToken));
        });
        return verb;
    }

    /// <summary>Runs the proxy until <paramref name="cancellationToken"/> fires.</summary>
    /// <param name="upstream">The server to forward to: an <see cref="IPEndPoint"/>, a <see cref="DnsEndPoint"/> (resolved for each connection) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="options">Where to listen (a <see cref="DnsEndPoint"/> is resolved first), the faults to start with, the seed.</param>
    /// <param name="faultCommands">Lines that change the faults while running ("up SPEC", "down SPEC", "SPEC"), or <see langword="null"/> for none.</param>
    /// <param name="stdout">Where the listening, fault and stopped lines go.</param>
    /// <param name="stderr">Where failures go: upstream connects that failed, fault lines that do not parse.</param>
    /// <param name="cancellationToken">Stops the proxy (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="upstream"/>, <paramref name="options"/>, <paramref name="stdout"/> or <paramref name="stderr"/> is null.</exception>
    public static int Run(EndPoint upstream, FaultProxyOptions options, TextReader? faultCommands, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        FaultProxy proxy;
        try
        {
            if (options.ListenEndPoint is DnsEndPoint name)
            {
                options = options with { ListenEndPoint = new IPEndPoint(Resolve(name), name.Port) };
            }

            proxy = FaultProxy.StartAsync(upstream, options, cancellationToken).GetAwaiter().GetResult();
        }
        catch (NetworkException ex)
        {
            return ExitCodes.Report("proxy", ex, stderr);
        }

        stdout.WriteLine($"proxy: listening on {EndPointText.Show(proxy.ListenEndPoint)}, forwarding to {EndPointText.Show(upstream)}; {FaultsNow(proxy)} (Ctrl-C to stop)");
        stdout.Flush();
        if (faultCommands is not null)
        {
            // A thread of its own: a console read blocks, and nothing waits for it at the end.
            new Thread(() => ReadFaultCommands(proxy, faultCommands, stdout, stderr, cancellationToken)) { IsBackground = true, Name = "asyncnet proxy faults" }.Start();
        }

        long failures = 0;
        while (!cancellationToken.WaitHandle.WaitOne(s_watchInterval))
        {
            failures = ReportFailedConnects(proxy, failures, stderr);
        }

        stdout.WriteLine("proxy: stopping");
        long accepted = proxy.AcceptedCount;
        proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
        ReportFailedConnects(proxy, failures, stderr);
        stdout.WriteLine(
            $"proxy: stopped: {accepted} connection(s); forwarded {proxy.GetForwardedBytes(FaultDirection.ClientToUpstream)} B up, {proxy.GetForwardedBytes(FaultDirection.UpstreamToClient)} B down; " +
            $"dropped {proxy.GetDroppedBytes(FaultDirection.ClientToUpstream)} B up, {proxy.GetDroppedBytes(FaultDirection.UpstreamToClient)} B down; {proxy.FailedConnectCount} upstream connect(s) failed");
        return ExitCodes.Ok;
    }

    /// <summary>Applies one line of fault commands: "up SPEC", "down SPEC", or "SPEC" (or "both SPEC") for both directions.</summary>
    /// <param name="proxy">The proxy.</param>
    /// <param name="line">The line.</param>
    /// <returns><see langword="null"/> when applied (or blank), else why not.</returns>
    internal static string? ApplyFaultCommand(FaultProxy proxy, string line)
    {
        string text = line.Trim();
        if (text.Length == 0)
        {
            return null;
        }

        string[] words = text.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        FaultDirection? direction = words[0].ToUpperInvariant() switch
        {
            "UP" => FaultDirection.ClientToUpstream,
            "DOWN" => FaultDirection.UpstreamToClient,
            _ => null,
        };
        bool named = direction is not null || words[0].Equals("both", StringComparison.OrdinalIgnoreCase);
        FaultSpec faults;
        try
        {
            faults = FaultSpec.Parse(named ? words.ElementAtOrDefault(1) ?? string.Empty : text);
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }

        if (direction is { } one)
        {
            proxy.SetFaults(one, faults);
        }
        else
        {
            proxy.SetFaults(faults);
        }

        return null;
    }

    private static void ReadFaultCommands(FaultProxy proxy, TextReader commands, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        try
        {
            string? line;
            while (!cancellationToken.IsCancellationRequested && (line = commands.ReadLine()) is not null)
            {
                if (line.Trim().Length == 0)
                {
                    continue;
                }

                if (ApplyFaultCommand(proxy, line) is { } problem)
                {
                    stderr.WriteLine($"proxy: ignored '{line.Trim()}': {problem}");
                }
                else
                {
                    stdout.WriteLine($"proxy: {FaultsNow(proxy)}");
                    stdout.Flush();
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The proxy stopped while a line was being applied.
        }
    }

    private static string FaultsNow(FaultProxy proxy) => $"faults up: {proxy.ClientToUpstream}; down: {proxy.UpstreamToClient}";

    private static long ReportFailedConnects(FaultProxy proxy, long reported, TextWriter stderr)
    {
        long failures = proxy.FailedConnectCount;
        if (failures > reported)
        {
            stderr.WriteLine($"proxy: {failures - reported} upstream connect(s) failed, so their clients were reset: {proxy.LastConnectError?.Message}");
        }

        return failures;
    }

    private static IPAddress Resolve(DnsEndPoint name)
    {
        try
        {
            IPAddress[] addresses = Dns.GetHostAddresses(name.Host);
            return addresses.Length > 0 ? addresses[0] : throw SocketErrors.Classify(SocketError.HostNotFound, "resolve", name.Host);
        }
        catch (SocketException ex)
        {
            throw SocketErrors.Classify(ex, "resolve", name.Host);
        }
    }

    private static Option<EndPoint?> Address(string name, string description, bool listening) => new(name)
    {
        Description = description,
        HelpName = "HOST:PORT|unix:PATH",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            if (EndPointText.TryParse(text, listening, out EndPoint? endPoint, out string? error))
            {
                return endPoint;
            }

            result.AddError($"{name}: {error} (got '{text}')");
            return null;
        },
    };
}
