using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AsyncNet.Streams.Adapters;

namespace AsyncNet.Streams.Tests.Adapters;

/// <summary><see cref="StreamAdapter"/>: plain reads and writes on a scripted transport, blocking calls, and TLS over loopback.</summary>
public sealed class StreamAdapterTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void ReadAsync_ReturnsBufferedBytes_ThenZeroAtEof()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            await using var stream = new StreamAdapter(s.Reader, s.Writer);
            Assert.True(stream.CanRead);
            Assert.True(stream.CanWrite);
            Assert.False(stream.CanSeek);
            s.Feed("hello", " world");
            s.Transport.DeliverEof();

            var buffer = new byte[64];
            var received = new List<byte>();
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, n));
            }

            Assert.Equal("hello world", Bytes.Text([.. received]));
            Assert.Equal(0, await stream.ReadAsync(buffer));
        });
    }

    [Fact]
    public void ReadAsync_WaitsForData_AndReadsAcrossSegments()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            await using var stream = new StreamAdapter(s.Reader, s.Writer);
            var buffer = new byte[3];
            ValueTask<int> pending = stream.ReadAsync(buffer);
            Assert.False(pending.IsCompleted);
            s.Feed("abcde");
            Assert.Equal(3, await pending);
            Assert.Equal("abc", Bytes.Text(buffer));
            Assert.Equal(2, await stream.ReadAsync(buffer, 0, 3));
            Assert.Equal("de", Bytes.Text(buffer[..2]));
        });
    }

    [Fact]
    public void WriteAsync_HandsBytesToTheTransport_AndFlushCompletes()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            await using var stream = new StreamAdapter(s.Reader, s.Writer);
            await stream.WriteAsync(Bytes.Ascii("abc"));
            await stream.WriteAsync(Bytes.Ascii("xdefx"), 1, 3);
            await stream.FlushAsync();
            stream.Flush();
            Assert.Equal("abcdef", Bytes.Text(s.Transport.Sent));
        });
    }

    [Fact]
    public void WriteAsync_CancelledBeforeTheCall_WritesNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            await using var stream = new StreamAdapter(s.Reader, s.Writer);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(
                async () => await stream.WriteAsync(Bytes.Ascii("abc"), new CancellationToken(canceled: true)));
            Assert.Empty(s.Transport.Sent);
        });
    }

    [Fact]
    public void SyncReadAndWrite_OnTheLoopThread_ThrowInvalidOperation()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            await using var stream = new StreamAdapter(s.Reader, s.Writer);
            s.Feed("data");
            var buffer = new byte[4];
            InvalidOperationException read = Assert.Throws<InvalidOperationException>(() => stream.Read(buffer, 0, 4));
            Assert.Contains("deadlock", read.Message, StringComparison.Ordinal);
            Assert.Throws<InvalidOperationException>(() => stream.Read(buffer.AsSpan()));
            Assert.Throws<InvalidOperationException>(() => stream.ReadByte());
            Assert.Throws<InvalidOperationException>(() => stream.Write(buffer, 0, 4));
            Assert.Throws<InvalidOperationException>(() => stream.Write(buffer.AsSpan()));
            Assert.Empty(s.Transport.Sent);

            // Nothing was consumed by the refused read.
            Assert.Equal(4, await stream.ReadAsync(buffer));
            Assert.Equal("data", Bytes.Text(buffer));
        });
    }

    [Fact]
    public void SeekAndLength_AreNotSupported()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            await using var stream = new StreamAdapter(s.Reader, s.Writer);
            Assert.Throws<NotSupportedException>(() => stream.Length);
            Assert.Throws<NotSupportedException>(() => stream.Position);
            Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
            Assert.Throws<NotSupportedException>(() => stream.SetLength(1));
        });
    }

    [Fact]
    public void Dispose_ClosesTheWriter_UnlessLeftOpen()
    {
        _test.Run(async () =>
        {
            Scripted kept = _test.CreateScripted();
            await using (var stream = (kept.Reader, kept.Writer).AsStream(leaveOpen: true))
            {
                await stream.WriteAsync(Bytes.Ascii("x"));
            }

            Assert.False(kept.Writer.IsClosing);

            Scripted closed = _test.CreateScripted();
            var adapter = (closed.Reader, closed.Writer).AsStream();
            adapter.Dispose();
            Assert.True(closed.Writer.IsClosing);
            Assert.False(adapter.CanRead);
            Assert.False(adapter.CanWrite);
            await Assert.ThrowsAsync<ObjectDisposedException>(() => adapter.ReadAsync(new byte[1]).AsTask());
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await adapter.WriteAsync(new byte[1]));
        });
    }

    [Fact]
    public void SyncReadAndWrite_OffTheLoopThread_BlockUntilDone()
    {
        byte[] payload = Bytes.Random(200_000, seed: 7);
        _test.Run(async () =>
        {
            await using StreamServer server = await _test.Loop.StartServerAsync(
                async (reader, writer) =>
                {
                    byte[] all = await reader.ReadToEndAsync();
                    writer.Write(all);
                    await writer.DrainAsync();
                },
                "127.0.0.1",
                0);

            var connection = await _test.Loop.OpenConnectionAsync("127.0.0.1", Port(server));
            await using var stream = (StreamAdapter)connection.AsStream();

            // Blocking calls on a pool thread while the loop runs here.
            byte[] echoed = await Task.Run(() =>
            {
                stream.Write(payload, 0, payload.Length);
                stream.Flush();
                stream.Writer.WriteEof();
                using var received = new MemoryStream();
                var buffer = new byte[8192];
                int n;
                while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
                {
                    received.Write(buffer, 0, n);
                }

                return received.ToArray();
            });

            Assert.Equal(payload, echoed);
        }, seconds: 30);
    }

    [Theory]
    [InlineData(5 * 1024, false)]
    [InlineData(1024 * 1024, false)]
    [InlineData(1024 * 1024, true)]
    public void Tls_OverLoopback_EchoesEveryByte(int length, bool clientOffTheLoop)
    {
        byte[] payload = Bytes.Random(length, seed: length);
        using X509Certificate2 certificate = CreateSelfSignedCertificate();
        _test.Run(async () =>
        {
            var serverDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await _test.Loop.StartServerAsync(
                async (reader, writer) =>
                {
                    try
                    {
                        await using var tls = new SslStream(new StreamAdapter(reader, writer));
                        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
                        var buffer = new byte[16 * 1024];
                        int n;
                        while ((n = await tls.ReadAsync(buffer)) > 0)
                        {
                            await tls.WriteAsync(buffer.AsMemory(0, n));
                        }

                        await tls.ShutdownAsync();
                        serverDone.SetResult();
                    }
                    catch (Exception e)
                    {
                        serverDone.SetException(e);
                    }
                },
                "127.0.0.1",
                0);

            var connection = await _test.Loop.OpenConnectionAsync("127.0.0.1", Port(server));

            // The client's TLS work runs on the loop thread, or on the thread pool while the loop runs here.
            await (clientOffTheLoop
                ? Task.Run(() => RunTlsClientAsync(connection, certificate, payload))
                : RunTlsClientAsync(connection, certificate, payload));
            await serverDone.Task;
            Assert.Empty(_test.HandlerReports);
        }, seconds: 60);
    }

    private static async Task RunTlsClientAsync((StreamReader Reader, StreamWriter Writer) connection, X509Certificate2 certificate, byte[] payload)
    {
        await using var client = new SslStream(connection.AsStream());
        await client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, presented, _, _) =>
                presented is not null && presented.GetCertHashString() == certificate.Thumbprint,
        });
        Assert.True(client.IsAuthenticated);
        Assert.True(client.IsEncrypted);
        Assert.NotEqual(SslProtocols.None, client.SslProtocol);

        // Write and read at once: the echo's flow control would stall a writer that nobody reads from.
        Task writing = WriteAllAsync(client, payload);
        byte[] echoed = new byte[payload.Length];
        int received = 0;
        while (received < echoed.Length)
        {
            int n = await client.ReadAsync(echoed.AsMemory(received));
            Assert.True(n > 0, $"The stream ended after {received} of {echoed.Length} bytes.");
            received += n;
        }

        await writing;
        Assert.Equal(payload, echoed);

        // Shut down only once no read is in flight: OpenSSL's shutdown beside a pending read on the same session
        // fails now and then. The server echoes until it sees our close_notify, then sends its own: we read 0.
        await client.ShutdownAsync();
        Assert.Equal(0, await client.ReadAsync(new byte[1]));
    }

    private static async Task WriteAllAsync(SslStream stream, byte[] payload)
    {
        for (int offset = 0; offset < payload.Length; offset += 10_000)
        {
            await stream.WriteAsync(payload.AsMemory(offset, Math.Min(10_000, payload.Length - offset)));
        }
    }

    private static int Port(StreamServer server) => ((System.Net.IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;

    private static X509Certificate2 CreateSelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));

        // On Linux an ephemeral key cannot be used by SslStream; a PFX round trip makes it a persisted one.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
    }
}
