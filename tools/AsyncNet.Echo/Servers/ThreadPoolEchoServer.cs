using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Transports;

namespace AsyncNet.Echo.Servers;

/// <summary>
/// A .NET baseline echo server as an application without AsyncNet writes one: an accept loop on the thread pool,
/// and one async echo loop per connection.
/// </summary>
/// <remarks>
/// Closing cancels the accept loop and every connection's loop (their pending receive and send), waits up to the grace
/// period for them to end, then disposes whatever sockets are left.
/// </remarks>
internal abstract class ThreadPoolEchoServer(EchoServerOptions options) : IEchoServer
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<Socket, Task> _connections = [];
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    public abstract EchoServerKind Kind { get; }

    public string Name => Kind.DisplayName();

    public IPEndPoint EndPoint => (IPEndPoint)_listener!.LocalEndPoint!;

    public int Loops => 0;

    public AcceptDistribution? Distribution => null;

    protected EchoServerOptions Options => options;

    public static async Task<IEchoServer> StartAsync(ThreadPoolEchoServer server, string host, int port)
    {
        IPAddress address = await ResolveAsync(host).ConfigureAwait(false);
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(server.Options.Backlog);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw SocketErrors.Classify(ex, "bind", $"{host}:{port}");
        }

        server._listener = listener;
        server._acceptLoop = Task.Run(server.AcceptLoopAsync);
        return server;
    }

    public long[] GetAcceptedCounts() => [];

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] running;
        lock (_connections)
        {
            running = [.. _connections.Values];
        }

        await Task.WhenAny(Task.WhenAll(running), Task.Delay(options.ShutdownGrace)).ConfigureAwait(false);
        lock (_connections)
        {
            foreach (Socket connection in _connections.Keys)
            {
                connection.Dispose();
            }
        }

        _stop.Dispose();
    }

    public override string ToString() => $"{Name} echo server on {EndPoint}";

    /// <summary>Echoes one connection until the client's EOF; <paramref name="stop"/> fires when the server closes.</summary>
    /// <remarks>The caller disposes the socket afterwards and treats socket errors and cancellation as the connection's end.</remarks>
    protected abstract Task EchoAsync(Socket connection, CancellationToken stop);

    private static async Task<IPAddress> ResolveAsync(string host)
    {
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return address;
        }

        try
        {
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(host).ConfigureAwait(false);
            return addresses.Length > 0 ? addresses[0] : throw SocketErrors.Classify(SocketError.HostNotFound, "resolve", host);
        }
        catch (SocketException ex)
        {
            throw SocketErrors.Classify(ex, "resolve", host);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // A connection that failed before it was accepted (ECONNABORTED): accept the next.
                continue;
            }

            connection.NoDelay = true;
            lock (_connections)
            {
                _connections[connection] = ServeAsync(connection);
            }
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        // Off the accept loop at once: the connection's first receive must not hold up the next accept.
        await Task.Yield();
        try
        {
            await EchoAsync(connection, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or the server is closing.
        }
        finally
        {
            connection.Dispose();
            lock (_connections)
            {
                _connections.Remove(connection);
            }
        }
    }
}
