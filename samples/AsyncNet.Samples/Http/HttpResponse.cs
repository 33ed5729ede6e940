namespace AsyncNet.Samples.Http;

/// <summary>How a response's body was delimited (RFC 9112 §6.3).</summary>
public enum BodyFraming
{
    /// <summary>No body: a HEAD request, or a 1xx, 204 or 304 status.</summary>
    None,

    /// <summary>Exactly <c>Content-Length</c> bytes.</summary>
    ContentLength,

    /// <summary><c>Transfer-Encoding: chunked</c>: size-prefixed chunks, a zero-size last chunk and optional trailers.</summary>
    Chunked,

    /// <summary>Neither: the body runs until the server closes the connection, which therefore cannot be reused.</summary>
    UntilClose,
}

/// <summary>A received response: status line, headers, trailers and the body (or how much of it went to a destination stream).</summary>
public sealed class HttpResponse
{
    internal HttpResponse(string version, int statusCode, string reasonPhrase)
    {
        Version = version;
        StatusCode = statusCode;
        ReasonPhrase = reasonPhrase;
    }

    /// <summary>The protocol version the server answered with: "HTTP/1.1" or "HTTP/1.0".</summary>
    public string Version { get; }

    /// <summary>The status code, 100 to 599.</summary>
    public int StatusCode { get; }

    /// <summary>The reason phrase, possibly empty.</summary>
    public string ReasonPhrase { get; }

    /// <summary>The status line as received, without its CRLF (for example "HTTP/1.1 200 OK").</summary>
    public string StatusLine => ReasonPhrase.Length == 0 ? $"{Version} {StatusCode}" : $"{Version} {StatusCode} {ReasonPhrase}";

    /// <summary>The header fields.</summary>
    public HttpHeaders Headers { get; } = new();

    /// <summary>The trailer fields after a chunked body; empty otherwise.</summary>
    public HttpHeaders Trailers { get; } = new();

    /// <summary>How the body was delimited.</summary>
    public BodyFraming Framing { get; internal set; }

    /// <summary>How many body bytes arrived (after removing the chunked framing).</summary>
    public long BodyLength { get; internal set; }

    /// <summary>The body, when no destination stream was given; empty when it went to one.</summary>
    /// <remarks>It may be a slice of a larger array (the body is buffered once, not copied again to trim it).</remarks>
    public ReadOnlyMemory<byte> Body { get; internal set; }

    /// <summary>Whether the connection stayed open for another request after this response.</summary>
    public bool KeepAlive { get; internal set; }

    /// <summary>Whether the request went over a connection that had served earlier requests.</summary>
    public bool ConnectionReused { get; internal set; }

    /// <inheritdoc/>
    /// <returns>For example "HTTP/1.1 200 OK (Chunked, 5120 bytes, keep-alive)".</returns>
    public override string ToString() => $"{StatusLine} ({Framing}, {BodyLength} bytes{(KeepAlive ? ", keep-alive" : string.Empty)})";
}
