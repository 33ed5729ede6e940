using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests.Support;

/// <summary>The endpoints the socket tests run over: TCP on 127.0.0.1 or ::1, or a Unix socket in a temporary directory.</summary>
public abstract class StreamFamily
{
    public static readonly StreamFamily Tcp4 = new TcpFamily(IPAddress.Loopback);
    public static readonly StreamFamily Tcp6 = new TcpFamily(IPAddress.IPv6Loopback);
    public static readonly StreamFamily Unix = new UnixFamily();

    public static TheoryData<string> Names => ["tcp4", "tcp6", "unix"];

    public static StreamFamily Get(string name) => name switch
    {
        "tcp4" => Tcp4,
        "tcp6" => Tcp6,
        "unix" => Unix,
        _ => throw new ArgumentException(name),
    };

    internal abstract Task<StreamServer> StartServerAsync(EventLoop loop, Func<StreamReader, StreamWriter, Task> handler, StreamOptions? options = null, ServerOptions? serverOptions = null);

    internal abstract Task<(StreamReader Reader, StreamWriter Writer)> OpenAsync(EventLoop loop, StreamServer server, StreamOptions? options = null, ConnectionOptions? connectionOptions = null);

    private sealed class TcpFamily(IPAddress address) : StreamFamily
    {
        // The port of each server, remembered so a test can still connect (and be refused) after the server closed.
        private readonly Dictionary<StreamServer, int> _ports = [];

        internal override Task<StreamServer> StartServerAsync(EventLoop loop, Func<StreamReader, StreamWriter, Task> handler, StreamOptions? options, ServerOptions? serverOptions)
        {
            return Start();

            async Task<StreamServer> Start()
            {
                StreamServer server = await loop.StartServerAsync(handler, address.ToString(), 0, options, serverOptions);
                lock (_ports)
                {
                    _ports[server] = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;
                }

                return server;
            }
        }

        internal override Task<(StreamReader Reader, StreamWriter Writer)> OpenAsync(EventLoop loop, StreamServer server, StreamOptions? options, ConnectionOptions? connectionOptions)
        {
            int port;
            lock (_ports)
            {
                port = _ports[server];
            }

            return loop.OpenConnectionAsync(address.ToString(), port, options, connectionOptions);
        }

        public override string ToString() => address.AddressFamily == AddressFamily.InterNetwork ? "tcp4" : "tcp6";
    }

    private sealed class UnixFamily : StreamFamily
    {
        private readonly Dictionary<StreamServer, string> _paths = [];

        internal override Task<StreamServer> StartServerAsync(EventLoop loop, Func<StreamReader, StreamWriter, Task> handler, StreamOptions? options, ServerOptions? serverOptions)
        {
            string path = Path.Combine(Path.GetTempPath(), $"asyncnet-streams-{Guid.NewGuid():N}.sock");
            return Start();

            async Task<StreamServer> Start()
            {
                StreamServer server = await loop.StartUnixServerAsync(handler, path, options, serverOptions);
                lock (_paths)
                {
                    _paths[server] = path;
                }

                return server;
            }
        }

        internal override Task<(StreamReader Reader, StreamWriter Writer)> OpenAsync(EventLoop loop, StreamServer server, StreamOptions? options, ConnectionOptions? connectionOptions)
        {
            string path;
            lock (_paths)
            {
                path = _paths[server];
            }

            return loop.OpenUnixConnectionAsync(path, options, connectionOptions);
        }

        public override string ToString() => "unix";
    }
}
