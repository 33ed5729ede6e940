// TlsEchoLoadGenerator: the verifying echo load over TLS.
//
// Maintainer's overview
// - Each connection is a Socket, a NetworkStream and an SslStream, with two tasks on the thread pool: the sender
//   writes message k once fewer than Depth messages are in flight (a semaphore of Depth credits), stamping
//   SentAt[k % Depth] first; the receiver compares every decrypted byte with the pattern (EchoPattern, as the plain
//   generator does), and for each message completed records its latency and returns one credit.
// - Slot k % Depth is written by the sender before message k is sent and read by the receiver after k's echo arrived;
//   it is written again only for message k + Depth, which needs the credit k's completion returns, so the two never
//   touch a slot at once.
// - The histogram is shared by the receivers under _gate; the counters are Interlocked. The first failure of any
//   side of any connection ends the run (_failed) and stops every other side (_stop), as the plain generator's does.
// - The plain generator runs every connection on one selector thread; TLS needs a Stream per connection, so this one
//   uses the runtime's async sockets instead, and its figures include that difference.

using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using AsyncNet.Errors;

namespace AsyncNet.Echo;

/// <summary>
/// A verifying echo load over TLS: <see cref="EchoLoadOptions.Connections"/> TLS connections, each keeping
/// <see cref="EchoLoadOptions.Depth"/> messages in flight, every echoed byte compared with the byte sent, messages per
/// second and latency measured after a warm-up, as <see cref="EchoLoadGenerator"/> does over plain TCP.
/// </summary>
/// <remarks>
/// Failures come through the task, as soon as they happen: <see cref="EchoMismatchException"/>;
/// <see cref="ConnectionRefusedException"/>, <see cref="NameResolutionException"/>, <see cref="ConnectionTimedOutException"/>
/// while connecting; <see cref="System.Security.Authentication.AuthenticationException"/> when a handshake fails (the
/// server speaks no TLS, or its certificate is refused by <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>);
/// <see cref="ConnectionResetException"/> or another <see cref="NetworkException"/> while running.
/// </remarks>
public sealed class TlsEchoLoadGenerator
{
    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly EchoLoadOptions _options;
    private readonly string _address;
    private readonly int _messageLength;
    private readonly LatencyHistogram _latency = new();
    private readonly object _gate = new();
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private long _messages;
    private long _verifiedBytes;

    private TlsEchoLoadGenerator(EchoLoadOptions options, string address)
    {
        _options = options;
        _address = address;
        _messageLength = EchoPattern.GetMessageLength(options.MessageSize, options.FrameFormat);
    }

    /// <summary>Runs a whole load over TLS: connects and shakes hands, warms up for <see cref="EchoLoadOptions.Warmup"/>, measures for <see cref="EchoLoadOptions.Duration"/>.</summary>
    /// <param name="options">The load.</param>
    /// <param name="tls">
    /// The client's TLS settings. <see cref="SslClientAuthenticationOptions.TargetHost"/>, when not set, is
    /// <see cref="EchoLoadOptions.Host"/>; the server's certificate is validated as the settings say.
    /// </param>
    /// <param name="progress">Called on a thread-pool thread every <see cref="EchoLoadOptions.ProgressInterval"/>; keep it short.</param>
    /// <param name="cancellationToken">Stops the load early; the task is then cancelled.</param>
    /// <returns>The measured window.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> or <paramref name="tls"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static async Task<EchoLoadResult> RunAsync(EchoLoadOptions options, SslClientAuthenticationOptions tls, Action<EchoLoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tls);
        options.Validate();
        IPEndPoint endPoint = (await EchoLoadGenerator.ResolveAsync(options.Host, options.Port, cancellationToken).ConfigureAwait(false))[0];
        var load = new TlsEchoLoadGenerator(options, SocketErrors.Describe(endPoint)!);
        var connections = new List<Connection>(options.Connections);
        try
        {
            for (int i = 0; i < options.Connections; i++)
            {
                connections.Add(await load.ConnectAsync(endPoint, i, tls, cancellationToken).ConfigureAwait(false));
            }

            return await load.MeasureAsync(connections, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await load._stop.CancelAsync().ConfigureAwait(false);
            foreach (Connection c in connections)
            {
                c.Dispose();
            }
        }
    }

