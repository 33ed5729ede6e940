namespace AsyncNet.Samples.Http;

/// <summary>A request to send: method, URL, extra headers and an optional body.</summary>
/// <remarks>
/// The connection adds <c>Host</c>, <c>User-Agent</c>, <c>Accept</c> and <c>Connection</c> unless <see cref="Headers"/>
/// already holds them, and <c>Content-Length</c> when there is a body (or the method is POST or PUT).
/// </remarks>
public sealed class HttpRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="method">The method, a token such as <c>GET</c>; methods are case-sensitive.</param>
    /// <param name="url">Where to send it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="method"/> or <paramref name="url"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="method"/> is not a token.</exception>
    public HttpRequest(string method, HttpUrl url)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(url);
        if (!HttpSyntax.IsToken(method))
        {
            throw new ArgumentException($"'{method}' is not a valid method.", nameof(method));
        }

        Method = method;
        Url = url;
    }

    /// <summary>The method.</summary>
    public string Method { get; }

    /// <summary>The URL.</summary>
    public HttpUrl Url { get; }

    /// <summary>Extra header fields, sent after the ones the connection adds.</summary>
    public HttpHeaders Headers { get; } = new();

    /// <summary>The body; empty for none. Sent with <c>Content-Length</c>.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>Whether to ask for the connection to stay open (<c>Connection: keep-alive</c>) or to close after the response (<c>close</c>). The default is <see langword="true"/>.</summary>
    public bool KeepAlive { get; init; } = true;

    /// <summary>Whether the method is idempotent (RFC 9110 §9.2.2), so a request that got no answer on a reused connection may be sent again.</summary>
    public bool IsIdempotent => Method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";

    /// <summary>Whether the response to this request never has a body, whatever its headers say (RFC 9112 §6.3).</summary>
    internal bool ExpectsNoBody => Method == "HEAD";

    /// <summary>A GET of <paramref name="url"/>.</summary>
    /// <param name="url">An http URL (see <see cref="HttpUrl.Parse"/>).</param>
    /// <returns>The request.</returns>
    /// <exception cref="FormatException">The URL is not valid.</exception>
    /// <exception cref="NotSupportedException">The URL is https or another scheme.</exception>
    public static HttpRequest Get(string url) => new("GET", HttpUrl.Parse(url));

    /// <summary>A HEAD of <paramref name="url"/>.</summary>
    /// <param name="url">An http URL (see <see cref="HttpUrl.Parse"/>).</param>
    /// <returns>The request.</returns>
    /// <exception cref="FormatException">The URL is not valid.</exception>
    /// <exception cref="NotSupportedException">The URL is https or another scheme.</exception>
    public static HttpRequest Head(string url) => new("HEAD", HttpUrl.Parse(url));

    /// <inheritdoc/>
    public override string ToString() => $"{Method} {Url}";
}
