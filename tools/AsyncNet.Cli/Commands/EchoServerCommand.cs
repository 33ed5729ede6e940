using System.CommandLine;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AsyncNet.Echo;
using AsyncNet.Errors;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Cli;

/// <summary>
/// <c>asyncnet echo-server [--kind raw|stream|zerocopy|framed|socket|pipelines] [--host 127.0.0.1] [--port P] [--loops N]
/// [--distribution auto|reuseport|round-robin|least-connections] [--spread-every S] [--format SPEC] [--tls CERT [--tls-key KEY]]</c>:
/// runs an echo server until stopped (Ctrl-C or SIGTERM), then closes it gracefully.
/// </summary>
/// <remarks>
/// <para>
/// <c>raw</c> (the default) is AsyncNet's transport-level echo, <c>stream</c> its stream echo, <c>framed</c> its framed
/// echo (frames of <see cref="EchoFraming.DefaultFormat"/>, a 4-byte big-endian payload length and the payload, unless
/// <c>--format</c> spells another layout in <see cref="FrameFormatText"/>'s form); <c>socket</c> and <c>pipelines</c> are
/// the .NET baselines. <c>--port 0</c> (the default) lets the OS choose; the line
/// "echo-server: … listening on HOST:PORT, N loop(s) …" on standard output says where.
/// </para>
/// <para>
/// The AsyncNet kinds run on an event loop group of <c>--loops</c> loops (1 by default), each on a thread of its own;
/// <c>--distribution</c> says how connections spread over them. On stop, and every <c>--spread-every</c> seconds if
/// given, the line "echo-server: accepted per loop: a, b, … (n in all)" says how they spread.
/// </para>
/// <para>
/// <c>--tls CERT</c> serves the stream echo over TLS (<c>SslStream</c> on the connection's stream adapter). CERT is a
/// PEM file with the certificate (and its chain) and, unless <c>--tls-key KEY</c> names another PEM file for it, the
/// unencrypted private key (PKCS#8, RSA or EC), as <c>openssl req -x509 -nodes</c> writes them.
/// </para>
/// <para>
/// Exit codes: 0 after a graceful stop; 2 for bad arguments (a certificate that cannot be loaded, and SO_REUSEPORT
/// asked for off Linux, included); 5 when the host does not resolve; 10 when the address is in use; 7 for another
/// network failure.
/// </para>
/// </remarks>
public static class EchoServerCommand
{
    /// <summary>Creates the <c>echo-server</c> verb.</summary>
    /// <returns>The verb, with its options and action.</returns>
    public static Command Create()
    {
        Option<EchoServerKind> kind = ValueOptions.EchoKind(
            "--kind",
            "raw (the default): AsyncNet's protocol echo; stream: its stream echo; zerocopy: its stream echo on lent buffers (ReadBufferedAsync, no copies); framed: its framed echo (4-byte big-endian length, then the payload, unless --format says otherwise); socket, pipelines: the .NET baselines.",
            onLoopsOnly: false);
        Option<string> host = ValueOptions.Host("The address to listen on.");
        Option<int> port = ValueOptions.Port(listening: true);
        Option<int> loops = ValueOptions.WholeNumber("--loops", "How many event loops (threads) serve the AsyncNet kinds.", 1, 1024, 1);
        Option<AcceptDistribution> distribution = ValueOptions.Distribution("--distribution");
        Option<double> spreadEvery = ValueOptions.Seconds("--spread-every", "Also print how the accepted connections spread over the loops every this many seconds; 0 prints it on stop only.", 0, 86_400, 0);
        Option<LengthFieldFormat?> format = ValueOptions.FrameFormat("The frame layout of --kind framed.");
        var tls = new Option<FileInfo?>("--tls")
        {
            Description = "Serve the stream echo over TLS with the certificate in this PEM file (with its unencrypted private key unless --tls-key is given).",
            HelpName = "CERT",
        };
        var tlsKey = new Option<FileInfo?>("--tls-key") { Description = "The PEM file of --tls's private key, when it is not in CERT.", HelpName = "KEY" };
        var verb = new Verb(
            "echo-server",
            "Run an echo server until Ctrl-C or SIGTERM, then close it gracefully; say how its connections spread over its loops.",
            "0    stopped gracefully\n2    bad arguments\n5    the host name did not resolve\n7    another network failure\n10   the address is in use")
        {
            kind, host, port, loops, distribution, spreadEvery, format, tls, tlsKey,
        };
        verb.SetAction((result, cancellationToken) =>
        {
            TextWriter stderr = result.InvocationConfiguration.Error;
            EchoServerKind parsedKind = result.GetValue(kind);
            if (!parsedKind.RunsOnLoops() && (result.GetResult(loops) is { Implicit: false } || result.GetResult(distribution) is { Implicit: false }))
            {
                return Task.FromResult(CommandLine.UsageError(verb, $"--loops and --distribution apply to the AsyncNet kinds (raw, stream, zerocopy, framed), not to {parsedKind.DisplayName()}", stderr));
            }

            var options = new EchoServerOptions { Loops = result.GetValue(loops), Distribution = result.GetValue(distribution) };
            if (result.GetValue(format) is { } frameFormat)
            {
                if (parsedKind != EchoServerKind.Framed)
                {
                    return Task.FromResult(CommandLine.UsageError(verb, "--format is the layout of --kind framed", stderr));
                }

                options = options with { FrameFormat = frameFormat };
            }

            if (result.GetValue(tls) is { } certificateFile)
            {
                if (result.GetResult(kind) is { Implicit: false } && parsedKind != EchoServerKind.Stream)
                {
                    return Task.FromResult(CommandLine.UsageError(verb, $"--tls serves the stream echo only (got --kind {result.GetResult(kind)!.Tokens[^1].Value})", stderr));
                }

                parsedKind = EchoServerKind.Stream;
                try
                {
                    options = options with { Tls = new SslServerAuthenticationOptions { ServerCertificate = LoadCertificate(certificateFile, result.GetValue(tlsKey)) } };
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
                {
                    return Task.FromResult(CommandLine.UsageError(verb, $"--tls: cannot load a certificate and its private key from '{certificateFile}': {ex.Message}", stderr));
                }
            }
            else if (result.GetValue(tlsKey) is not null)
            {
                return Task.FromResult(CommandLine.UsageError(verb, "--tls-key needs --tls", stderr));
            }

            TimeSpan every = TimeSpan.FromSeconds(result.GetValue(spreadEvery));
            return Task.FromResult(Run(parsedKind, result.GetRequiredValue(host), result.GetValue(port), options, result.InvocationConfiguration.Output, stderr, cancellationToken, every));
        });
        return verb;
    }

    /// <summary>Loads a certificate and its private key from PEM files, in the form SslStream serves on every platform.</summary>
    /// <param name="certificate">The PEM file of the certificate (and of the key, when <paramref name="key"/> is null).</param>
    /// <param name="key">The PEM file of the private key, or <see langword="null"/>.</param>
    /// <returns>The certificate with its private key.</returns>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="CryptographicException">A file holds no usable certificate or key, or they do not match.</exception>
    public static X509Certificate2 LoadCertificate(FileInfo certificate, FileInfo? key)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(certificate.FullName, key?.FullName);

        // A key read from PEM is ephemeral, which SslStream cannot serve on every platform; a PKCS#12 round trip persists it.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Runs an echo server until <paramref name="cancellationToken"/> fires, then closes it gracefully.</summary>
    /// <param name="kind">Which echo server.</param>
    /// <param name="host">The address to listen on.</param>
    /// <param name="port">The port to listen on; 0 lets the OS choose.</param>
    /// <param name="options">The server's settings (loops and TLS among them).</param>
    /// <param name="stdout">Where the listening, spread and stopped lines go.</param>
    /// <param name="stderr">Where failures go.</param>
    /// <param name="cancellationToken">Stops the server (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <param name="spreadEvery">How often to print the spread over the loops while serving; zero (the default) prints it on stop only.</param>
    /// <returns>An exit code of <see cref="ExitCodes"/> (<see cref="ExitCodes.Usage"/> for SO_REUSEPORT asked for off Linux).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="host"/>, <paramref name="options"/>, <paramref name="stdout"/> or <paramref name="stderr"/> is null.</exception>
    public static int Run(
        EchoServerKind kind, string host, int port, EchoServerOptions options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken, TimeSpan spreadEvery = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        IEchoServer server;
        try
        {
            server = EchoServers.StartAsync(kind, host, port, options).GetAwaiter().GetResult();
        }
        catch (NetworkException ex)
        {
            return ExitCodes.Report("echo-server", ex, stderr);
        }
        catch (PlatformNotSupportedException ex)
        {
            return CommandLine.UsageError("echo-server", $"--distribution {ValueOptions.NameOf(options.Distribution)}: {ex.Message}", stderr);
        }

        return Serve(server, options, spreadEvery, stdout, cancellationToken);
    }

    /// <summary>The spread of accepted connections over a server's loops: "2, 2, 2, 2 (8 in all)".</summary>
    /// <param name="counts">The accepted count of each loop.</param>
    /// <returns>The counts and their sum.</returns>
    internal static string Spread(long[] counts) =>
        string.Create(CultureInfo.InvariantCulture, $"{string.Join(", ", counts)} ({counts.Sum()} in all)");

    /// <summary>Where a server listens and on what: "127.0.0.1:9000, 4 loops (round-robin)".</summary>
    /// <param name="server">The server.</param>
    /// <returns>The endpoint, then the loops for the AsyncNet kinds.</returns>
    internal static string Where(IEchoServer server) => server.Loops switch
    {
        0 => $"{server.EndPoint}",
        1 => $"{server.EndPoint}, 1 loop",
        int n => $"{server.EndPoint}, {n} loops ({ValueOptions.NameOf(server.Distribution!.Value)})",
    };

    private static int Serve(IEchoServer server, EchoServerOptions options, TimeSpan spreadEvery, TextWriter stdout, CancellationToken cancellationToken)
    {
        string frames = server.Kind.IsFramed() ? $", frames: {FrameFormatText.Format(options.FrameFormat)}" : string.Empty;
        string certificate = options.Tls?.ServerCertificate is { } served ? $", certificate {served.Subject}" : string.Empty;
        stdout.WriteLine($"echo-server: {server.Name} echo listening on {Where(server)}{frames}{certificate} (Ctrl-C to stop)");
        stdout.Flush();
        bool onLoops = server.Loops > 0;
        if (onLoops && spreadEvery > TimeSpan.Zero)
        {
            while (!cancellationToken.WaitHandle.WaitOne(spreadEvery))
            {
                stdout.WriteLine($"echo-server: accepted per loop: {Spread(server.GetAcceptedCounts())}");
                stdout.Flush();
            }
        }
        else
        {
            cancellationToken.WaitHandle.WaitOne();
        }

        stdout.WriteLine("echo-server: stopping (closing connections gracefully)");
        if (onLoops)
        {
            stdout.WriteLine($"echo-server: accepted per loop: {Spread(server.GetAcceptedCounts())}");
        }

        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        stdout.WriteLine("echo-server: stopped");
        return ExitCodes.Ok;
    }
}
