using System.Diagnostics;
using System.Text;

namespace AsyncNet.Cli.Tests.Tls;

/// <summary>
/// <c>openssl s_client</c> as a real TLS peer: it verifies the server's certificate against the test certificate and the
/// name localhost, sends lines and reads back what the server writes.
/// </summary>
internal sealed class OpenSslClient : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public OpenSslClient(int port, string trustedCertificatePem)
    {
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // -quiet: only the application data on stdout; -verify_return_error: a certificate that fails verification ends the handshake.
        foreach (string argument in (string[])["s_client", "-connect", $"127.0.0.1:{port}", "-quiet", "-CAfile", trustedCertificatePem, "-verify_return_error", "-verify_hostname", "localhost"])
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data is null ? null : $"[stderr] {e.Data}");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Whether openssl is on the PATH; the TLS peer tests skip without it, saying so.</summary>
    public static bool IsAvailable { get; } = FindOnPath("openssl");

    /// <summary>Sends <paramref name="line"/> and waits until the same line comes back.</summary>
    public void SendAndExpectEcho(string line, TimeSpan timeout)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
        var clock = Stopwatch.StartNew();
        lock (_output)
        {
            while (!_output.ToString().Split('\n').Contains(line))
            {
                TimeSpan left = timeout - clock.Elapsed;
                Assert.True(left > TimeSpan.Zero && !_process.HasExited, $"openssl s_client did not get '{line}' back within {timeout}; it wrote:\n{_output}");
                Monitor.Wait(_output, left);
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
        _process.Dispose();
    }

    private static bool FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, program)));

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Append(line).Append('\n');
                Monitor.PulseAll(_output);
            }
        }
    }
}

/// <summary>A fact that needs <c>openssl</c> as a TLS peer; skipped, with the reason, where it is not installed.</summary>
public sealed class OpenSslFactAttribute : FactAttribute
{
    public OpenSslFactAttribute()
    {
        if (!OpenSslClient.IsAvailable)
        {
            Skip = "openssl is not installed (.ci/run installs it with apt-get; here that failed or was not run), so no real TLS peer is available.";
        }
    }
}
