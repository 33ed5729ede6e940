using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AsyncNet.Cli.Tests.Tls;

/// <summary>A self-signed certificate for localhost and 127.0.0.1, made at test time (no key is ever committed), valid for an hour.</summary>
internal sealed class TestCertificate : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("asyncnet-tls-").FullName;

    public TestCertificate()
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));

        // On Linux SslStream cannot serve an ephemeral key; a PKCS#12 round trip makes it a persisted one.
        Certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        CertificatePem = Path.Combine(_directory, "cert.pem");
        KeyPem = Path.Combine(_directory, "key.pem");
        CombinedPem = Path.Combine(_directory, "cert-and-key.pem");
        File.WriteAllText(CertificatePem, ephemeral.ExportCertificatePem());
        File.WriteAllText(KeyPem, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(CombinedPem, ephemeral.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>The certificate with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>A PEM file with the certificate only (also what a client trusts).</summary>
    public string CertificatePem { get; }

    /// <summary>A PEM file with the private key only.</summary>
    public string KeyPem { get; }

    /// <summary>A PEM file with the certificate, then the private key.</summary>
    public string CombinedPem { get; }

    public void Dispose()
    {
        Certificate.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
