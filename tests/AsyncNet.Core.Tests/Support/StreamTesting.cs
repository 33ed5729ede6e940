using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Support;

/// <summary>The shared bounded test loop, under the name the transport tests use.</summary>
internal sealed class StreamTestLoop : AsyncNet.Tests.Shared.BoundedTestLoop;

/// <summary>A stream protocol that records every callback, checks their order, and lets tests await milestones.</summary>
internal class RecordingProtocol : IProtocol
{
    private readonly MemoryStream _received = new();
    // Continuations run asynchronously, so a test resumes from the loop's queue, not inside a protocol callback.
    private readonly TaskCompletionSource _made = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _eof = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Exception?> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private (int Count, TaskCompletionSource Source)? _bytesWaiter;

    public delegate void DataHandler(RecordingProtocol protocol, ReadOnlySpan<byte> data);

    public IStreamTransport Transport { get; private set; } = null!;

    /// <summary>Callbacks in order: "made", "data", "eof", "pause", "resume", "lost".</summary>
    public List<string> Events { get; } = [];

    /// <summary>WriteBufferSize seen at each pause ("pause", size) and resume ("resume", size).</summary>
    public List<(string Event, int Buffered)> FlowEvents { get; } = [];

    public bool KeepOpenOnEof { get; set; }

    public DataHandler? OnData { get; set; }

    public Action<RecordingProtocol>? OnEof { get; set; }

    public Action<RecordingProtocol>? OnMade { get; set; }

    public bool IsWritingPaused { get; private set; }

    public byte[] Received => _received.ToArray();

    public int ReceivedCount => (int)_received.Length;

    public Task Made => _made.Task;

    public Task EofTask => _eof.Task;

    public Task<Exception?> Lost => _lost.Task;

    public int LostCount { get; private set; }

    public void ConnectionMade(ITransport transport)
    {
        Assert.Empty(Events);
        Events.Add("made");
        Transport = (IStreamTransport)transport;
        OnMade?.Invoke(this);
        _made.TrySetResult();
    }

    public void DataReceived(ReadOnlySpan<byte> data)
    {
        Assert.True(data.Length > 0, "DataReceived never gets an empty span");
        CheckOpen("data");
        Events.Add("data");
        _received.Write(data);
        OnData?.Invoke(this, data);
        if (_bytesWaiter is { } waiter && _received.Length >= waiter.Count)
        {
            _bytesWaiter = null;
            waiter.Source.TrySetResult();
        }
    }

    public bool EofReceived()
    {
        CheckOpen("eof");
        Events.Add("eof");
        OnEof?.Invoke(this);
        _eof.TrySetResult();
        return KeepOpenOnEof;
    }

    public void ConnectionLost(Exception? exception)
    {
        Assert.Equal("made", Events.FirstOrDefault());
        Assert.DoesNotContain("lost", Events);
        Events.Add("lost");
        LostCount++;
        _lost.TrySetResult(exception);
        _bytesWaiter?.Source.TrySetException(new InvalidOperationException($"Connection lost after {_received.Length} bytes", exception));
        _eof.TrySetException(new InvalidOperationException("Connection lost without EOF", exception));
    }

    public void PauseWriting()
    {
        Assert.False(IsWritingPaused, "PauseWriting twice without ResumeWriting");
        IsWritingPaused = true;
        Events.Add("pause");
        FlowEvents.Add(("pause", Transport.WriteBufferSize));
    }

    public void ResumeWriting()
    {
        Assert.True(IsWritingPaused, "ResumeWriting without PauseWriting");
        IsWritingPaused = false;
        Events.Add("resume");
        FlowEvents.Add(("resume", Transport.WriteBufferSize));
    }

    /// <summary>Completes once at least <paramref name="count"/> bytes have arrived.</summary>
    public Task WaitForBytesAsync(int count)
    {
        if (_received.Length >= count)
        {
            return Task.CompletedTask;
        }

        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _bytesWaiter = (count, source);
        return source.Task;
    }

    private void CheckOpen(string what)
    {
        Assert.True(Events.Count > 0 && Events[0] == "made", $"{what} before made");
        Assert.DoesNotContain("eof", Events);
        Assert.DoesNotContain("lost", Events);
    }
}

/// <summary>Echoes every byte back; closes when the peer sends EOF.</summary>
internal sealed class EchoProtocol : RecordingProtocol
{
    public EchoProtocol() => OnData = static (p, data) => p.Transport.Write(data);
}

/// <summary>A family of stream endpoints the conformance tests run over: TCP on 127.0.0.1 or ::1, or a Unix socket.</summary>
public abstract class StreamFamily
{
    public static readonly StreamFamily Tcp4 = new TcpFamily(IPAddress.Loopback);
    public static readonly StreamFamily Tcp6 = new TcpFamily(IPAddress.IPv6Loopback);
    public static readonly StreamFamily Unix = new UnixFamily();

    public abstract bool IsTcp { get; }

    internal abstract Task<Server> CreateServerAsync<T>(EventLoop loop, Func<T> factory, ServerOptions? options = null)
        where T : IBaseProtocol;

    internal abstract Task<(IStreamTransport Transport, T Protocol)> ConnectAsync<T>(EventLoop loop, Server server, Func<T> factory, ConnectionOptions? options = null)
        where T : IBaseProtocol;

    /// <summary>A connected blocking socket to <paramref name="server"/>, for a peer the test drives by hand (10 s timeouts).</summary>
    internal Socket ConnectRaw(Server server, int? receiveBufferSize = null)
    {
        EndPoint endPoint = server.Sockets[0].LocalEndPoint!;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, IsTcp ? ProtocolType.Tcp : ProtocolType.Unspecified)
        {
            ReceiveTimeout = 10_000,
            SendTimeout = 10_000,
        };
        if (receiveBufferSize is int size)
        {
            socket.ReceiveBufferSize = size;
        }

