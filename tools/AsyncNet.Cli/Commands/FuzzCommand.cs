using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Cli.Fuzz;
using AsyncNet.Echo;
using AsyncNet.Properties;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Testing.Faults;

namespace AsyncNet.Cli;

/// <summary>
/// <c>asyncnet fuzz --port P [--host H] [--format SPEC | --lines [--max-line N]] [--messages M] [--cases N] [--seconds S]
/// [--seed X] [--case-timeout S] [--fault SPEC] [--fault-up SPEC] [--fault-down SPEC] [--save FILE] [--replay FILE]</c>:
/// sends an echo server FsCheck-generated messages, cut at random boundaries with random pauses, one case per
/// connection, and checks that every byte comes back (see <see cref="EchoFuzz"/>).
/// </summary>
/// <remarks>
/// <para>
/// The messages are frames of <see cref="EchoFraming.DefaultFormat"/> (a 4-byte big-endian length, then the payload),
/// frames of the layout <c>--format</c> spells (<see cref="FrameFormatText"/>), or with <c>--lines</c> newline-terminated
/// lines of at most <c>--max-line</c> bytes. With a <c>--fault</c> option the fuzzer puts a <see cref="FaultProxy"/>
/// with those faults between itself and the server.
/// </para>
/// <para>
/// On a failure the case is shrunk to the smallest one that still fails, which is printed as bytes: in hex, write by
/// write; as a <c>printf … | nc</c> command; and in a replay file that <c>--replay FILE</c> sends again, in the same writes
/// with the same pauses (checking only that the echo is the bytes sent). The seed that repeats the run is printed too.
/// </para>
/// <para>
/// Exit codes: 0 when every case passed (or the replay's echo matched); 1 on a failing case (or a replay that still
/// fails); 2 for bad arguments (a replay file that does not parse included); 5 when the host does not resolve; 6 when the
/// connection is refused; 7 when the first connection fails otherwise; 130 when interrupted before any case failed.
/// </para>
/// </remarks>
public static class FuzzCommand
{
    /// <summary>Creates the <c>fuzz</c> verb.</summary>
    /// <returns>The verb, with its options and action.</returns>
    public static Command Create()
    {
        Option<string> host = ValueOptions.Host("The server's address.");
        Option<int> port = ValueOptions.Port(listening: false);
        Option<LengthFieldFormat?> format = ValueOptions.FrameFormat("The frame layout the server echoes.");
        var lines = new Option<bool>("--lines") { Description = "Send newline-terminated lines instead of frames (for a line protocol's echo)." };
        Option<int> maxLine = ValueOptions.WholeNumber("--max-line", "With --lines: the longest line, in bytes before the newline.", 0, 1 << 20, LineWire.DefaultMaxLine);
        Option<int> messages = ValueOptions.WholeNumber("--messages", "The most messages (frames or lines) in one case.", 1, 1_000, 8);
        messages.Aliases.Add("--frames");
        Option<int> cases = ValueOptions.WholeNumber("--cases", "How many cases to run, one connection each.", 1, 10_000_000, 500);
        Option<double> seconds = ValueOptions.Seconds("--seconds", "The most time to spend; the run stops after the case running then.", 0.1, 86_400, 30);
        Option<double> caseTimeout = ValueOptions.Seconds("--case-timeout", "How long one case may wait for its echo before it fails.", 0.1, 3_600, 5);
        Option<ulong?> seed = Seed();
        var faults = new FaultOptions();
        var save = new Option<FileInfo?>("--save")
        {
            Description = "Where to write a failure's replay file. The default is asyncnet-fuzz-SEED.replay in the temporary directory.",
            HelpName = "FILE",
        };
        var replay = new Option<FileInfo?>("--replay")
        {
            Description = "Send the writes of a replay file (a failure's, or written by hand) instead of generated cases, and check the echo.",
            HelpName = "FILE",
        };
        var verb = new Verb(
            "fuzz",
            "Fuzz an echo server (frames of any length-field layout, or lines) with generated messages, cut writes and pauses, one case per connection; " +
            "shrink a failure to the smallest case and print it as bytes to replay.",
            "0    every case passed (--replay: the echo matched)\n1    a case failed (the smallest failing case, its bytes and the seed are printed; --replay: it still fails)\n" +
            "2    bad arguments\n5    the host name did not resolve\n6    connection refused\n7    the first connection failed otherwise\n130  interrupted before any case failed")
        {
            host, port, format, lines, maxLine, messages, cases, seconds, caseTimeout, seed, save, replay,
        };
        foreach (Option option in faults.All)
        {
            verb.Add(option);
        }

        verb.Validators.Add(result =>
        {
            if (result.GetResult(format) is { Implicit: false } && result.GetValue(lines))
            {
                result.AddError("--format describes frames and --lines lines: give one of them");
            }
            else if (result.GetResult(maxLine) is { Implicit: false } && !result.GetValue(lines))
            {
                result.AddError("--max-line needs --lines");
            }
        });
        verb.SetAction((result, cancellationToken) =>
        {
            (FaultSpec up, FaultSpec down) = faults.Read(result);
            var settings = new FuzzSettings
            {
                Host = result.GetRequiredValue(host),
                Port = result.GetValue(port),
                Format = result.GetValue(format),
                MaxLine = result.GetValue(lines) ? result.GetValue(maxLine) : null,
                Messages = result.GetValue(messages),
                Cases = result.GetValue(cases),
                Budget = TimeSpan.FromSeconds(result.GetValue(seconds)),
                CaseTimeout = TimeSpan.FromSeconds(result.GetValue(caseTimeout)),
                Seed = result.GetValue(seed) ?? (ulong)Random.Shared.NextInt64(),
                FaultsUp = up,
                FaultsDown = down,
                SavePath = result.GetValue(save)?.FullName,
            };
            TextWriter stdout = result.InvocationConfiguration.Output;
            TextWriter stderr = result.InvocationConfiguration.Error;
            if (result.GetValue(replay) is not { } replayFile)
            {
                return Task.FromResult(Run(settings, stdout, stderr, cancellationToken));
            }

            IReadOnlyList<EchoFuzzWrite> writes;
            try
            {
                writes = ReplayFile.Load(replayFile.FullName);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                return Task.FromResult(CommandLine.UsageError(verb, $"--replay: {ex.Message}", stderr));
            }

            return Task.FromResult(Replay(settings, writes, replayFile.FullName, stdout, stderr));
        });
        return verb;
    }

