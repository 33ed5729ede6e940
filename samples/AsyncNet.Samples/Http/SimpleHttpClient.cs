using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Samples.Http;

/// <summary>
/// A small HTTP/1.1 client on one event loop: keeps one connection per host and port, reuses it while the server
/// allows (keep-alive), and opens a new one when the server has closed it.
/// </summary>
/// <remarks>
/// <para>
/// Use it on the loop's thread (inside work the loop runs). Requests to the same host and port take turns on their
/// connection (HTTP/1.1 without pipelining); requests to different hosts run concurrently.
/// </para>
/// <para>
/// A server may close an idle kept-alive connection at any moment, so a request can meet a connection that was
/// closed while it was being sent. If such a request got no byte of a response, on a connection that had served
/// earlier requests, and its method is idempotent, it is sent once more on a new connection (RFC 9112 §9.3.1).
/// </para>
/// </remarks>
/// <example>
/// <code>
/// await using var client = new SimpleHttpClient(loop);
/// HttpResponse response = await client.GetAsync("http://127.0.0.1:8080/", destination: fileStream);
/// Console.WriteLine($"{response.StatusLine}: {response.BodyLength} bytes");
/// </code>
/// </example>
public sealed class SimpleHttpClient : IAsyncDisposable
{
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.OrdinalIgnoreCase);
    private bool _disposed;

    /// <summary>Creates a client.</summary>
    /// <param name="loop">The loop its connections run on.</param>
    /// <param name="options">The limits; <see langword="null"/> for <see cref="HttpClientOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public SimpleHttpClient(EventLoop loop, HttpClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        options ??= HttpClientOptions.Default;
        options.Validate();
        Loop = loop;
        Options = options;
    }

    /// <summary>The loop.</summary>
    public EventLoop Loop { get; }

    /// <summary>The limits.</summary>
    public HttpClientOptions Options { get; }

    /// <summary>How many connections the client has opened so far (one per host for a server that keeps them alive).</summary>
    public int ConnectionsOpened { get; private set; }

    /// <summary>How many connections are open now, idle or busy.</summary>
    public int OpenConnections => _slots.Values.Count(s => s.Connection is not null);

    /// <summary>GETs <paramref name="url"/>.</summary>
    /// <param name="url">An http URL.</param>
    /// <param name="destination">Where to write the body; <see langword="null"/> to buffer it in <see cref="HttpResponse.Body"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The response, after its body.</returns>
    /// <exception cref="FormatException"><paramref name="url"/> is not a valid URL.</exception>
    /// <exception cref="NotSupportedException"><paramref name="url"/> is https (TLS is not part of this sample) or another scheme.</exception>
    public Task<HttpResponse> GetAsync(string url, Stream? destination = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpRequest.Get(url), destination, cancellationToken);

    /// <summary>HEADs <paramref name="url"/>: the response has headers and never a body.</summary>
    /// <param name="url">An http URL.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The response.</returns>
    /// <exception cref="FormatException"><paramref name="url"/> is not a valid URL.</exception>
    /// <exception cref="NotSupportedException"><paramref name="url"/> is https or another scheme.</exception>
    public Task<HttpResponse> HeadAsync(string url, CancellationToken cancellationToken = default) =>
        SendAsync(HttpRequest.Head(url), (Stream?)null, cancellationToken);

    /// <summary>Sends <paramref name="request"/> on the connection to its host and port, opening one if needed.</summary>
    /// <param name="request">The request.</param>
    /// <param name="destination">Where to write the body; <see langword="null"/> to buffer it in <see cref="HttpResponse.Body"/>.</param>
    /// <param name="cancellationToken">Cancels the request (a connection it was using is closed).</param>
    /// <returns>The response, after its body.</returns>
    /// <remarks>
    /// Failures come through the task: <see cref="ConnectionRefusedException"/>, <see cref="NameResolutionException"/> or
    /// another <see cref="NetworkException"/> from the connection; <see cref="MalformedResponseException"/> for a response
    /// that breaks HTTP/1.x.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed.</exception>
    public Task<HttpResponse> SendAsync(HttpRequest request, Stream? destination = null, CancellationToken cancellationToken = default) =>
        SendAsync(request, _ => destination, cancellationToken);

    /// <summary>
    /// Sends <paramref name="request"/> as <see cref="SendAsync(HttpRequest, Stream?, CancellationToken)"/> does, letting
    /// <paramref name="chooseDestination"/> see the status and headers and pick the body's destination before it streams.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="chooseDestination">
    /// Called once per response, on the loop thread, when its head has arrived; returns where to write the body, or
    /// <see langword="null"/> to buffer it in <see cref="HttpResponse.Body"/>.
    /// </param>
    /// <param name="cancellationToken">Cancels the request (a connection it was using is closed).</param>
    /// <returns>The response, after its body.</returns>
    /// <remarks>Failures come through the task, as for <see cref="SendAsync(HttpRequest, Stream?, CancellationToken)"/>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> or <paramref name="chooseDestination"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed.</exception>
    public async Task<HttpResponse> SendAsync(HttpRequest request, Func<HttpResponse, Stream?> chooseDestination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(chooseDestination);
        ObjectDisposedException.ThrowIf(_disposed, this);
        string key = $"{request.Url.Host}:{request.Url.Port}";
        if (!_slots.TryGetValue(key, out Slot? slot))
        {
            slot = new Slot(new AsyncLock(Loop));
            _slots.Add(key, slot);
        }

        using (await slot.Gate.AcquireAsync(cancellationToken))
        {
            while (true)
            {
                HttpClientConnection connection = await GetConnectionAsync(slot, request.Url, cancellationToken);
                try
                {
                    HttpResponse response = await connection.SendAsync(request, chooseDestination, cancellationToken);
                    if (!connection.IsReusable)
                    {
                        await ForgetAsync(slot, connection);
                    }

                    return response;
                }
                catch (Exception ex) when (IsStale(ex, connection, request))
                {
                    // The server closed the idle connection as we reused it; nothing was received, so nothing was written.
                    await ForgetAsync(slot, connection);
                }
                catch
                {
                    await ForgetAsync(slot, connection);
                    throw;
                }
            }
        }
    }

    /// <summary>Closes every connection and waits until they are closed.</summary>
    /// <returns>A task that completes when they are.</returns>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        foreach (Slot slot in _slots.Values)
        {
            if (slot.Connection is { } connection)
            {
                slot.Connection = null;
                await connection.DisposeAsync();
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"SimpleHttpClient(Open={OpenConnections}, Opened={ConnectionsOpened})";

    private static bool IsStale(Exception ex, HttpClientConnection connection, HttpRequest request) =>
        connection.RequestCount > 1
        && !connection.ResponseStarted
        && request.IsIdempotent
        && ex is MalformedResponseException { Error: ResponseError.NoResponse } or ConnectionResetException or BrokenPipeException;

    private static async Task ForgetAsync(Slot slot, HttpClientConnection connection)
    {
        if (slot.Connection == connection)
        {
            slot.Connection = null;
        }

        await connection.DisposeAsync();
    }

    /// <summary>The slot's connection if it can take another request, else a new one (the old one is closed).</summary>
    private async Task<HttpClientConnection> GetConnectionAsync(Slot slot, HttpUrl url, CancellationToken cancellationToken)
    {
        if (slot.Connection is { } existing)
        {
            if (existing.IsReusable)
            {
                return existing;
            }

            await ForgetAsync(slot, existing);
        }

        HttpClientConnection connection = await HttpClientConnection.OpenAsync(Loop, url.Host, url.Port, Options, cancellationToken);
        ConnectionsOpened++;
        slot.Connection = connection;
        return connection;
    }

    /// <summary>One host and port: its connection, and the lock that makes its requests take turns.</summary>
    private sealed class Slot(AsyncLock gate)
    {
        public AsyncLock Gate { get; } = gate;

        public HttpClientConnection? Connection { get; set; }
    }
}
