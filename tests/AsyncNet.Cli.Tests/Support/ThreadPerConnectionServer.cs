using System.Net;
using System.Net.Sockets;

namespace AsyncNet.Cli.Tests.Support;

/// <summary>
/// A test server on plain blocking sockets at 127.0.0.1: one thread accepts, one thread serves each connection. The
/// servers whose faults the tests plant derive from it, so they stay independent of the AsyncNet code under test.
/// </summary>
/// <remarks>Disposing closes the listener and every accepted socket, which ends the serving threads' blocking calls.</remarks>
internal abstract class ThreadPerConnectionServer : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _clients = [];
    private readonly string _name;
    private Thread? _acceptor;
    private int _connections;

    /// <param name="name">The threads' name prefix, for debugging.</param>
    protected ThreadPerConnectionServer(string name)
    {
        _name = name;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(128);
    }

    /// <summary>Where the server listens.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>The port the server listens on.</summary>
    public int Port => EndPoint.Port;

    /// <summary>How many connections were accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public void Dispose()
    {
        _listener.Dispose();
        _acceptor?.Join(TimeSpan.FromSeconds(5));
        lock (_clients)
        {
            _clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>Starts accepting; called by the derived constructor once its own fields are set.</summary>
    protected void Start()
    {
        _acceptor = new Thread(AcceptLoop) { IsBackground = true, Name = $"{_name}-acceptor" };
        _acceptor.Start();
    }

    /// <summary>Serves one connection on its own thread; the socket is disposed afterwards (and on <see cref="Dispose"/>).</summary>
    protected abstract void Serve(Socket client);

    private void AcceptLoop()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_clients)
            {
                _clients.Add(client);
            }

            Interlocked.Increment(ref _connections);
            new Thread(() => ServeAndClose(client)) { IsBackground = true, Name = $"{_name}-connection" }.Start();
        }
    }

    private void ServeAndClose(Socket client)
    {
        using (client)
        {
            Serve(client);
        }
    }
}
