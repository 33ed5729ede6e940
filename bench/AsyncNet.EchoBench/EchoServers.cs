using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.EchoBench;

/// <summary>An echo server the benchmark can start on a port and stop.</summary>
internal interface IEchoServer : IDisposable
{
    string Name { get; }

    int Port { get; }
}

/// <summary>The protocol-level echo: every byte received is written back (gathered and flushed once per read).</summary>
internal sealed class EchoProtocol : IProtocol
{
    private IStreamTransport _transport = null!;

    public void ConnectionMade(ITransport transport) => _transport = (IStreamTransport)transport;

    public void DataReceived(ReadOnlySpan<byte> data) => _transport.Write(data);

    public bool EofReceived() => false;

    public void ConnectionLost(Exception? exception)
    {
    }
}

/// <summary>AsyncNet's echo server on its own loop thread.</summary>
internal sealed class AsyncNetEchoServer : IEchoServer
{
    private readonly EventLoop _loop = new();
    private readonly Thread _thread;
    private Server? _server;

    public AsyncNetEchoServer(string host, int port)
    {
        using var ready = new ManualResetEventSlim();
        Exception? failure = null;
        _thread = new Thread(() =>
        {
            try
            {
                _server = _loop.RunUntilComplete(() => _loop.CreateServerAsync(() => new EchoProtocol(), host, port, new ServerOptions { Backlog = 1024 }));
                Port = ((IPEndPoint)_server.Sockets[0].LocalEndPoint!).Port;
            }
            catch (Exception ex)
            {
                failure = ex;
                return;
            }
            finally
            {
                ready.Set();
            }

            _loop.RunForever();
        })
        { Name = "AsyncNet echo loop", IsBackground = true };
        _thread.Start();
        ready.Wait();
        if (failure is not null)
        {
            throw new InvalidOperationException("The AsyncNet echo server did not start.", failure);
        }
    }

    public string Name => "AsyncNet protocol";

    public int Port { get; private set; }

    /// <summary>Blocks until the server stops (for the standalone mode).</summary>
    public void Join() => _thread.Join();

    public void Dispose()
    {
        _loop.CallSoonThreadSafe(() =>
        {
            _server?.Close();
            _server?.AbortClients();
            _loop.CallLater(TimeSpan.FromMilliseconds(50), _loop.Stop);
        });
        _thread.Join();
        _loop.Close();
    }
}

/// <summary>The idiomatic .NET baseline: one async receive/send loop per connection on the thread pool.</summary>
internal sealed class SocketAsyncEchoServer : IEchoServer
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _connections = [];

    public SocketAsyncEchoServer(string host, int port)
    {
        IPAddress address = IPAddress.Parse(host);
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(address, port));
        _listener.Listen(1024);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = AcceptLoopAsync();
    }

    public string Name => ".NET Socket async";

    public int Port { get; }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        lock (_connections)
        {
            _connections.ForEach(c => c.Dispose());
        }
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                Socket connection = await _listener.AcceptAsync(_stop.Token);
                connection.NoDelay = true;
                lock (_connections)
                {
                    _connections.Add(connection);
                }

                _ = EchoAsync(connection);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    private async Task EchoAsync(Socket connection)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await connection.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    break;
                }

                await connection.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or the server stopped.
        }
        finally
        {
            connection.Dispose();
        }
    }
}
