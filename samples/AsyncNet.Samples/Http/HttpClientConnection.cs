// HttpClientConnection: one HTTP/1.1 connection over AsyncNet's streams, one request at a time.
//
// Maintainer's overview
// - An exchange: write the request head (and body) and drain; read the status line (skipping 1xx interim responses);
//   read the header section; decide the body's framing and whether the connection persists (RFC 9112 §6.3, §9.3);
//   copy the body into the destination; then either stay Idle for the next request or close.
// - Every line is read with StreamReader.ReadLineAsync, whose limit (HttpClientOptions.ReaderLimit) bounds what an
//   unterminated line can make us buffer; HttpClientOptions.MaxLineLength is the (smaller) line limit we enforce.
// - Bodies are streamed: the reader's segments are copied through one pooled buffer into the destination, so a body
//   of any size costs the reader's limit plus that buffer. Without a destination the body is buffered once, into a
//   MemoryStream pre-sized from Content-Length (no second copy to trim it: HttpResponse.Body is a slice).
// - Awaits keep the loop's context on purpose: the connection lives on the loop thread (opening one requires it), and
//   resuming there lets each read finish synchronously inside the transport's callback.

using System.Buffers;
using AsyncNet.Loop;
using AsyncNet.Streams;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Samples.Http;

/// <summary>
/// One HTTP/1.1 client connection to a host and port: sends a request, reads the response and its body, and stays
/// open for the next request when the response allows it (keep-alive).
/// </summary>
/// <remarks>
/// <para>
/// Use it on the loop's thread (inside work the loop runs). One request at a time: <see cref="SendAsync"/> while
/// another exchange runs throws <see cref="InvalidOperationException"/>. After a response that does not persist
/// (<c>Connection: close</c>, HTTP/1.0 without keep-alive, a body read until close) or any failure, the connection is
/// closed and <see cref="IsReusable"/> is false.
/// </para>
/// <para>
/// Failures come through the returned task: <see cref="MalformedResponseException"/> for a response that breaks the
/// protocol; <see cref="AsyncNet.Errors.NetworkException"/> subclasses (reset, broken pipe) when the connection fails.
/// </para>
/// </remarks>
public sealed class HttpClientConnection : IAsyncDisposable
{
    private static readonly byte[] s_emptyBody = [];

    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly HttpClientOptions _options;

    // Idle: ready for a request. Busy: an exchange runs. Closed: closed after a non-persistent response, a failure
    // or Close; never left.
    private ConnectionState _state;

    private HttpClientConnection(string host, int port, StreamReader reader, StreamWriter writer, HttpClientOptions options)
    {
        Host = host;
        Port = port;
        _reader = reader;
        _writer = writer;
        _options = options;
    }

    private enum ConnectionState
    {
        Idle,
        Busy,
        Closed,
    }

    /// <summary>The host it is connected to.</summary>
    public string Host { get; }

    /// <summary>The port it is connected to.</summary>
    public int Port { get; }

    /// <summary>How many requests were sent on it (including one that failed).</summary>
    public int RequestCount { get; private set; }

    /// <summary>
    /// Whether another request may be sent: the last response persisted, and the server has not closed or reset the
    /// connection since (as far as the loop has seen).
    /// </summary>
    public bool IsReusable =>
        _state == ConnectionState.Idle && !_reader.AtEof && _reader.Exception is null && !_writer.IsClosing;

    /// <summary>Whether the current (or last) exchange received any byte of a response; false means the server never answered it.</summary>
    internal bool ResponseStarted { get; private set; }

