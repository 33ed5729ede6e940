// A loop on a background thread serving ordinary .NET code: the shape of a client that an ASP.NET service (or any
// multi-threaded program) shares. Callers on any thread make requests; everything that touches a connection runs on the
// loop's thread, so the connections need no locks, and no caller's continuation ever runs on (and stalls) the loop.

using AsyncNet.Loop;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Sync;

namespace AsyncNet.Samples.Hosting;

/// <summary>
/// A client of a framed request/response backend (one response frame per request frame), shared by a whole service:
/// one loop on a thread of its own holds a few connections, and <see cref="RequestAsync"/> may be called from any thread,
/// by many callers at once.
/// </summary>
/// <remarks>
/// Each connection carries one request at a time (so responses cannot be mixed up); callers beyond the number of
/// connections wait for a free one in a loop-bound queue, first come, first served.
/// </remarks>
public sealed class FramedBackendClient : IAsyncDisposable
{
    private readonly EventLoop _loop;
    private readonly List<FramedConnection> _connections;

    // The connections not carrying a request right now. Loop-bound: touched only by code running on _loop.
    private readonly AsyncQueue<FramedConnection> _idle;

    private FramedBackendClient(EventLoop loop, List<FramedConnection> connections)
    {
        _loop = loop;
        _connections = connections;
        _idle = new AsyncQueue<FramedConnection>(loop);
        foreach (FramedConnection connection in connections)
        {
            _idle.PutNowait(connection);
        }
    }

    /// <summary>Starts a loop on its own thread and opens <paramref name="connections"/> connections to the backend.</summary>
    /// <param name="host">The backend's host.</param>
    /// <param name="port">The backend's port.</param>
    /// <param name="format">The frame layout both ways.</param>
    /// <param name="connections">How many connections to keep. The default is 4.</param>
    /// <param name="cancellationToken">Cancels the connects.</param>
    /// <returns>The client, ready for requests from any thread.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="connections"/> is not positive.</exception>
    public static async Task<FramedBackendClient> ConnectAsync(
        string host, int port, LengthFieldFormat format, int connections = 4, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(connections);
        EventLoop loop = EventLoop.StartOnNewThread(threadName: "backend client loop");
        try
        {
            // The connects may be started from here (any thread); each runs on the loop.
            FramedConnection[] opened = await Task.WhenAll(Enumerable.Range(0, connections)
                .Select(_ => loop.OpenFramedConnectionAsync(host, port, format, cancellationToken: cancellationToken))).ConfigureAwait(false);

            // The queue is loop-bound: make the client on the loop.
            return await loop.RunCoroutineThreadSafe(() => Task.FromResult(new FramedBackendClient(loop, [.. opened]))).ConfigureAwait(false);
        }
        catch
        {
            await loop.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends one request frame and returns the backend's response frame's payload.</summary>
    /// <param name="request">The request's payload.</param>
    /// <param name="cancellationToken">Cancels waiting for a free connection.</param>
    /// <returns>The response's payload. Awaited off the loop, the caller resumes off the loop.</returns>
    /// <exception cref="IOException">Through the task: the backend closed the connection before it answered.</exception>
    public Task<byte[]> RequestAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default) =>
        _loop.RunCoroutineThreadSafe(async () =>
        {
            // From here on this is loop code: every await below resumes on the loop thread.
            FramedConnection connection = await _idle.GetAsync(cancellationToken);
            try
            {
                await connection.Writer.WriteAsync(0, request);
                Frame response = await connection.Reader.ReadFrameAsync() ?? throw new IOException("The backend closed the connection before it answered.");

                // The payload is a view of the reader's buffer, valid until the next read: copy it out for the caller.
                return System.Buffers.BuffersExtensions.ToArray(response.Payload);
            }
            finally
            {
                _idle.PutNowait(connection);
            }
        });

    /// <summary>Closes the connections, then stops and closes the loop.</summary>
    /// <returns>A task that completes when the loop is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await _loop.RunCoroutineThreadSafe(async () =>
        {
            foreach (FramedConnection connection in _connections)
            {
                connection.Close();
                await connection.WaitClosedAsync();
            }
        }).ConfigureAwait(false);
        await _loop.DisposeAsync().ConfigureAwait(false);
    }
}
