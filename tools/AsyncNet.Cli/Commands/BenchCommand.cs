using System.CommandLine;
using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using AsyncNet.Echo;
using AsyncNet.Errors;

namespace AsyncNet.Cli;

/// <summary>
/// <c>asyncnet bench --port P [--host H] [--connections N] [--size B] [--depth D] [--seconds S] [--warmup S] [--framed] [--tls]</c>:
/// drives an echo server with a verifying load and reports messages/s, MB/s, p50/p99 latency and the bytes verified.
/// </summary>
/// <remarks>
/// <para>
/// Every echoed byte is compared with the byte sent; <c>--framed</c> sends frames of <see cref="EchoFraming.DefaultFormat"/>
/// (for <c>echo-server --kind framed</c>) and expects them back whole. A live progress line is rewritten on standard
/// error four times a second; the results go to standard output. <c>--tls</c> speaks TLS to the server (for
/// <c>echo-server --tls</c>), accepting its certificate unchecked, through <see cref="TlsEchoLoadGenerator"/>.
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
        Option<int> port = ValueOptions.Port(listening: false);
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
            host, port, connections, size, depth, seconds, warmup, framed, tls,
        };

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
            try
            {
                // What one option's range cannot say (depth times size, a frame's length) is a usage error too.
                options.Validate();
            }
            catch (ArgumentException ex)
            {
                return Task.FromResult(CommandLine.UsageError(verb, $"{OptionName(ex.ParamName)}: {ex.Message}", stderr));
            }

            SslClientAuthenticationOptions? tlsOptions = result.GetValue(tls) ? AcceptingAnyCertificate() : null;
            return Task.FromResult(Run(options, tlsOptions, result.InvocationConfiguration.Output, stderr, cancellationToken));
        });
        return verb;
    }

    /// <summary>Runs the load and reports it.</summary>
    /// <param name="options">The load.</param>
    /// <param name="tls">The client's TLS settings, or <see langword="null"/> for plain TCP.</param>
    /// <param name="stdout">Where the results go.</param>
    /// <param name="stderr">Where the progress line and failures go.</param>
    /// <param name="cancellationToken">Stops the load early (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static int Run(EchoLoadOptions options, SslClientAuthenticationOptions? tls, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
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
