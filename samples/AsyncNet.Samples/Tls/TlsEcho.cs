// TlsEcho: an echo server and client over TLS on AsyncNet's streams.
//
// SslStream needs a System.IO.Stream; (reader, writer).AsStream() makes one of a connection's reader and writer (its
// reads are the reader's, its writes are the writer's write-then-drain), so TLS runs on the event loop unchanged:
//
//   socket ⇄ transport ⇄ StreamReader/StreamWriter ⇄ AsStream() ⇄ SslStream ⇄ your code
//
// The handshake and every record are plain awaits on the loop thread; nothing here blocks it.

using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Streams.Adapters;

namespace AsyncNet.Samples.Tls;

/// <summary>A TLS echo server and a TLS echo client on one event loop, through <see cref="StreamAdapterExtensions.AsStream"/> and <see cref="SslStream"/>.</summary>
public static class TlsEcho
{
    /// <summary>Starts a server that authenticates with <paramref name="certificate"/> and echoes every decrypted byte.</summary>
    /// <param name="loop">The loop the server runs on; call on its thread.</param>
    /// <param name="host">The address to listen on.</param>
    /// <param name="port">The port; 0 lets the OS choose (read it from <see cref="StreamServer.Sockets"/>).</param>
    /// <param name="certificate">The server's certificate, with its private key.</param>
    /// <returns>The listening server; a client that fails the handshake ends its own connection (the loop's exception handler is told).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="certificate"/> is null.</exception>
    public static Task<StreamServer> StartServerAsync(EventLoop loop, string host, int port, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(certificate);
        return loop.StartServerAsync(
            async (reader, writer) =>
            {
                await using var tls = new SslStream((reader, writer).AsStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });

                // An echo: every chunk read is written back, until the client closes.
                await tls.CopyToAsync(tls);
            },
            host,
            port);
    }

    /// <summary>Connects over TLS, sends <paramref name="message"/> and returns what comes back, as many bytes as were sent.</summary>
    /// <param name="loop">The loop to connect on; call on its thread.</param>
    /// <param name="host">The server's host; also the name its certificate must carry.</param>
    /// <param name="port">The server's port.</param>
    /// <param name="validate">Accepts or refuses the server's certificate (a test certificate is not signed by a known authority).</param>
    /// <param name="message">The bytes to send.</param>
    /// <returns>The echoed bytes.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static async Task<byte[]> EchoAsync(EventLoop loop, string host, int port, RemoteCertificateValidationCallback validate, byte[] message)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(message);
        var connection = await loop.OpenConnectionAsync(host, port);
        await using var tls = new SslStream(connection.AsStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host, RemoteCertificateValidationCallback = validate });
        await tls.WriteAsync(message);
        byte[] echoed = new byte[message.Length];
        await tls.ReadExactlyAsync(echoed);
        return echoed;
    }
}
