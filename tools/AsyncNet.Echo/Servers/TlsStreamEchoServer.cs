using System.Net.Security;
using System.Security.Authentication;
using AsyncNet.Streams.Adapters;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Echo.Servers;

/// <summary>
/// The stream echo over TLS: an <see cref="SslStream"/> on the connection's <c>(reader, writer).AsStream()</c>
/// authenticates as the server with <see cref="EchoServerOptions.Tls"/>, then every decrypted byte is written back.
/// </summary>
/// <remarks>
/// The handshake and the records run on the loop thread: the adapter's reads and writes are the connection's reads and
/// write-plus-drain. A client that fails the handshake (a plain-text client, a client that rejects the certificate) or
/// breaks a record ends its own connection quietly; the server keeps serving the others.
/// </remarks>
internal sealed class TlsStreamEchoServer(EchoServerOptions options) : StreamServerEchoBase(options)
{
    public override EchoServerKind Kind => EchoServerKind.Stream;

    public override string Name => $"{Kind.DisplayName()} (TLS)";

    protected override async Task EchoAsync(StreamReader reader, StreamWriter writer)
    {
        await using var tls = new SslStream((reader, writer).AsStream());
        byte[] buffer = new byte[Options.BufferSize];
        try
        {
            await tls.AuthenticateAsServerAsync(Options.Tls!);
            int n;
            while ((n = await tls.ReadAsync(buffer)) > 0)
            {
                await tls.WriteAsync(buffer.AsMemory(0, n));
            }
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            // Not a TLS peer, or it broke the session: nothing to echo to any more.
        }
    }
}
