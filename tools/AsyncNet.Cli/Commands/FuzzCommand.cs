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
    /// <summary>The usage line.</summary>
    public const string Usage = "fuzz --port P [--host 127.0.0.1] [--cases 500] [--seconds 30] [--frames 8] [--seed N]";

    /// <summary>Runs the fuzzer and reports it.</summary>
    /// <param name="args">The arguments after <c>fuzz</c>.</param>
    /// <param name="stdout">Where the result goes.</param>
    /// <param name="stderr">Where the progress line and failures go.</param>
    /// <param name="cancellationToken">Stops starting new cases (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="UsageException">The arguments are malformed.</exception>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        CommandLine line = CommandLine.Parse("fuzz", args, ["host", "port", "cases", "seconds", "frames", "seed"], []);
        string host = line.GetString("host", "127.0.0.1");
        int port = line.GetInt32("port", null, 1, 65535);
        int cases = line.GetInt32("cases", 500, 1, 10_000_000);
        TimeSpan budget = line.GetSeconds("seconds", 30, 0.1, 86_400);
        int frames = line.GetInt32("frames", 8, 1, 1_000);
        string seedText = line.GetString("seed", "random");
        ulong seed = seedText == "random"
            ? (ulong)Random.Shared.NextInt64()
            : ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong parsed)
                ? parsed
                : throw new UsageException($"fuzz: --seed must be a whole number from 0 to {ulong.MaxValue} (got '{seedText}')");

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
