using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AsyncNet.Cli.Tests.Http;

/// <summary>
/// A hand-written HTTP responder on 127.0.0.1 for the client's tests: each accepted connection runs a script that reads
/// request heads and writes exactly the bytes it wants, as whole writes or a few bytes per TCP segment.
/// </summary>
/// <remarks>
/// It runs on the thread pool, independent of any event loop, so the client's loop (or <c>GetCommand</c>'s own) can
/// block its thread. Every socket operation is bounded by the server's lifetime and a 30-second safety timeout.
/// </remarks>
internal sealed class RawHttpServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(30));
    private readonly ConcurrentBag<Socket> _accepted = [];
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly Task _acceptLoop;
    private int _connections;

    public RawHttpServer(Func<RawConnection, Task> script)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = Task.Run(() => AcceptLoopAsync(script));
    }

    public int Port { get; }

    /// <summary>How many connections were accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Every request head received, in order of arrival (request line and headers, CRLF-separated).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>What the scripts threw (a script that fails is a broken test).</summary>
    public ConcurrentQueue<Exception> Failures { get; } = new();

    public string Url(string path = "/") => $"http://127.0.0.1:{Port}{path}";

    /// <summary>A server whose every connection answers each request with <paramref name="response"/>, keeping the connection open.</summary>
    public static RawHttpServer Answering(string response) => new(async c =>
    {
        while (await c.ReadRequestAsync() is not null)
        {
            await c.SendAsync(response);
        }
    });

    /// <summary>An unused local port: bound, then released (nothing listens there afterwards).</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        foreach (Socket socket in _accepted)
        {
            socket.Dispose();
        }

        try
        {
            await Task.WhenAll(_handlers.Append(_acceptLoop)).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Scripts end with errors when their sockets are disposed under them; what matters was recorded in Failures.
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(Func<RawConnection, Task> script)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            socket.NoDelay = true;
            _accepted.Add(socket);
            int index = Interlocked.Increment(ref _connections);
            _handlers.Add(Task.Run(async () =>
            {
                var connection = new RawConnection(socket, index, this, _stop.Token);
                try
                {
                    await script(connection);
                }
                catch (Exception ex) when (!_stop.IsCancellationRequested)
                {
                    Failures.Enqueue(ex);
                }
                finally
                {
                    socket.Dispose();
                }
            }));
        }
    }

    /// <summary>One accepted connection, as a script sees it.</summary>
    internal sealed class RawConnection(Socket socket, int index, RawHttpServer server, CancellationToken stop)
    {
        private readonly List<byte> _pending = [];

        public Socket Socket => socket;

        /// <summary>1 for the first connection the server accepted, 2 for the next, …</summary>
        public int Index => index;

        /// <summary>Reads one request head (up to the empty line); <see langword="null"/> if the client closed first.</summary>
        public async Task<string?> ReadRequestAsync()
        {
            byte[] buffer = new byte[4096];
            while (true)
            {
                int end = IndexOfHeadEnd();
                if (end >= 0)
                {
                    string head = Encoding.Latin1.GetString(_pending.GetRange(0, end).ToArray());
                    _pending.RemoveRange(0, end + 4);
                    server.Requests.Enqueue(head);
                    return head;
                }

                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer, SocketFlags.None, stop);
                }
                catch (SocketException)
                {
                    return null;
                }

                if (read == 0)
                {
                    return null;
                }

                _pending.AddRange(buffer.AsSpan(0, read));
            }
        }

        public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

        public async Task SendAsync(byte[] data)
        {
            for (int sent = 0; sent < data.Length;)
            {
                sent += await socket.SendAsync(data.AsMemory(sent), SocketFlags.None, stop);
            }
        }

        /// <summary>Sends <paramref name="data"/> <paramref name="segment"/> bytes at a time, pausing between sends so each arrives on its own.</summary>
        public async Task SendSegmentedAsync(byte[] data, int segment, int delayMilliseconds = 2)
        {
            for (int offset = 0; offset < data.Length; offset += segment)
            {
                await SendAsync(data.AsSpan(offset, Math.Min(segment, data.Length - offset)).ToArray());
                await Task.Delay(delayMilliseconds, stop);
            }
        }

        public Task SendSegmentedAsync(string text, int segment, int delayMilliseconds = 2) =>
            SendSegmentedAsync(Encoding.Latin1.GetBytes(text), segment, delayMilliseconds);

        /// <summary>Closes after sending everything (FIN).</summary>
        public void Close()
        {
            socket.Shutdown(SocketShutdown.Both);
            socket.Close();
        }

        /// <summary>Resets the connection (RST): linger on with a zero timeout, then close.</summary>
        public void Reset()
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }

        private int IndexOfHeadEnd()
        {
            for (int i = 0; i + 3 < _pending.Count; i++)
            {
                if (_pending[i] == '\r' && _pending[i + 1] == '\n' && _pending[i + 2] == '\r' && _pending[i + 3] == '\n')
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