        socket.Connect(endPoint);
        return socket;
    }

    /// <summary>A blocking listener for a peer the test drives by hand, and the address our client connects to.</summary>
    internal abstract (Socket Listener, Func<EventLoop, Func<RecordingProtocol>, ConnectionOptions?, Task<(IStreamTransport, RecordingProtocol)>> Connect) Listen();

    /// <summary>An address at which nothing listens, and how to connect our client to it.</summary>
    internal abstract (string Address, Func<EventLoop, Task> Connect) Unreachable();

    private sealed class TcpFamily(IPAddress address) : StreamFamily
    {
        public override bool IsTcp => true;

        internal override Task<Server> CreateServerAsync<T>(EventLoop loop, Func<T> factory, ServerOptions? options = null) =>
            loop.CreateServerAsync(factory, address.ToString(), 0, options);

        internal override Task<(IStreamTransport Transport, T Protocol)> ConnectAsync<T>(EventLoop loop, Server server, Func<T> factory, ConnectionOptions? options = null) =>
            loop.CreateConnectionAsync(factory, address.ToString(), ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port, options);

        internal override (Socket, Func<EventLoop, Func<RecordingProtocol>, ConnectionOptions?, Task<(IStreamTransport, RecordingProtocol)>>) Listen()
        {
            var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen();
            int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            return (listener, (loop, factory, options) => loop.CreateConnectionAsync(factory, address.ToString(), port, options));
        }

        internal override (string, Func<EventLoop, Task>) Unreachable()
        {
            // A port that was free a moment ago: bind, read the port, close.
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(address, 0));
            var endPoint = (IPEndPoint)probe.LocalEndPoint!;
            return (endPoint.ToString(), loop => loop.CreateConnectionAsync(() => new RecordingProtocol(), address.ToString(), endPoint.Port));
        }

        public override string ToString() => address.AddressFamily == AddressFamily.InterNetwork ? "tcp4" : "tcp6";
    }

    private sealed class UnixFamily : StreamFamily
    {
        public override bool IsTcp => false;

        internal override Task<Server> CreateServerAsync<T>(EventLoop loop, Func<T> factory, ServerOptions? options = null) =>
            loop.CreateUnixServerAsync(factory, TempSocketPath(), options);

        internal override Task<(IStreamTransport Transport, T Protocol)> ConnectAsync<T>(EventLoop loop, Server server, Func<T> factory, ConnectionOptions? options = null) =>
            loop.CreateUnixConnectionAsync(factory, ((UnixDomainSocketEndPoint)server.Sockets[0].LocalEndPoint!).ToString(), options);

        internal override (Socket, Func<EventLoop, Func<RecordingProtocol>, ConnectionOptions?, Task<(IStreamTransport, RecordingProtocol)>>) Listen()
        {
            string path = TempSocketPath();
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen();
            return (listener, (loop, factory, options) => loop.CreateUnixConnectionAsync(factory, path, options));
        }

        internal override (string, Func<EventLoop, Task>) Unreachable()
        {
            // A socket file that is bound but not listening refuses connections.
            string path = TempSocketPath();
            var bound = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            bound.Bind(new UnixDomainSocketEndPoint(path));
            return (path, ConnectThenCleanUpAsync);

            async Task ConnectThenCleanUpAsync(EventLoop loop)
            {
                try
                {
                    await loop.CreateUnixConnectionAsync(() => new RecordingProtocol(), path);
                }
                finally
                {
                    bound.Dispose();
                    File.Delete(path);
                }
            }
        }

        public override string ToString() => "unix";
    }

    /// <summary>A fresh path for a Unix socket under this run's temporary directory.</summary>
    public static string TempSocketPath()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"asyncnet-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, $"{Guid.NewGuid():N}.sock"[..16]);
    }
}

/// <summary>Blocking-socket helpers that run off the loop thread, so the loop keeps running while a peer waits.</summary>
internal static class RawPeer
{
    public static Task<byte[]> ReadExactlyAsync(Socket socket, int count) => Task.Run(() =>
    {
        byte[] buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = socket.Receive(buffer, read, count - read, SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException($"EOF after {read} of {count} bytes");
            }

            read += n;
        }

        return buffer;
    });

    public static Task<byte[]> ReadToEndAsync(Socket socket, int chunk = 64 * 1024, int pauseEveryChunkMs = 0) => Task.Run(() =>
    {
        var all = new MemoryStream();
        byte[] buffer = new byte[chunk];
        while (true)
        {
            int n;
            try
            {
                n = socket.Receive(buffer);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                break;
            }

            if (n == 0)
            {
                break;
            }

            all.Write(buffer, 0, n);
            if (pauseEveryChunkMs > 0)
            {
                Thread.Sleep(pauseEveryChunkMs);
            }
        }

        return all.ToArray();
    });

    public static Task SendAsync(Socket socket, byte[] data) => Task.Run(() =>
    {
        int sent = 0;
        while (sent < data.Length)
        {
            sent += socket.Send(data, sent, data.Length - sent, SocketFlags.None);
        }
    });

    public static Task<Socket> AcceptAsync(Socket listener, int? receiveBufferSize = null) => Task.Run(() =>
    {
        Socket accepted = listener.Accept();
        accepted.ReceiveTimeout = 10_000;
        accepted.SendTimeout = 10_000;
        if (receiveBufferSize is int size)
        {
            accepted.ReceiveBufferSize = size;
        }

        return accepted;
    });

    /// <summary>Bytes whose value depends on their position, so a reordering or a loss shows.</summary>
    public static byte[] Pattern(int length, int seed = 0)
    {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)((i * 31) + (i >> 8) + seed);
        }

        return data;
    }
}
