using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Selectors;

namespace AsyncNet.EchoBench;

/// <summary>
/// A verifying echo load generator on its own thread: many non-blocking connections on one epoll selector, each
/// keeping <c>depth</c> messages in flight, every echoed byte compared with what was sent. It allocates nothing
/// once running, so the process's allocation count during a window is the server's.
/// </summary>
/// <remarks>
/// Each connection's byte stream is a pseudo-random pattern with a prime period (65,521 bytes), so message
/// boundaries never line up with it: a lost, duplicated or reordered byte is a mismatch.
/// </remarks>
internal sealed class LoadClient : IDisposable
{
    private const int Period = 65_521;

    private readonly Connection[] _connections;
    private readonly ISelector _selector = SelectorFactory.CreateDefault();
    private readonly byte[] _readBuffer = new byte[256 * 1024];
    private readonly int _messageSize;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new();
    private volatile bool _stopping;
    private long _messages;
    private long _errors;

    public LoadClient(int port, int connections, int messageSize, int depth)
    {
        _messageSize = messageSize;
        _connections = new Connection[connections];
        for (int i = 0; i < connections; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
            socket.Blocking = false;
            _connections[i] = new Connection(socket, i, messageSize * depth);
            _selector.Register(socket, SelectorEvents.Read, _connections[i]);
        }

        foreach (Connection c in _connections)
        {
            c.Target = (long)messageSize * depth;
            Send(c);
        }

        _thread = new Thread(Run) { Name = "echo load client", IsBackground = true };
        _thread.Start();
        _started.Wait();
    }

    /// <summary>The client thread's OS id, so its CPU time can be told apart from the server's.</summary>
    public int ThreadId { get; private set; }

    /// <summary>Messages whose echo has fully arrived, over all connections.</summary>
    public long Messages => Interlocked.Read(ref _messages);

    /// <summary>Bytes that did not match, or connections that failed.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    public void Dispose()
    {
        _stopping = true;
        _thread.Join();
        foreach (Connection c in _connections)
        {
            _selector.Unregister((int)c.Socket.Handle);
            c.Socket.Dispose();
        }

        _selector.Dispose();
    }

    private void Run()
    {
        ThreadId = CpuTimes.CurrentThreadId();
        _started.Set();
        while (!_stopping)
        {
            ReadOnlySpan<SelectorReady> ready = _selector.Select(TimeSpan.FromMilliseconds(100));
            foreach (SelectorReady r in ready)
            {
                var c = (Connection)r.Key.Data!;
                if ((r.Events & (SelectorEvents.Read | SelectorEvents.Error | SelectorEvents.HangUp)) != 0)
                {
                    Receive(c);
                }

                if ((r.Events & SelectorEvents.Write) != 0)
                {
                    Send(c);
                }
            }
        }
    }

    private void Receive(Connection c)
    {
        int n = c.Socket.Receive(_readBuffer, 0, _readBuffer.Length, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock)
        {
            return;
        }

        if (error != SocketError.Success || n == 0)
        {
            Interlocked.Increment(ref _errors);
            _selector.Modify((int)c.Socket.Handle, SelectorEvents.Read, c);
            return;
        }

        // Verify against the pattern, one period-window at a time.
        int checkedBytes = 0;
        while (checkedBytes < n)
        {
            int offset = (int)(c.Received % Period);
            int length = Math.Min(n - checkedBytes, Period - offset);
            if (!_readBuffer.AsSpan(checkedBytes, length).SequenceEqual(c.Pattern.AsSpan(offset, length)))
            {
                Interlocked.Increment(ref _errors);
            }

            checkedBytes += length;
            c.Received += length;
        }

        long completed = (c.Received / _messageSize) - c.Completed;
        if (completed > 0)
        {
            c.Completed += completed;
            Interlocked.Add(ref _messages, completed);
            c.Target += completed * _messageSize;
            Send(c);
        }
    }