    /// <summary>Opens a connection.</summary>
    /// <param name="loop">The loop to run it on; call this on its thread.</param>
    /// <param name="host">The host name or IP literal.</param>
    /// <param name="port">The port.</param>
    /// <param name="options">The limits; <see langword="null"/> for <see cref="HttpClientOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connection.</returns>
    /// <remarks>Fails as <see cref="StreamEndpoints.OpenConnectionAsync"/> does: <see cref="AsyncNet.Errors.ConnectionRefusedException"/>, <see cref="AsyncNet.Errors.NameResolutionException"/>, ….</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="host"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static async Task<HttpClientConnection> OpenAsync(
        EventLoop loop, string host, int port, HttpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(host);
        options ??= HttpClientOptions.Default;
        options.Validate();
        var (reader, writer) = await loop.OpenConnectionAsync(
            host, port, new StreamOptions { Limit = options.ReaderLimit }, cancellationToken: cancellationToken);
        return new HttpClientConnection(host, port, reader, writer, options);
    }

    /// <summary>Sends <paramref name="request"/> and reads the response, its body going to <paramref name="bodyDestination"/>.</summary>
    /// <param name="request">The request; its URL's host and port should be this connection's.</param>
    /// <param name="bodyDestination">
    /// Where to write the body as it arrives; <see langword="null"/> to buffer it in <see cref="HttpResponse.Body"/>.
    /// It is written to and not flushed or closed.
    /// </param>
    /// <param name="cancellationToken">Cancels the exchange; the connection is then closed.</param>
    /// <returns>The response, once its body has arrived.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Another exchange runs, or the connection is closed.</exception>
    /// <exception cref="MalformedResponseException">The response breaks HTTP/1.x (through the task); the connection is closed.</exception>
    public Task<HttpResponse> SendAsync(HttpRequest request, Stream? bodyDestination = null, CancellationToken cancellationToken = default) =>
        SendAsync(request, _ => bodyDestination, cancellationToken);

    /// <summary>
    /// Sends <paramref name="request"/> and reads the response; once its head has arrived, <paramref name="chooseDestination"/>
    /// says where the body goes (it may also show the status and headers before the body streams).
    /// </summary>
    /// <param name="request">The request; its URL's host and port should be this connection's.</param>
    /// <param name="chooseDestination">
    /// Called once, with the response's status and headers (no body yet), on the loop thread; returns the stream to
    /// write the body to, or <see langword="null"/> to buffer it in <see cref="HttpResponse.Body"/>.
    /// </param>
    /// <param name="cancellationToken">Cancels the exchange; the connection is then closed.</param>
    /// <returns>The response, once its body has arrived.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> or <paramref name="chooseDestination"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Another exchange runs, or the connection is closed.</exception>
    /// <exception cref="MalformedResponseException">The response breaks HTTP/1.x (through the task); the connection is closed.</exception>
    public async Task<HttpResponse> SendAsync(HttpRequest request, Func<HttpResponse, Stream?> chooseDestination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(chooseDestination);
        switch (_state)
        {
            case ConnectionState.Busy:
                throw new InvalidOperationException("A request is already in progress on this connection.");
            case ConnectionState.Closed:
                throw new InvalidOperationException("The connection is closed.");
        }

        _state = ConnectionState.Busy;
        ResponseStarted = false;
        bool reused = RequestCount > 0;
        RequestCount++;
        try
        {
            _writer.Write(HttpSyntax.EncodeRequestHead(request, _options));
            if (!request.Body.IsEmpty)
            {
                _writer.Write(request.Body);
            }

            await _writer.DrainAsync(cancellationToken);

            HttpResponse response = await ReadHeadAsync(cancellationToken);
            response.ConnectionReused = reused;
            DecideFraming(request, response, out long contentLength);
            await ReadBodyAsync(response, contentLength, chooseDestination(response), cancellationToken);

            if (response.KeepAlive)
            {
                _state = ConnectionState.Idle;
            }
            else
            {
                await CloseAsync();
            }

            return response;
        }
        catch
        {
            // After a failed exchange the framing is lost: nothing more on this connection can be trusted.
            _state = ConnectionState.Closed;
            _writer.Transport.Abort();
            throw;
        }
    }

    /// <summary>Closes the connection (idempotent); a request in progress fails.</summary>
    public void Close()
    {
        _state = ConnectionState.Closed;
        _writer.Close();
    }

    /// <summary>Closes the connection and waits until it is closed.</summary>
    /// <returns>A task that completes when it is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        _state = ConnectionState.Closed;
        await _writer.DisposeAsync();
    }

    /// <inheritdoc/>
    /// <returns>For example "HttpClientConnection(127.0.0.1:8080, Idle, Requests=3)".</returns>
    public override string ToString() => $"HttpClientConnection({Host}:{Port}, {_state}, Requests={RequestCount})";

    private async Task CloseAsync()
    {
        _state = ConnectionState.Closed;
        await _writer.DisposeAsync();
    }

    /// <summary>Reads the status line and the header section, skipping interim (1xx) responses except 101.</summary>
    private async Task<HttpResponse> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            byte[] raw = await ReadLineAsync("status line", ResponseError.ConnectionClosed, cancellationToken);
            var (minor, status, reason) = HttpSyntax.ParseStatusLine(raw.AsSpan(0, ContentLength(raw)));
            var response = new HttpResponse(minor == 0 ? "HTTP/1.0" : "HTTP/1.1", status, reason);
            await ReadFieldsAsync(response.Headers, "header", ResponseError.ConnectionClosed, cancellationToken);
            if (status is >= 100 and < 200 && status != 101)
            {
                // 100 Continue, 103 Early Hints, …: the real response follows on the same connection.
                continue;
            }

            return response;
        }
    }

    /// <summary>
    /// Reads field lines up to the empty line into <paramref name="fields"/>, within the count and size limits; a close
    /// before the empty line is <paramref name="closed"/>.
    /// </summary>
    private async Task ReadFieldsAsync(HttpHeaders fields, string what, ResponseError closed, CancellationToken cancellationToken)
    {
        long sectionBytes = 0;
        int count = 0;
        while (true)
        {
            byte[] raw = await ReadLineAsync($"{what} line", closed, cancellationToken);
            sectionBytes += raw.Length;
            if (sectionBytes > _options.MaxHeaderBytes)
            {
                throw new MalformedResponseException(ResponseError.HeadersTooLarge, $"The {what} section is larger than {_options.MaxHeaderBytes} bytes.");
            }

            int length = ContentLength(raw);
            if (length == 0)
            {
                return;
            }

            if (++count > _options.MaxHeaderCount)
            {
                throw new MalformedResponseException(ResponseError.TooManyHeaders, $"The response has more than {_options.MaxHeaderCount} {what} fields.");
            }

            fields.AddParsed(HttpSyntax.ParseFieldLine(raw.AsSpan(0, length)));
        }
    }

    /// <summary>
    /// Reads one line with its terminator, enforcing <see cref="HttpClientOptions.MaxLineLength"/>; a stream that ends
    /// first is <paramref name="closed"/> (<see cref="ResponseError.ConnectionClosed"/> in the head,
    /// <see cref="ResponseError.TruncatedBody"/> in a chunked body), or <see cref="ResponseError.NoResponse"/> if nothing
    /// of the response had come yet.
    /// </summary>
    private async Task<byte[]> ReadLineAsync(string what, ResponseError closed, CancellationToken cancellationToken)
    {
        byte[] line;
        try
        {
            line = await _reader.ReadLineAsync(cancellationToken);
        }
        catch (LimitOverrunException ex)
        {
            ResponseStarted = true;
            throw new MalformedResponseException(
                ResponseError.LineTooLong, $"The {what} is longer than {_options.MaxLineLength} bytes (the reader gave up at {_reader.Limit}).", innerException: ex);
        }

        if (line.Length > 0)
        {
            ResponseStarted = true;
        }

        if (!HttpSyntax.TryStripTerminator(line, out ReadOnlySpan<byte> content))
        {
            throw line.Length == 0 && !ResponseStarted
                ? new MalformedResponseException(ResponseError.NoResponse, "The server closed the connection without sending a response.")
                : HttpSyntax.Malformed(closed, $"The connection closed in the middle of the {what}.", line);
        }

        if (content.Length > _options.MaxLineLength)
        {
            throw HttpSyntax.Malformed(ResponseError.LineTooLong, $"The {what} is {content.Length} bytes long; the limit is {_options.MaxLineLength}.", content);
        }

        return line;
    }

    /// <summary>How many bytes of <paramref name="line"/> come before its CRLF or LF.</summary>
    private static int ContentLength(byte[] line)
    {
        HttpSyntax.TryStripTerminator(line, out ReadOnlySpan<byte> content);
        return content.Length;
    }

    /// <summary>Sets the response's framing and keep-alive by RFC 9112 §6.3 and §9.3; returns the Content-Length, if any.</summary>
    private static void DecideFraming(HttpRequest request, HttpResponse response, out long contentLength)
    {
        contentLength = -1;
        bool chunkedAndLength = false;
        string[] codings = response.Headers.GetListElements("Transfer-Encoding").ToArray();
        if (request.ExpectsNoBody || response.StatusCode is (>= 100 and < 200) or 204 or 304)
        {
            response.Framing = BodyFraming.None;
        }
        else if (codings.Length > 0)
        {
            // Chunked must be the final coding for the length to be known; otherwise the body runs until close.
            response.Framing = codings[^1].Equals("chunked", StringComparison.OrdinalIgnoreCase) ? BodyFraming.Chunked : BodyFraming.UntilClose;

            // Both framings at once is how requests get smuggled: Transfer-Encoding wins, and the connection is not reused.
            chunkedAndLength = response.Headers.Contains("Content-Length");
        }
        else if (HttpSyntax.ParseContentLength(response.Headers) is long length)
        {
            response.Framing = BodyFraming.ContentLength;
            contentLength = length;
        }
        else
        {
            response.Framing = BodyFraming.UntilClose;
        }

        bool persistent = response.Version == "HTTP/1.1"
            ? !response.Headers.HasToken("Connection", "close")
            : response.Headers.HasToken("Connection", "keep-alive");
        response.KeepAlive = persistent
            && request.KeepAlive
            && response.Framing != BodyFraming.UntilClose
            && !chunkedAndLength
            && response.StatusCode != 101;
    }

    private async Task ReadBodyAsync(HttpResponse response, long contentLength, Stream? destination, CancellationToken cancellationToken)
    {
        if (response.Framing == BodyFraming.None)
        {
            response.Body = s_emptyBody;
            return;
        }

        // Without a destination the body is buffered once; Content-Length sizes the buffer (within reason: a lying
        // header must not make us allocate gigabytes before a byte arrives).
        MemoryStream? buffered = null;
        if (destination is null)
        {
            int capacity = response.Framing == BodyFraming.ContentLength ? (int)Math.Min(contentLength, 16 * 1024 * 1024) : 0;
            destination = buffered = new MemoryStream(capacity);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(_options.CopyBufferSize);
        try
        {
            switch (response.Framing)
            {
                case BodyFraming.ContentLength:
                    await CopyExactlyAsync(contentLength, destination, buffer, response, cancellationToken);
                    break;
                case BodyFraming.Chunked:
                    await CopyChunkedAsync(destination, buffer, response, cancellationToken);
                    break;
                default:
                    await CopyToEndAsync(destination, buffer, response, cancellationToken);
                    break;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        response.Body = buffered is null ? s_emptyBody : buffered.GetBuffer().AsMemory(0, (int)buffered.Length);
    }

    /// <summary>Copies exactly <paramref name="count"/> bytes (a Content-Length body, or one chunk's data).</summary>
    private async Task CopyExactlyAsync(long count, Stream destination, byte[] buffer, HttpResponse response, CancellationToken cancellationToken)
    {
        long remaining = count;
        while (remaining > 0)
        {
            int read = await _reader.ReadAsync(buffer.AsMemory(0, (int)Math.Min(remaining, buffer.Length)), cancellationToken);
            if (read == 0)
            {
                throw new MalformedResponseException(
                    ResponseError.TruncatedBody,
                    $"The connection closed after {response.BodyLength} body bytes, {remaining} short of the {(response.Framing == BodyFraming.Chunked ? "chunk" : "Content-Length")}.");
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            response.BodyLength += read;
            remaining -= read;
        }
    }

    /// <summary>Copies a chunked body, then reads the trailer section into <see cref="HttpResponse.Trailers"/>.</summary>
    private async Task CopyChunkedAsync(Stream destination, byte[] buffer, HttpResponse response, CancellationToken cancellationToken)
    {
        while (true)
        {
            byte[] sizeLine = await ReadLineAsync("chunk-size line", ResponseError.TruncatedBody, cancellationToken);
            long size = HttpSyntax.ParseChunkSize(sizeLine.AsSpan(0, ContentLength(sizeLine)));
            if (size == 0)
            {
                await ReadFieldsAsync(response.Trailers, "trailer", ResponseError.TruncatedBody, cancellationToken);
                return;
            }

            await CopyExactlyAsync(size, destination, buffer, response, cancellationToken);
            byte[] end = await ReadLineAsync("CRLF after chunk data", ResponseError.TruncatedBody, cancellationToken);
            if (ContentLength(end) != 0)
            {
                throw HttpSyntax.Malformed(ResponseError.InvalidChunk, $"The {size}-byte chunk's data is not followed by CRLF.", end);
            }
        }
    }

    /// <summary>Copies everything up to the server's close (a body with neither Content-Length nor chunked framing).</summary>
    private async Task CopyToEndAsync(Stream destination, byte[] buffer, HttpResponse response, CancellationToken cancellationToken)
    {
        while (true)
        {
            int read = await _reader.ReadAsync(buffer.AsMemory(), cancellationToken);
            if (read == 0)
            {
                return;
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            response.BodyLength += read;
        }
    }
}
