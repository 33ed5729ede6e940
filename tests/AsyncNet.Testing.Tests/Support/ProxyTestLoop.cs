using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using AsyncNet.Streams;
using AsyncNet.Testing.Faults;
using AsyncNet.Transports;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Testing.Tests.Support;

/// <summary>The shared bounded test loop, plus upstream servers, proxies and clients on it, over TCP (v4, v6) or Unix sockets.</summary>
internal sealed class ProxyTestLoop : AsyncNet.Tests.Shared.BoundedTestLoop
{
    /// <summary>The families the proxy is tested over: where it listens and where its upstream listens.</summary>
    public static TheoryData<string> Families => ["tcp4", "tcp6", "unix"];

    /// <summary>Starts an upstream stream server on the family's loopback (or a fresh Unix socket path); returns it and its address.</summary>
    public async Task<(StreamServer Server, EndPoint EndPoint)> StartUpstreamAsync(
        Func<StreamReader, StreamWriter, Task> handler, string family = "tcp4", ServerOptions? serverOptions = null)
    {
        StreamServer server = family switch
        {
            "tcp4" => await Loop.StartServerAsync(handler, "127.0.0.1", 0, serverOptions: serverOptions),
            "tcp6" => await Loop.StartServerAsync(handler, "::1", 0, serverOptions: serverOptions),
            "unix" => await Loop.StartUnixServerAsync(handler, TempSocketPath(), serverOptions: serverOptions),
            _ => throw new ArgumentException(family),
        };
        return (server, server.Sockets[0].LocalEndPoint!);
    }

    /// <summary>Starts a proxy on this loop, listening on the family's loopback (or a fresh Unix socket path).</summary>
    public Task<FaultProxy> StartProxyAsync(EndPoint upstream, FaultProxyOptions? options = null, string family = "tcp4")
    {
        options ??= FaultProxyOptions.Default;
        options = family switch
        {
            "tcp4" => options,
            "tcp6" => options with { ListenEndPoint = new IPEndPoint(IPAddress.IPv6Loopback, 0) },
            "unix" => options with { ListenEndPoint = new UnixDomainSocketEndPoint(TempSocketPath()) },
            _ => throw new ArgumentException(family),
        };
        return FaultProxy.StartAsync(Loop, upstream, options);
    }

    /// <summary>Opens a stream connection to the proxy.</summary>
    public Task<(StreamReader Reader, StreamWriter Writer)> OpenAsync(FaultProxy proxy, ConnectionOptions? connectionOptions = null) =>
        proxy.ListenEndPoint switch
        {
            IPEndPoint ip => Loop.OpenConnectionAsync(ip.Address.ToString(), ip.Port, connectionOptions: connectionOptions),
            var unix => Loop.OpenUnixConnectionAsync(unix.ToString()!, connectionOptions: connectionOptions),
        };

    /// <summary>A handler that echoes everything until EOF, then sends its EOF.</summary>
    public static async Task EchoAsync(StreamReader reader, StreamWriter writer)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            writer.Write(buffer.AsSpan(0, read));
            await writer.DrainAsync();
        }

        writer.WriteEof();
        await writer.DrainAsync();
    }

    /// <summary>Reads until EOF.</summary>
    public static async Task<byte[]> ReadToEndAsync(StreamReader reader)
    {
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }

    /// <summary>Waits, a loop iteration or a few milliseconds at a time, until <paramref name="condition"/> holds; fails after <paramref name="seconds"/>.</summary>
    /// <remarks>For states that raise no signal of their own (a counter, a connection forgotten by the proxy).</remarks>
    public async Task WaitUntilAsync(Func<bool> condition, string what, double seconds = 10)
    {
        TimeSpan deadline = Loop.Time + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            Assert.True(Loop.Time < deadline, $"Timed out after {seconds} s waiting until {what}.");
            await Loop.SleepAsync(TimeSpan.FromMilliseconds(2));
        }
    }

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] RandomBytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    private static string TempSocketPath() => Path.Combine(Path.GetTempPath(), $"asyncnet-proxy-{Guid.NewGuid():N}.sock");
}
