using System.Net;
using System.Text;
using AsyncNet.Samples.Tls;
using AsyncNet.Streams;
using AsyncNet.Tests.Shared;

namespace AsyncNet.Cli.Tests.Tls;

/// <summary>The TLS echo sample: its server against openssl s_client, its client against its server.</summary>
public sealed class TlsEchoSampleTests : IDisposable
{
    private readonly TestCertificate _certificate = new();
    private readonly BoundedTestLoop _test = new();

    public void Dispose()
    {
        _test.Dispose();
        _certificate.Dispose();
    }

    [OpenSslFact]
    public void Server_EchoesToOpenSslSClient()
    {
        _test.Run(async () =>
        {
            await using StreamServer server = await TlsEcho.StartServerAsync(_test.Loop, "127.0.0.1", 0, _certificate.Certificate);
            int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;

            // s_client blocks on its own process; the loop keeps serving while a thread-pool thread waits for it.
            await Task.Run(() =>
            {
                using var client = new OpenSslClient(port, _certificate.CertificatePem);
                client.SendAndExpectEcho("sample over TLS", TimeSpan.FromSeconds(30));
            });
        });
    }

    [Fact]
    public void Client_AgainstTheServer_GetsEveryByteBack_AfterCheckingTheCertificate()
    {
        byte[] message = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("TLS over AsyncNet streams. ", 5_000)));
        string? presented = null;
        byte[]? echoed = null;
        _test.Run(async () =>
        {
            await using StreamServer server = await TlsEcho.StartServerAsync(_test.Loop, "127.0.0.1", 0, _certificate.Certificate);
            int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;
            echoed = await TlsEcho.EchoAsync(_test.Loop, "127.0.0.1", port, (_, certificate, _, _) =>
            {
                presented = certificate?.GetCertHashString();
                return presented == _certificate.Certificate.GetCertHashString();
            }, message);
        });

        Assert.Equal(message, echoed);
        Assert.Equal(_certificate.Certificate.GetCertHashString(), presented);
    }
}
