using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Echo;
using AsyncNet.Properties;

namespace AsyncNet.Cli;

/// <summary>
/// <c>asyncnet fuzz --port P [--host H] [--cases N] [--seconds S] [--frames F] [--seed X]</c>: sends a framed echo
/// server FsCheck-generated frames of <see cref="EchoFraming.DefaultFormat"/>, cut at random boundaries with random
/// pauses, one case per connection, and checks every echoed frame (see <see cref="EchoFuzz"/>).
/// </summary>
/// <remarks>
/// On a failure the case is shrunk to the smallest one that still fails, which is printed with the seed that repeats
/// the run. Exit codes: 0 when every case passed; 1 on a failing case; 2 for bad arguments; 5 when the host does not
/// resolve; 6 when the connection is refused; 130 when interrupted before any case failed.
/// </remarks>
public static class FuzzCommand
{
    /// <summary>Creates the <c>fuzz</c> verb.</summary>
    /// <returns>The verb, with its options and action.</returns>
    public static Command Create()
    {
        Option<string> host = ValueOptions.Host("The server's address.");
        Option<int> port = ValueOptions.Port(listening: false);
        Option<int> cases = ValueOptions.WholeNumber("--cases", "How many cases to run, one connection each.", 1, 10_000_000, 500);
        Option<double> seconds = ValueOptions.Seconds("--seconds", "The most time to spend; the run stops after the case running then.", 0.1, 86_400, 30);
        Option<int> frames = ValueOptions.WholeNumber("--frames", "The most frames in one case.", 1, 1_000, 8);
        var seed = new Option<ulong?>("--seed")
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
        var verb = new Verb(
            "fuzz",
            "Fuzz a framed echo server with generated frames, cut writes and pauses, one case per connection; shrink a failure to the smallest case.",
            "0    every case passed\n1    a case failed (the smallest failing case and the seed are printed)\n2    bad arguments\n" +
            "5    the host name did not resolve\n6    connection refused\n130  interrupted before any case failed")
        {
            host, port, cases, seconds, frames, seed,
        };
        verb.SetAction((result, cancellationToken) => Task.FromResult(Run(
            result.GetRequiredValue(host),
            result.GetValue(port),
            result.GetValue(cases),
            TimeSpan.FromSeconds(result.GetValue(seconds)),
            result.GetValue(frames),
            result.GetValue(seed) ?? (ulong)Random.Shared.NextInt64(),
            result.InvocationConfiguration.Output,
            result.InvocationConfiguration.Error,
            cancellationToken)));
        return verb;
    }

    /// <summary>Runs the fuzzer and reports it.</summary>
    /// <param name="host">The server's address.</param>
    /// <param name="port">The server's port.</param>
    /// <param name="cases">How many cases to run.</param>
    /// <param name="budget">The most time to spend.</param>
    /// <param name="frames">The most frames in one case.</param>
    /// <param name="seed">The random seed.</param>
    /// <param name="stdout">Where the result goes.</param>
    /// <param name="stderr">Where the progress line and failures go.</param>
    /// <param name="cancellationToken">Stops starting new cases (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="host"/>, <paramref name="stdout"/> or <paramref name="stderr"/> is null.</exception>
    public static int Run(string host, int port, int cases, TimeSpan budget, int frames, ulong seed, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        IPEndPoint endPoint;
        try
        {
            IPAddress address = IPAddress.TryParse(host, out IPAddress? literal) ? literal : Dns.GetHostAddresses(host)[0];
            endPoint = new IPEndPoint(address, port);
            // One connection first, so a server that is not there gets its own exit code rather than a "failing case".
            using var probe = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Connect(endPoint);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain)
        {
            stderr.WriteLine($"fuzz: name not resolved: {host}: {ex.Message}");
            return ExitCodes.NameNotResolved;
        }
        catch (SocketException ex)
        {
            stderr.WriteLine($"fuzz: {(ex.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : "connection failed")}: {host}:{port}: {ex.Message}");
            return ex.SocketErrorCode == SocketError.ConnectionRefused ? ExitCodes.ConnectionRefused : ExitCodes.ConnectionFailed;
        }

        var options = new EchoFuzzOptions(endPoint, EchoFraming.DefaultFormat, cases, budget, frames, seed, TimeSpan.FromSeconds(5));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan lastProgress = TimeSpan.Zero;
        EchoFuzzReport report = EchoFuzz.run(options, done =>
        {
            if (clock.Elapsed - lastProgress >= TimeSpan.FromMilliseconds(250) || done == cases)
            {
                lastProgress = clock.Elapsed;
                stderr.Write($"\rfuzz: {done} of {cases} cases");
            }
        }, cancellationToken);
        stderr.WriteLine();

        if (report.Failure?.Value is { } failure)
        {
            stdout.WriteLine($"fuzz: FAILED at case {report.Cases} of {EchoFraming.DefaultFormat}: {failure.Reason}");
            stdout.WriteLine($"  first failing case: {failure.Original}");
            stdout.WriteLine($"  smallest failing case ({failure.Shrinks} shrinks): {failure.Smallest}");
            foreach ((FrameSpec frame, int i) in failure.Smallest.Frames.Select((f, i) => (f, i)))
            {
                string hex = Convert.ToHexString(frame.Payload.AsSpan(0, Math.Min(frame.Payload.Length, 64)));
                stdout.WriteLine($"    frame {i}: type {frame.Type}, payload {hex}{(frame.Payload.Length > 64 ? "..." : "")}");
            }

            stdout.WriteLine($"  repeat with: asyncnet fuzz --host {host} --port {port} --frames {frames} --seed {seed}");
            return ExitCodes.Failed;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            stdout.WriteLine($"fuzz: stopped after {report.Cases} passing cases (seed {seed})");
            return ExitCodes.Interrupted;
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fuzz: {report.Cases} cases passed: {report.FramesVerified:N0} frames, {report.BytesVerified:N0} bytes echoed intact in {report.Elapsed.TotalSeconds:F1} s (seed {seed})"));
        return ExitCodes.Ok;
    }
}
