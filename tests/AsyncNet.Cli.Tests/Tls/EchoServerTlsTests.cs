using System.Globalization;
using System.Text.RegularExpressions;
using AsyncNet.Cli.Tests.Commands;

namespace AsyncNet.Cli.Tests.Tls;

/// <summary><c>asyncnet echo-server --tls</c> against openssl s_client and <c>bench --tls</c>; the TLS usage errors.</summary>
public sealed partial class EchoServerTlsTests : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);
    private readonly TestCertificate _certificate = new();

    public void Dispose() => _certificate.Dispose();

    [OpenSslFact]
    public async Task EchoServerTls_EchoesToOpenSslSClient_WhichVerifiesTheCertificate()
    {
        await RunServerAsync(["--tls", _certificate.CertificatePem, "--tls-key", _certificate.KeyPem], port =>
        {
            using var client = new OpenSslClient(port, _certificate.CertificatePem);
            client.SendAndExpectEcho("hello over TLS", s_bound);
            client.SendAndExpectEcho("and again", s_bound);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task BenchTls_AgainstEchoServerTls_VerifiesEveryByte()
    {
        await RunServerAsync(["--tls", _certificate.CombinedPem], async port =>
        {
            (int code, string stdout, string stderr) = await BenchCommandTests.RunAsync(
                ["bench", "--tls", "--port", port.ToString(CultureInfo.InvariantCulture), "--connections", "3", "--depth", "4", "--size", "300", "--seconds", "0.5", "--warmup", "0"]);

            Assert.True(code == 0, $"bench exited {code}: {stderr}");
            Assert.Contains($"bench: 127.0.0.1:{port} over TLS, 3 connections", stdout);
            Assert.Contains("every echoed byte matched", stdout);
        });
    }

    [Fact]
    public async Task BenchTls_AgainstAPlainServer_ExitsWithConnectionFailed_NamingTheHandshake()
    {
        await RunServerAsync([], async port =>
        {
            (int code, _, string stderr) = await BenchCommandTests.RunAsync(["bench", "--tls", "--port", port.ToString(CultureInfo.InvariantCulture), "--seconds", "1"]);

            Assert.Equal(ExitCodes.ConnectionFailed, code);
            Assert.Contains("bench: TLS handshake failed: ", stderr);
        });
    }

    [Theory]
    [InlineData("cert-only", "--tls: cannot load a certificate and its private key from")]
    [InlineData("missing", "--tls: cannot load a certificate and its private key from")]
    [InlineData("kind-raw", "--tls serves the stream echo only (got --kind raw)")]
    [InlineData("key-without-tls", "--tls-key needs --tls")]
    public async Task EchoServerTls_BadArguments_ExitWith2(string problem, string message)
    {
        string[] args = problem switch
        {
            "cert-only" => ["--tls", _certificate.CertificatePem],
            "missing" => ["--tls", Path.Combine(Path.GetTempPath(), "no-such-asyncnet-cert.pem")],
            "kind-raw" => ["--tls", _certificate.CombinedPem, "--kind", "raw"],
            _ => ["--tls-key", _certificate.KeyPem],
        };

        (int code, string stdout, string stderr) = await BenchCommandTests.RunAsync(["echo-server", .. args]);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith($"asyncnet: echo-server: {message}", stderr);
        Assert.Empty(stdout);
    }

    /// <summary>Runs <c>echo-server --port 0</c> with <paramref name="args"/>, hands its port to <paramref name="body"/>, then stops it gracefully.</summary>
    private static async Task RunServerAsync(string[] args, Func<int, Task> body)
    {
        var stdout = new LineCapture();
        var stderr = new LineCapture();
        using var stop = new CancellationTokenSource();
        Task<int> server = Task.Run(() => Program.Run(["echo-server", "--port", "0", .. args], stdout, stderr, stop.Token));
        string listening = stdout.WaitForLine("listening on", s_bound);
        try
        {
            await body(int.Parse(Listening().Match(listening).Groups[1].Value, CultureInfo.InvariantCulture));
        }
        finally
        {
            await stop.CancelAsync();
        }

        Assert.Equal(ExitCodes.Ok, await server.WaitAsync(s_bound));
        Assert.Contains("echo-server: stopped", stdout.ToString());
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex Listening();
}