    /// <summary>Sends the pattern up to the connection's target; waits for writability if the kernel is full.</summary>
    private void Send(Connection c)
    {
        while (c.Sent < c.Target)
        {
            int offset = (int)(c.Sent % Period);
            int length = (int)Math.Min(c.Target - c.Sent, c.Pattern.Length - offset);
            int sent = c.Socket.Send(c.Pattern, offset, length, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock || (error == SocketError.Success && sent < length))
            {
                c.Sent += sent;
                if (!c.WaitingToWrite)
                {
                    c.WaitingToWrite = true;
                    _selector.Modify((int)c.Socket.Handle, SelectorEvents.Read | SelectorEvents.Write, c);
                }

                return;
            }

            if (error != SocketError.Success)
            {
                Interlocked.Increment(ref _errors);
                return;
            }

            c.Sent += sent;
        }

        if (c.WaitingToWrite)
        {
            c.WaitingToWrite = false;
            _selector.Modify((int)c.Socket.Handle, SelectorEvents.Read, c);
        }
    }

    private sealed class Connection(Socket socket, int id, int maxBurst)
    {
        public Socket Socket { get; } = socket;

        /// <summary>The stream's bytes: Period bytes, then a repeat of the first maxBurst, so any send is one slice.</summary>
        public byte[] Pattern { get; } = MakePattern(id, maxBurst);

        public long Sent { get; set; }

        public long Target { get; set; }

        public long Received { get; set; }

        public long Completed { get; set; }

        public bool WaitingToWrite { get; set; }

        private static byte[] MakePattern(int id, int maxBurst)
        {
            var random = new Random(id * 7919 + 1);
            byte[] pattern = new byte[Period + maxBurst];
            random.NextBytes(pattern.AsSpan(0, Period));
            for (int i = 0; i < maxBurst; i++)
            {
                pattern[Period + i] = pattern[i % Period];
            }

            return pattern;
        }
    }
}

/// <summary>User and system CPU time, from /proc, in seconds.</summary>
internal readonly record struct CpuTimes(double User, double System)
{
    private static readonly double s_tick = 1.0 / 100; // USER_HZ is 100 on Linux

    public static CpuTimes Process() => Parse(File.ReadAllText("/proc/self/stat"));

    public static CpuTimes Thread(int tid) => Parse(File.ReadAllText($"/proc/self/task/{tid}/stat"));

    public static int CurrentThreadId() =>
        int.Parse(Path.GetFileName(File.ResolveLinkTarget("/proc/thread-self", returnFinalTarget: false)!.FullName), CultureInfo.InvariantCulture);

    public static CpuTimes operator -(CpuTimes a, CpuTimes b) => new(a.User - b.User, a.System - b.System);

    private static CpuTimes Parse(string stat)
    {
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return new CpuTimes(long.Parse(fields[11], CultureInfo.InvariantCulture) * s_tick, long.Parse(fields[12], CultureInfo.InvariantCulture) * s_tick);
    }
}

/// <summary>
/// One measured window: what the client saw, what the process allocated meanwhile, and the server's CPU per message
/// (the process's CPU time minus the client thread's), user and system apart.
/// </summary>
internal readonly record struct Measurement(
    string Server, int MessageSize, int Depth, double MessagesPerSecond, double MegabytesPerSecond, double AllocatedBytesPerMessage, long Errors, double ServerUserMicros, double ServerSystemMicros)
{
    public double ServerCpuMicros => ServerUserMicros + ServerSystemMicros;

    public static Measurement Take(IEchoServer server, int connections, int messageSize, int depth, TimeSpan warmup, TimeSpan window)
    {
        using var client = new LoadClient(server.Port, connections, messageSize, depth);
        Thread.Sleep(warmup);
        CpuTimes process0 = CpuTimes.Process();
        CpuTimes client0 = CpuTimes.Thread(client.ThreadId);
        long messages0 = client.Messages;
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        Thread.Sleep(window);
        long messages1 = client.Messages;
        long allocated1 = GC.GetTotalAllocatedBytes(precise: true);
        double seconds = clock.Elapsed.TotalSeconds;
        CpuTimes process1 = CpuTimes.Process();
        CpuTimes client1 = CpuTimes.Thread(client.ThreadId);
        CpuTimes serverCpu = (process1 - process0) - (client1 - client0);
        long messages = messages1 - messages0;
        double perMessage = messages == 0 ? double.NaN : 1e6 / messages;
        return new Measurement(
            server.Name,
            messageSize,
            depth,
            messages / seconds,
            messages * (double)messageSize / seconds / 1e6,
            messages == 0 ? double.NaN : (allocated1 - allocated0) / (double)messages,
            client.Errors,
            serverCpu.User * perMessage,
            serverCpu.System * perMessage);
    }
}
