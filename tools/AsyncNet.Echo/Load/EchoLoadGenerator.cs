// EchoLoadGenerator: a verifying echo load on one thread.
//
// Maintainer's overview
// - Threads: StartAsync connects every socket (on the caller's side), then one dedicated thread owns every socket, the
//   selector, the patterns, the latency histogram and the per-connection counters. Other threads see only _messages
//   and _verifiedBytes (Interlocked), ask for a window with _windowRequested, and ask it to stop with _stopping; they
//   read the window's figures only after the thread has exited (Stop joins it).
// - Per connection: Sent/Target say how far the pattern has been sent and how far it should be; Received/Completed how
//   far it has come back. Target = (Completed + Depth) messages, so Depth messages are always in flight. Every
//   received byte is compared with the pattern at the same offset; the first difference ends the run.
// - Latency: message k was queued at SentAt[k % Depth]; when its echo's last byte arrives the slot is read and refilled
//   for message k + Depth, which is queued at that same moment. So the ring never needs more than Depth slots and no
//   message allocates anything.
// - Level-triggered, one read per ready connection per wait, write interest only while the kernel's buffer is full:
//   the same rules the servers follow (PERF-FACTS), so the client spends as little CPU per message as they do.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using AsyncNet.Errors;
using AsyncNet.Selectors;

namespace AsyncNet.Echo;

/// <summary>
/// A verifying echo load generator: many non-blocking connections on one selector thread, each keeping
/// <see cref="EchoLoadOptions.Depth"/> messages in flight, every echoed byte compared with what was sent. It measures
/// messages per second and the latency of each message, and allocates nothing per message, so that in a process that
/// also runs the server, the allocations counted over a window are the server's.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="RunAsync"/> runs a whole load (connect, warm up, measure). For finer control, <see cref="StartAsync"/>
/// starts the load, <see cref="BeginWindow"/> starts the measured window, and <see cref="Stop"/> ends it and returns the
/// result.
/// </para>
/// <para>
/// The load fails, loudly and at once, on the first echoed byte that differs from the byte sent
/// (<see cref="EchoMismatchException"/> naming the connection, the offset, the expected and the actual byte), on more
/// bytes echoed than were sent, and on a connection the server resets or closes (<see cref="ConnectionResetException"/>,
/// or another <see cref="NetworkException"/>).
/// </para>
/// </remarks>
public sealed class EchoLoadGenerator : IDisposable
{
    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly EchoLoadOptions _options;
    private readonly Connection[] _connections;
    private readonly string _address;
    private readonly Action<EchoLoadProgress>? _progress;
    private readonly ISelector _selector = SelectorFactory.CreateDefault();
    private readonly byte[] _readBuffer = new byte[256 * 1024];
    private readonly LatencyHistogram _latency = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _windowStarted = new();
    private readonly int _messageLength;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private volatile bool _windowRequested;
    private bool _disposed;

    // Written by the generator thread; read by others through Interlocked.
    private long _messages;
    private long _verifiedBytes;

    // Generator-thread state, read by others only after the thread exited.
    private Exception? _failure;
    private bool _warmingUp = true;
    private long _startTimestamp;
    private long _windowTimestamp;
    private long _windowMessages;
    private long _endTimestamp;
    private long _endMessages;

    private EchoLoadGenerator(EchoLoadOptions options, Connection[] connections, string address, Action<EchoLoadProgress>? progress)
    {
        _options = options;
        _connections = connections;
        _address = address;
        _progress = progress;
        _messageLength = EchoPattern.GetMessageLength(options.MessageSize, options.FrameFormat);
        foreach (Connection c in connections)
        {
            _selector.Register(c.Socket, SelectorEvents.Read, c);
        }

        _thread = new Thread(Run) { Name = "echo load generator", IsBackground = true };
    }

    /// <summary>The options the load runs with.</summary>
    public EchoLoadOptions Options => _options;

    /// <summary>Messages whose echo has fully arrived, over all connections, since the start.</summary>
    public long Messages => Interlocked.Read(ref _messages);

    /// <summary>Echoed bytes verified so far, over all connections.</summary>
    public long VerifiedBytes => Interlocked.Read(ref _verifiedBytes);

    /// <summary>The generator thread's OS thread id (Linux), so that its CPU time can be told apart from a server's in the same process; 0 if unknown.</summary>
    public int OsThreadId { get; private set; }