    /// <summary>Runs the fuzzer and reports it.</summary>
    /// <param name="settings">Where to fuzz, with what and how much.</param>
    /// <param name="stdout">Where the result goes.</param>
    /// <param name="stderr">Where the progress line and failures to connect go.</param>
    /// <param name="cancellationToken">Stops starting new cases (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static int Run(FuzzSettings settings, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        return WithTarget(settings, stdout, stderr, options => settings.MaxLine is { } maxLine
            ? Fuzz(LineWire.Format(maxLine, settings.Messages), settings, options, stdout, stderr, cancellationToken)
            : Fuzz(EchoFuzz.frames(settings.Format ?? EchoFraming.DefaultFormat, settings.Messages), settings, options, stdout, stderr, cancellationToken));
    }

    /// <summary>Sends recorded writes to the server (through the faults, if any) and checks that the echo is exactly those bytes.</summary>
    /// <param name="settings">Where to send them (the format and case settings are not used).</param>
    /// <param name="writes">The writes, with their pauses.</param>
    /// <param name="source">Where the writes came from, for the report.</param>
    /// <param name="stdout">Where the result goes.</param>
    /// <param name="stderr">Where failures to connect go.</param>
    /// <returns><see cref="ExitCodes.Ok"/> when the echo matched, <see cref="ExitCodes.Failed"/> when it did not, or a connection failure's code.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static int Replay(FuzzSettings settings, IReadOnlyList<EchoFuzzWrite> writes, string source, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(writes);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        return WithTarget(settings, stdout, stderr, options =>
        {
            string what = string.Create(CultureInfo.InvariantCulture, $"{writes.Count} write(s), {writes.Sum(w => w.Bytes.Length)} bytes, from {source}");
            if (EchoFuzz.replay(options, writes)?.Value is { } reason)
            {
                stdout.WriteLine($"fuzz: replay FAILED ({what}): {reason}");
                return ExitCodes.Failed;
            }

            stdout.WriteLine($"fuzz: replayed {what}: the echo matched every byte");
            return ExitCodes.Ok;
        });
    }

    /// <summary>Checks the server is there, puts the fault proxy in front of it if asked, and runs <paramref name="body"/> against it.</summary>
    private static int WithTarget(FuzzSettings settings, TextWriter stdout, TextWriter stderr, Func<EchoFuzzOptions, int> body)
    {
        IPEndPoint target;
        try
        {
            IPAddress address = IPAddress.TryParse(settings.Host, out IPAddress? literal) ? literal : Dns.GetHostAddresses(settings.Host)[0];
            target = new IPEndPoint(address, settings.Port);

            // One connection first, so a server that is not there gets its own exit code rather than a "failing case".
            using var probe = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Connect(target);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain)
        {
            stderr.WriteLine($"fuzz: name not resolved: {settings.Host}: {ex.Message}");
            return ExitCodes.NameNotResolved;
        }
        catch (SocketException ex)
        {
            bool refused = ex.SocketErrorCode == SocketError.ConnectionRefused;
            stderr.WriteLine($"fuzz: {(refused ? "connection refused" : "connection failed")}: {settings.Host}:{settings.Port}: {ex.Message}");
            return refused ? ExitCodes.ConnectionRefused : ExitCodes.ConnectionFailed;
        }

        EchoFuzzOptions Against(EndPoint endPoint) => new(endPoint, settings.Cases, settings.Budget, settings.Seed, settings.CaseTimeout);
        if (settings.FaultsUp == FaultSpec.None && settings.FaultsDown == FaultSpec.None)
        {
            return body(Against(target));
        }

        // The proxy's own random draws (jitter, slice sizes) follow the seed too, so a run repeats as closely as timing allows.
        var proxyOptions = new FaultProxyOptions { ClientToUpstream = settings.FaultsUp, UpstreamToClient = settings.FaultsDown, Seed = (int)(settings.Seed & int.MaxValue) };
        FaultProxy proxy = FaultProxy.StartAsync(target, proxyOptions).GetAwaiter().GetResult();
        try
        {
            stdout.WriteLine($"fuzz: through a fault proxy on {proxy.ListenEndPoint}: faults up: {proxy.ClientToUpstream}; down: {proxy.UpstreamToClient}");
            return body(Against(proxy.ListenEndPoint));
        }
        finally
        {
            proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static int Fuzz<T>(WireFormat<T> format, FuzzSettings settings, EchoFuzzOptions options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan lastProgress = TimeSpan.Zero;
        EchoFuzzReport<T> report = EchoFuzz.run(format, options, done =>
        {
            if (clock.Elapsed - lastProgress >= TimeSpan.FromMilliseconds(250) || done == settings.Cases)
            {
                lastProgress = clock.Elapsed;
                stderr.Write($"\rfuzz: {done} of {settings.Cases} cases");
            }
        }, cancellationToken);
        stderr.WriteLine();

        if (report.Failure?.Value is { } failure)
        {
            ReportFailure(format, settings, report.Cases, failure, stdout);
            return ExitCodes.Failed;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            stdout.WriteLine($"fuzz: stopped after {report.Cases} passing cases (seed {settings.Seed})");
            return ExitCodes.Interrupted;
        }

        stdout.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"fuzz: {report.Cases} cases passed: {report.MessagesVerified:N0} messages, {report.BytesVerified:N0} bytes echoed intact in {report.Elapsed.TotalSeconds:F1} s ({format.Name}, seed {settings.Seed})"));
        return ExitCodes.Ok;
    }

    private static void ReportFailure<T>(WireFormat<T> format, FuzzSettings settings, int cases, EchoFuzzFailure<T> failure, TextWriter stdout)
    {
        byte[] bytes = [.. failure.Writes.SelectMany(w => w.Bytes)];
        string savePath = settings.SavePath ?? Path.Combine(Path.GetTempPath(), $"asyncnet-fuzz-{settings.Seed}.replay");
        string rerun = $"asyncnet fuzz --host {settings.Host} --port {settings.Port}{settings.FormatArguments()} --messages {settings.Messages}{settings.FaultArguments()}";
        stdout.WriteLine($"fuzz: FAILED at case {cases} of {format.Name}: {failure.Reason}");
        stdout.WriteLine($"  first failing case: {EchoFuzz.describe(format, failure.Original)}");
        stdout.WriteLine($"  smallest failing case ({failure.Shrinks} shrinks): {EchoFuzz.describe(format, failure.Smallest)}");
        stdout.WriteLine($"  its {bytes.Length} bytes in hex, write by write: {string.Join(" | ", failure.Writes.Select(w => Convert.ToHexStringLower(w.Bytes) + (w.PauseMs > 0 ? $" (pause {w.PauseMs} ms)" : string.Empty)))}");
        stdout.WriteLine(bytes.Length <= 4096
            ? $"  as a shell command (in one write): printf {ByteText.PrintfFormat(bytes)} | nc {settings.Host} {settings.Port}"
            : "  as a shell command: too long for one; use the replay file");
        try
        {
            ReplayFile.Save(savePath, failure.Writes, [$"asyncnet fuzz failure ({format.Name}): {failure.Reason}", $"replay with: {rerun} --replay {savePath}"]);
            stdout.WriteLine($"  replay file: {savePath} (replay with: {rerun} --replay {savePath})");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stdout.WriteLine($"  replay file: could not write {savePath}: {ex.Message}");
        }

        stdout.WriteLine($"  repeat the run with: {rerun} --seed {settings.Seed}");
    }

    private static Option<ulong?> Seed() => new("--seed")
    {
        Description = "The random seed, to repeat a run (a failure prints it); the default is a random one.",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            if (text == "random")
            {
                return null;
            }

            if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
            {
                return value;
            }

            result.AddError($"--seed must be a whole number from 0 to {ulong.MaxValue} (got '{text}')");
            return null;
        },
    };
}
