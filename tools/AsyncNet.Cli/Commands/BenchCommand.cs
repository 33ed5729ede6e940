using System.CommandLine;
using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using AsyncNet.Echo;
using AsyncNet.Errors;
using AsyncNet.Transports;

namespace AsyncNet.Cli;

/// <summary>
/// <c>asyncnet bench (--port P [--host H] | --server-loops N [--server-kind raw|stream|framed] [--distribution D])
/// [--connections N] [--size B] [--depth D] [--seconds S] [--warmup S] [--framed] [--tls]</c>: drives an echo server
/// with a verifying load and reports messages/s, MB/s, p50/p99 latency, the bytes verified and how the connections
/// spread over the server's loops.
/// </summary>
/// <remarks>
/// <para>
/// Every echoed byte is compared with the byte sent; <c>--framed</c> sends frames of <see cref="EchoFraming.DefaultFormat"/>
/// (for <c>echo-server --kind framed</c>) and expects them back whole. A live progress line is rewritten on standard
/// error four times a second; the results go to standard output. <c>--tls</c> speaks TLS to the server (for
/// <c>echo-server --tls</c>), accepting its certificate unchecked, through <see cref="TlsEchoLoadGenerator"/>.
/// </para>
/// <para>
/// <c>--server-loops N</c> starts an AsyncNet echo server of <c>--server-kind</c> (raw unless <c>--framed</c> makes it
/// framed) on N loops in this process, on 127.0.0.1 and a port the OS chooses, and benches that: the report then ends
/// with "accepted per loop: a, b, … (n in all)". A framed server gets framed load, with or without <c>--framed</c>.
/// Against a server in another process (<c>--port</c>) bench cannot see its loops and says so; that server's own report
/// (<c>echo-server</c> prints its spread on stop) has them.
/// </para>
/// <para>
/// Exit codes: 0 when every echoed byte matched; 1 on the first mismatch (the message names the connection, the offset,
/// the expected and the actual byte); 2 for bad arguments; 5 when the host does not resolve; 6 when the connection is
/// refused; 7 when a connection is reset or closed by the server, a TLS handshake fails, or it fails otherwise; 130 when
/// interrupted.
/// </para>
/// </remarks>
public static class BenchCommand
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    /// <summary>Creates the <c>bench</c> verb.</summary>
    /// <returns>The verb, with its options and action.</returns>
    public static Command Create()
    {
        Option<string> host = ValueOptions.Host("The server's address.");
        Option<int> port = ValueOptions.WholeNumber("--port", "The server's TCP port (or --server-loops to bench a server in this process).", 1, 65535, null);
        Option<int> serverLoops = ValueOptions.WholeNumber("--server-loops", "Bench an AsyncNet echo server started in this process on this many loops, instead of --host/--port.", 1, 1024, null);

        // One of the two is required: the verb's validator says so, naming both.
        port.Required = serverLoops.Required = false;
        Option<EchoServerKind> serverKind = ValueOptions.EchoKind("--server-kind", "With --server-loops: the kind of echo (raw unless --framed, then framed).", onLoopsOnly: true);
        Option<AcceptDistribution> distribution = ValueOptions.Distribution("--distribution");
        Option<int> connections = ValueOptions.WholeNumber("--connections", "How many connections to open.", 1, 10_000, 50);
        Option<int> size = ValueOptions.WholeNumber("--size", "The bytes of one message (with --framed, of one frame's payload).", 1, EchoLoadOptions.MaxMessageSize, 64);
        Option<int> depth = ValueOptions.WholeNumber("--depth", "How many messages each connection keeps in flight.", 1, 4096, 1);
        Option<double> seconds = ValueOptions.Seconds("--seconds", "How long to measure, after the warm-up.", 0.1, 86_400, 5);
        Option<double> warmup = ValueOptions.Seconds("--warmup", "How long to run before measuring.", 0, 3_600, 1);
        var framed = new Option<bool>("--framed") { Description = "Send frames of a 4-byte big-endian length and the payload (for echo-server --kind framed)." };
        var tls = new Option<bool>("--tls")
        {
            Description = "Speak TLS (for echo-server --tls). The server's certificate is accepted unchecked, as a test certificate must be: the load measures, it does not authenticate.",
        };
        var verb = new Verb(
            "bench",
            "Drive an echo server with a verifying load; report msgs/s, MB/s, p50/p99 latency and the bytes verified.",
            "0    every echoed byte matched\n1    an echoed byte differed (the message names where)\n2    bad arguments\n" +
            "5    the host name did not resolve\n6    connection refused\n7    a connection was reset, closed by the server, a TLS handshake failed, or it failed\n130  interrupted")
        {
            host, port, serverLoops, serverKind, distribution, connections, size, depth, seconds, warmup, framed, tls,
        };
        verb.Validators.Add(result =>
        {
            bool external = result.GetResult(port) is { Implicit: false };
            bool inProcess = result.GetResult(serverLoops) is { Implicit: false };
            if (external == inProcess)
            {
                result.AddError(external
                    ? "--port names a server in another process; --server-loops starts one in this process: give one of them"
                    : "Option '--port' is required (or --server-loops to bench a server started in this process).");
            }
            else if (!inProcess && (result.GetResult(serverKind) is { Implicit: false } || result.GetResult(distribution) is { Implicit: false }))
            {
                result.AddError("--server-kind and --distribution need --server-loops (bench cannot change a server in another process)");
            }
            else if (inProcess && (result.GetResult(host) is { Implicit: false } || result.GetValue(tls)))
            {
                result.AddError("--server-loops serves plain TCP on 127.0.0.1; --host and --tls are for a server in another process");
            }
        });

        verb.SetAction((result, cancellationToken) =>
        {
            var options = new EchoLoadOptions
            {
                Host = result.GetRequiredValue(host),
                Port = result.GetValue(port),
                Connections = result.GetValue(connections),
                MessageSize = result.GetValue(size),
                Depth = result.GetValue(depth),
                Duration = TimeSpan.FromSeconds(result.GetValue(seconds)),
                Warmup = TimeSpan.FromSeconds(result.GetValue(warmup)),
                FrameFormat = result.GetValue(framed) ? EchoFraming.DefaultFormat : null,
            };
            TextWriter stderr = result.InvocationConfiguration.Error;
            bool inProcess = result.GetResult(serverLoops) is { Implicit: false };
            try
            {
                // What one option's range cannot say (depth times size, a frame's length) is a usage error too. An
                // in-process server's port is known only once it listens: any valid port stands in for it here.
                (inProcess ? options with { Port = 1 } : options).Validate();
            }
            catch (ArgumentException ex)
            {
                return Task.FromResult(CommandLine.UsageError(verb, $"{OptionName(ex.ParamName)}: {ex.Message}", stderr));
            }

            SslClientAuthenticationOptions? tlsOptions = result.GetValue(tls) ? AcceptingAnyCertificate() : null;
            if (!inProcess)
            {
                return Task.FromResult(Run(options, tlsOptions, result.InvocationConfiguration.Output, stderr, cancellationToken));
            }

            EchoServerKind kind = result.GetResult(serverKind) is { Implicit: false } ? result.GetValue(serverKind) : options.FrameFormat is null ? EchoServerKind.Protocol : EchoServerKind.Framed;
            if (kind.IsFramed())
            {
                // The framed echo reads frames: the load sends them, as --framed would.
                options = options with { FrameFormat = EchoFraming.DefaultFormat };
            }

            var serverOptions = new EchoServerOptions { Loops = result.GetValue(serverLoops), Distribution = result.GetValue(distribution) };
            return Task.FromResult(RunInProcess(kind, serverOptions, options, result.InvocationConfiguration.Output, stderr, cancellationToken));
        });
        return verb;
    }

    /// <summary>Starts an AsyncNet echo server in this process, runs the load against it, and reports both.</summary>
    /// <param name="kind">The server's kind.</param>
    /// <param name="serverOptions">The server's settings: its loops and their distribution.</param>
    /// <param name="load">The load; its <see cref="EchoLoadOptions.Host"/> and <see cref="EchoLoadOptions.Port"/> are replaced by the server's.</param>
    /// <param name="stdout">Where the results go.</param>
    /// <param name="stderr">Where the progress line and failures go.</param>
    /// <param name="cancellationToken">Stops the load early.</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static int RunInProcess(EchoServerKind kind, EchoServerOptions serverOptions, EchoLoadOptions load, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        IEchoServer server;
        try
        {
            server = EchoServers.StartAsync(kind, options: serverOptions).GetAwaiter().GetResult();
        }
        catch (PlatformNotSupportedException ex)
        {
            return CommandLine.UsageError("bench", $"--distribution {ValueOptions.NameOf(serverOptions.Distribution)}: {ex.Message}", stderr);
        }

        try
        {
            stdout.WriteLine($"bench: serving with the {server.Name} echo in this process on {EchoServerCommand.Where(server)}");
            return Run(load with { Host = "127.0.0.1", Port = server.EndPoint.Port }, tls: null, stdout, stderr, cancellationToken, server);
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Runs the load and reports it.</summary>
    /// <param name="options">The load.</param>
    /// <param name="tls">The client's TLS settings, or <see langword="null"/> for plain TCP.</param>
    /// <param name="stdout">Where the results go.</param>
    /// <param name="stderr">Where the progress line and failures go.</param>
    /// <param name="cancellationToken">Stops the load early (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <param name="server">The server, when it runs in this process (its spread over its loops is reported); <see langword="null"/> (the default) for a server elsewhere.</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static int Run(EchoLoadOptions options, SslClientAuthenticationOptions? tls, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken, IEchoServer? server = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        options.Validate();
        bool framed = options.FrameFormat is not null;
        stdout.WriteLine(string.Create(
            s_invariant,
            $"bench: {options.Host}:{options.Port}{(tls is null ? string.Empty : " over TLS")}, {options.Connections} connections, {options.MessageSize} B {(framed ? "framed" : "raw")} messages, depth {options.Depth}, {options.Warmup.TotalSeconds:0.###} s warm-up + {options.Duration.TotalSeconds:0.###} s measured"));
        stdout.Flush();

        EchoLoadResult result;
        bool progressShown = false;
        try
        {
            void Progress(EchoLoadProgress p)
            {
                progressShown = true;
                stderr.Write(string.Create(
                    s_invariant,
                    $"\r  {p.Elapsed.TotalSeconds,6:0.0} s  {(p.WarmingUp ? "warm-up  " : "measuring")}  {p.Messages,14:N0} msgs  {p.MessagesPerSecond,12:N0} msgs/s  {p.VerifiedBytes / 1e6,10:N1} MB verified "));
                stderr.Flush();
            }

            Task<EchoLoadResult> load = tls is null
                ? EchoLoadGenerator.RunAsync(options, Progress, cancellationToken)
                : TlsEchoLoadGenerator.RunAsync(options, tls, Progress, cancellationToken);
            result = load.GetAwaiter().GetResult();
        }
        catch (AuthenticationException ex)
        {
            EndProgressLine(stderr, progressShown);
            stderr.WriteLine($"bench: TLS handshake failed: {ex.Message} {ex.InnerException?.Message}".TrimEnd());
            return ExitCodes.ConnectionFailed;
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
        stdout.WriteLine(server is null
            ? "accepted per loop: unknown: the server runs in another process (its echo-server prints its spread on stop)"
            : $"accepted per loop: {EchoServerCommand.Spread(server.GetAcceptedCounts())}");
        return ExitCodes.Ok;
    }

    /// <summary>TLS that accepts whatever certificate the server shows: bench measures, it does not authenticate.</summary>
    private static SslClientAuthenticationOptions AcceptingAnyCertificate() => new()
    {
        RemoteCertificateValidationCallback = static (_, _, _, _) => true,
    };

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