    /// <summary>Completes when the generator thread stops: successfully once stopped, or faulted with the failure that stopped it.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Runs a whole load: connects, warms up for <see cref="EchoLoadOptions.Warmup"/>, measures for <see cref="EchoLoadOptions.Duration"/>.</summary>
    /// <param name="options">The load.</param>
    /// <param name="progress">Called on the generator thread every <see cref="EchoLoadOptions.ProgressInterval"/>; keep it short.</param>
    /// <param name="cancellationToken">Stops the load early; the task is then cancelled.</param>
    /// <returns>The measured window.</returns>
    /// <remarks>
    /// Failures come through the task, as soon as they happen: <see cref="EchoMismatchException"/>;
    /// <see cref="ConnectionRefusedException"/>, <see cref="NameResolutionException"/>, <see cref="ConnectionTimedOutException"/>
    /// while connecting; <see cref="ConnectionResetException"/> or another <see cref="NetworkException"/> while running.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static async Task<EchoLoadResult> RunAsync(EchoLoadOptions options, Action<EchoLoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using EchoLoadGenerator load = await StartAsync(options, progress, cancellationToken).ConfigureAwait(false);
        await load.RunForAsync(options.Warmup, cancellationToken).ConfigureAwait(false);
        load.BeginWindow();
        await load.RunForAsync(options.Duration, cancellationToken).ConfigureAwait(false);
        return load.Stop();
    }

    /// <summary>Connects every connection and starts the load; the window starts now unless <see cref="BeginWindow"/> restarts it.</summary>
    /// <param name="options">The load; <see cref="EchoLoadOptions.Warmup"/> and <see cref="EchoLoadOptions.Duration"/> are the caller's to keep.</param>
    /// <param name="progress">Called on the generator thread every <see cref="EchoLoadOptions.ProgressInterval"/>; keep it short.</param>
    /// <param name="cancellationToken">Cancels the connects.</param>
    /// <returns>The running generator; dispose it.</returns>
    /// <remarks>
    /// The connects run one after the other on the calling thread, after an asynchronous name resolution (see
    /// <c>Connect</c> for why they avoid <see cref="Socket.ConnectAsync(EndPoint)"/>). The task fails with
    /// <see cref="ConnectionRefusedException"/>, <see cref="NameResolutionException"/>, <see cref="ConnectionTimedOutException"/>
    /// or another <see cref="NetworkException"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static async Task<EchoLoadGenerator> StartAsync(EchoLoadOptions options, Action<EchoLoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        IPEndPoint[] candidates = await ResolveAsync(options.Host, options.Port, cancellationToken).ConfigureAwait(false);
        var connections = new List<Connection>(options.Connections);
        string address = SocketErrors.Describe(candidates[0])!;
        try
        {
            // The first connection tries each address the name resolved to (localhost may be ::1 first); the rest use the one that answered.
            IPEndPoint endPoint = candidates[0];
            for (int c = 0; connections.Count == 0; c++)
            {
                endPoint = candidates[c];
                address = SocketErrors.Describe(endPoint)!;
                try
                {
                    connections.Add(NewConnection(Connect(endPoint, address, options.ConnectTimeout, cancellationToken), 0, options));
                }
                catch (NetworkException) when (c + 1 < candidates.Length)
                {
                    // Try the next address.
                }
            }

            for (int i = 1; i < options.Connections; i++)
            {
                connections.Add(NewConnection(Connect(endPoint, address, options.ConnectTimeout, cancellationToken), i, options));
            }
        }
        catch
        {
            connections.ForEach(c => c.Socket.Dispose());
            throw;
        }

        var generator = new EchoLoadGenerator(options, [.. connections], address, progress);
        generator._thread.Start();
        return generator;
    }

    /// <summary>Starts the measured window now: the latency histogram and the window's counters start afresh.</summary>
    /// <remarks>Returns once the generator thread has done so (within a few milliseconds), or has stopped.</remarks>
    public void BeginWindow()
    {
        _windowStarted.Reset();
        _windowRequested = true;
        while (!_windowStarted.Wait(TimeSpan.FromMilliseconds(100)) && !_completion.Task.IsCompleted)
        {
        }
    }

    /// <summary>Stops the load and returns the measured window.</summary>
    /// <returns>What was measured since <see cref="BeginWindow"/> (or the start).</returns>
    /// <exception cref="EchoMismatchException">An echoed byte differed from the byte sent.</exception>
    /// <exception cref="NetworkException">A connection was reset, closed by the server, or failed.</exception>
    public EchoLoadResult Stop()
    {
        _stopping = true;
        _thread.Join();
        if (_failure is not null)
        {
            ExceptionDispatchInfo.Throw(_failure);
        }

        return EchoLoadResult.Of(
            _options, _connections.Length, Stopwatch.GetElapsedTime(_windowTimestamp, _endTimestamp), _endMessages - _windowMessages, Interlocked.Read(ref _verifiedBytes), _latency);
    }

    /// <summary>Stops the load (without throwing its failure) and closes every connection.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stopping = true;
        if (_thread.IsAlive)
        {
            _thread.Join();
        }

        foreach (Connection c in _connections)
        {
            _selector.Unregister((int)c.Socket.Handle);
            c.Socket.Dispose();
        }

        _selector.Dispose();
        _windowStarted.Dispose();
    }

    /// <inheritdoc/>
    /// <returns>For example "EchoLoadGenerator(127.0.0.1:9000, 50 x 64 B, depth 1, Messages=1200)".</returns>
    public override string ToString() =>
        $"EchoLoadGenerator({_address}, {_connections.Length} x {_options.MessageSize} B{(_options.FrameFormat is null ? string.Empty : " framed")}, depth {_options.Depth}, Messages={Messages})";

    private static Connection NewConnection(Socket socket, int id, EchoLoadOptions options) =>
        new(socket, id, EchoPattern.Create(id, options.MessageSize, options.Depth, options.FrameFormat), options.Depth);

    internal static async Task<IPEndPoint[]> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return [new IPEndPoint(address, port)];
        }

        try
        {
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            return addresses.Length > 0
                ? Array.ConvertAll(addresses, a => new IPEndPoint(a, port))
                : throw SocketErrors.Classify(SocketError.HostNotFound, "resolve", host);
        }
        catch (SocketException ex)
        {
            throw SocketErrors.Classify(ex, "resolve", host);
        }
    }

    /// <summary>Connects without the runtime's async socket engine, polling for the connect's end.</summary>
    /// <remarks>
    /// An async operation (<c>ConnectAsync</c>) registers the socket with .NET's own epoll thread for good: from then on
    /// every arriving segment also wakes that thread and a thread-pool worker, which tripled the load's CPU per message.
    /// A non-blocking connect and <c>poll</c> leave the socket to this generator's selector alone.
    /// </remarks>
    private static Socket Connect(IPEndPoint endPoint, string address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, Blocking = false };
        try
        {
            try
            {
                socket.Connect(endPoint);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                var clock = Stopwatch.StartNew();
                while (!socket.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectWrite))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (clock.Elapsed >= timeout)
                    {
                        throw SocketErrors.Classify(SocketError.TimedOut, "connect", address);
                    }
                }

                var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                if (error != SocketError.Success)
                {
                    throw SocketErrors.Classify(error, "connect", address);
                }
            }

            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw SocketErrors.Classify(ex, "connect", address);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static int ReadOsThreadId()
    {
        try
        {
            FileSystemInfo? link = File.ResolveLinkTarget("/proc/thread-self", returnFinalTarget: false);
            return link is not null && int.TryParse(Path.GetFileName(link.FullName), out int id) ? id : 0;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Lets the load run for <paramref name="time"/>, unless it fails first.</summary>
    private async Task RunForAsync(TimeSpan time, CancellationToken cancellationToken)
    {
        if (time > TimeSpan.Zero && !_completion.Task.IsCompleted)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(_completion.Task, Task.Delay(time, wait.Token)).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private void Run()
    {
        OsThreadId = ReadOsThreadId();
        long start = Stopwatch.GetTimestamp();
        _startTimestamp = _windowTimestamp = start;
        long progressTicks = (long)(_options.ProgressInterval.TotalSeconds * Stopwatch.Frequency);
        long nextProgress = start + progressTicks;
        long lastProgress = start;
        long lastMessages = 0;
        try
        {
            foreach (Connection c in _connections)
            {
                Array.Fill(c.SentAt, start);
                c.Target = (long)_messageLength * _options.Depth;
                Send(c);
            }

            while (!_stopping && _failure is null)
            {
                if (_windowRequested)
                {
                    StartWindow();
                }

                ReadOnlySpan<SelectorReady> ready = _selector.Select(TimeSpan.FromMilliseconds(20));
                foreach (SelectorReady r in ready)
                {
                    var c = (Connection)r.Key.Data!;
                    if ((r.Events & (SelectorEvents.Read | SelectorEvents.Error | SelectorEvents.HangUp)) != 0)
                    {
                        Receive(c);
                    }

                    if ((r.Events & SelectorEvents.Write) != 0 && _failure is null)
                    {
                        Send(c);
                    }

                    if (_failure is not null)
                    {
                        break;
                    }
                }

                if (_progress is not null && Stopwatch.GetTimestamp() is var now && now >= nextProgress)
                {
                    long messages = _messages;
                    _progress(new EchoLoadProgress(
                        Stopwatch.GetElapsedTime(start, now), _warmingUp, messages, _verifiedBytes, (messages - lastMessages) / Stopwatch.GetElapsedTime(lastProgress, now).TotalSeconds));
                    lastProgress = now;
                    lastMessages = messages;
                    nextProgress = now + progressTicks;
                }
            }
        }
        catch (Exception ex)
        {
            _failure ??= ex;
        }
        finally
        {
            _endTimestamp = Stopwatch.GetTimestamp();
            _endMessages = _messages;
            _windowStarted.Set();
            if (_failure is null)
            {
                _completion.TrySetResult();
            }
            else
            {
                _completion.TrySetException(_failure);
            }
        }
    }

    private void StartWindow()
    {
        _latency.Clear();
        _windowTimestamp = Stopwatch.GetTimestamp();
        _windowMessages = _messages;
        _warmingUp = false;
        _windowRequested = false;
        _windowStarted.Set();
    }

    private void Fail(Exception failure) => _failure ??= failure;

    private void Receive(Connection c)
    {
        int n = c.Socket.Receive(_readBuffer, 0, _readBuffer.Length, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock)
        {
            return;
        }

        if (error != SocketError.Success)
        {
            Fail(SocketErrors.Classify(error, $"read on connection {c.Id}", _address));
            return;
        }

        if (n == 0)
        {
            Fail(new ConnectionResetException(
                $"The server closed connection {c.Id} to {_address} (EOF) after echoing {c.Received:N0} of the {c.Sent:N0} bytes sent.", _address));
            return;
        }

        ReadOnlySpan<byte> received = _readBuffer.AsSpan(0, n);
        int at = c.Pattern.FindMismatch(received, c.Received);
        if (at >= 0)
        {
            Fail(c.Pattern.Mismatch(c.Id, received, c.Received, at));
            return;
        }

        c.Received += n;
        Interlocked.Add(ref _verifiedBytes, n);
        if (c.Received > c.Sent)
        {
            Fail(new EchoMismatchException(
                $"Connection {c.Id} to {_address} got {c.Received - c.Sent:N0} more bytes back than it sent ({c.Sent:N0})."));
            return;
        }

        long completed = (c.Received / _messageLength) - c.Completed;
        if (completed <= 0)
        {
            return;
        }

        // Each completed message frees its ring slot for the message queued in its place, at the same moment.
        long now = Stopwatch.GetTimestamp();
        int depth = c.SentAt.Length;
        for (long k = c.Completed; k < c.Completed + completed; k++)
        {
            int slot = (int)(k % depth);
            _latency.Record((long)((now - c.SentAt[slot]) * s_nanosecondsPerTick));
            c.SentAt[slot] = now;
        }

        c.Completed += completed;
        Interlocked.Add(ref _messages, completed);
        c.Target += completed * _messageLength;
        Send(c);
    }

    /// <summary>Sends the pattern up to the connection's target; waits for writability if the kernel's buffer is full.</summary>
    private void Send(Connection c)
    {
        byte[] pattern = c.Pattern.Bytes;
        while (c.Sent < c.Target)
        {
            int offset = (int)(c.Sent % c.Pattern.Period);
            int length = (int)Math.Min(c.Target - c.Sent, pattern.Length - offset);
            int sent = c.Socket.Send(pattern, offset, length, SocketFlags.None, out SocketError error);
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
                Fail(SocketErrors.Classify(error, $"write on connection {c.Id}", _address));
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

    private sealed class Connection(Socket socket, int id, EchoPattern pattern, int depth)
    {
        public Socket Socket { get; } = socket;

        public int Id { get; } = id;

        public EchoPattern Pattern { get; } = pattern;

        /// <summary>When each message in flight was queued (Stopwatch ticks), by message index modulo the depth.</summary>
        public long[] SentAt { get; } = new long[depth];

        public long Sent { get; set; }

        public long Target { get; set; }

        public long Received { get; set; }

        public long Completed { get; set; }

        public bool WaitingToWrite { get; set; }
    }
}