    private async Task<Connection> ConnectAsync(IPEndPoint endPoint, int id, SslClientAuthenticationOptions tls, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw SocketErrors.Classify(ex, "connect", _address);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw SocketErrors.Classify(SocketError.TimedOut, "connect", _address);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true));
        try
        {
            var settings = new SslClientAuthenticationOptions
            {
                TargetHost = tls.TargetHost ?? _options.Host,
                RemoteCertificateValidationCallback = tls.RemoteCertificateValidationCallback,
                EnabledSslProtocols = tls.EnabledSslProtocols,
                CertificateRevocationCheckMode = tls.CertificateRevocationCheckMode,
                ClientCertificates = tls.ClientCertificates,
                ApplicationProtocols = tls.ApplicationProtocols,
            };
            await stream.AuthenticateAsClientAsync(settings, timeout.Token).ConfigureAwait(false);
        }
        catch (IOException ex) when (ex.InnerException is SocketException socketError)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw SocketErrors.Classify(socketError, "TLS handshake", _address);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new Connection(stream, id, EchoPattern.Create(id, _options.MessageSize, _options.Depth, _options.FrameFormat), _options.Depth);
    }

    private async Task<EchoLoadResult> MeasureAsync(List<Connection> connections, Action<EchoLoadProgress>? progress, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        bool warmingUp = true;
        Task[] running = [.. connections.SelectMany(c => new[] { GuardAsync(SendAsync, c), GuardAsync(ReceiveAsync, c) })];
        using Timer? progressTimer = progress is null ? null : StartProgress(progress, start, () => warmingUp);

        await RunForAsync(_options.Warmup, cancellationToken).ConfigureAwait(false);
        long windowStart;
        long windowMessages;
        lock (_gate)
        {
            _latency.Clear();
            windowStart = Stopwatch.GetTimestamp();
            windowMessages = Interlocked.Read(ref _messages);
            warmingUp = false;
        }

        await RunForAsync(_options.Duration, cancellationToken).ConfigureAwait(false);
        long end = Stopwatch.GetTimestamp();
        long endMessages = Interlocked.Read(ref _messages);
        await _stop.CancelAsync().ConfigureAwait(false);
        connections.ForEach(c => c.Dispose()); // ends the reads and writes in flight
        await Task.WhenAll(running).ConfigureAwait(false);
        if (_failed.Task.IsFaulted)
        {
            await _failed.Task.ConfigureAwait(false); // a failure at the last moment still counts
        }

        lock (_gate)
        {
            return EchoLoadResult.Of(
                _options, connections.Count, Stopwatch.GetElapsedTime(windowStart, end), endMessages - windowMessages, Interlocked.Read(ref _verifiedBytes), _latency);
        }
    }

    private Timer StartProgress(Action<EchoLoadProgress> progress, long start, Func<bool> warmingUp)
    {
        long lastTimestamp = start;
        long lastMessages = 0;
        return new Timer(
            _ =>
            {
                long now = Stopwatch.GetTimestamp();
                long messages = Interlocked.Read(ref _messages);
                double rate = (messages - lastMessages) / Stopwatch.GetElapsedTime(lastTimestamp, now).TotalSeconds;
                (lastTimestamp, lastMessages) = (now, messages);
                progress(new EchoLoadProgress(Stopwatch.GetElapsedTime(start, now), warmingUp(), messages, Interlocked.Read(ref _verifiedBytes), rate));
            },
            null,
            _options.ProgressInterval,
            _options.ProgressInterval);
    }

    /// <summary>Lets the load run for <paramref name="time"/>; throws the first failure as soon as there is one.</summary>
    private async Task RunForAsync(TimeSpan time, CancellationToken cancellationToken)
    {
        if (time > TimeSpan.Zero)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(_failed.Task, Task.Delay(time, wait.Token)).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
        }

        if (_failed.Task.IsFaulted)
        {
            await _failed.Task.ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Runs one side of a connection; its failure fails the load and stops every other side.</summary>
    private async Task GuardAsync(Func<Connection, Task> side, Connection c)
    {
        try
        {
            await side(c).ConfigureAwait(false);
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Stopped: the reads and writes in flight were cut off on purpose.
        }
        catch (Exception ex)
        {
            _failed.TrySetException(ex is IOException { InnerException: SocketException socketError }
                ? SocketErrors.Classify(socketError, $"TLS echo on connection {c.Id}", _address)
                : ex);
            await _stop.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task SendAsync(Connection c)
    {
        byte[] pattern = c.Pattern.Bytes;
        int period = c.Pattern.Period;
        for (long k = 0; ; k++)
        {
            await c.Credits.WaitAsync(_stop.Token).ConfigureAwait(false);
            c.SentAt[k % c.SentAt.Length] = Stopwatch.GetTimestamp();
            long offset = k * _messageLength;
            Interlocked.Add(ref c.SentBytes, _messageLength);
            for (int written = 0; written < _messageLength;)
            {
                int at = (int)((offset + written) % period);
                int length = Math.Min(_messageLength - written, pattern.Length - at);
                await c.Stream.WriteAsync(pattern.AsMemory(at, length), _stop.Token).ConfigureAwait(false);
                written += length;
            }
        }
    }

    private async Task ReceiveAsync(Connection c)
    {
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            int n = await c.Stream.ReadAsync(buffer, _stop.Token).ConfigureAwait(false);
            if (n == 0)
            {
                throw new ConnectionResetException(
                    $"The server closed TLS connection {c.Id} to {_address} after echoing {c.Received:N0} bytes.", _address);
            }

            int at = c.Pattern.FindMismatch(buffer.AsSpan(0, n), c.Received);
            if (at >= 0)
            {
                throw c.Pattern.Mismatch(c.Id, buffer.AsSpan(0, n), c.Received, at);
            }

            c.Received += n;
            Interlocked.Add(ref _verifiedBytes, n);
            if (c.Received > Interlocked.Read(ref c.SentBytes))
            {
                throw new EchoMismatchException($"TLS connection {c.Id} to {_address} got more bytes back ({c.Received:N0}) than it sent.");
            }

            long completed = (c.Received / _messageLength) - c.Completed;
            if (completed > 0)
            {
                long now = Stopwatch.GetTimestamp();
                lock (_gate)
                {
                    for (long k = c.Completed; k < c.Completed + completed; k++)
                    {
                        _latency.Record((long)((now - c.SentAt[k % c.SentAt.Length]) * s_nanosecondsPerTick));
                    }
                }

                c.Completed += completed;
                Interlocked.Add(ref _messages, completed);
                c.Credits.Release((int)completed);
            }
        }
    }

    private sealed class Connection(SslStream stream, int id, EchoPattern pattern, int depth) : IDisposable
    {
        // Bytes the sender has committed to write (counted before the write, so an echo can never overtake it).
        public long SentBytes;

        public SslStream Stream { get; } = stream;

        public int Id { get; } = id;

        public EchoPattern Pattern { get; } = pattern;

        /// <summary>When each message in flight was queued (Stopwatch ticks), by message index modulo the depth.</summary>
        public long[] SentAt { get; } = new long[depth];

        /// <summary>One credit per message that may still be sent without exceeding the depth.</summary>
        public SemaphoreSlim Credits { get; } = new(depth, int.MaxValue);

        public long Received { get; set; }

        public long Completed { get; set; }

        public void Dispose() => Stream.Dispose();
    }
}
