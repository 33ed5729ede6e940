namespace AsyncNet.Samples.Http;

/// <summary>An <c>http://</c> URL split into what a request needs: where to connect, what to send as <c>Host</c>, and the target.</summary>
/// <remarks>
/// Only plain http: TLS is not part of this sample, so an <c>https://</c> URL is refused with
/// <see cref="NotSupportedException"/> rather than silently sent in the clear. A URL without a scheme is taken as http
/// (as curl does). The fragment is dropped; user information is ignored.
/// </remarks>
public sealed class HttpUrl
{
    private HttpUrl(string host, int port, string authority, string pathAndQuery)
    {
        Host = host;
        Port = port;
        Authority = authority;
        PathAndQuery = pathAndQuery;
    }

    /// <summary>The host to connect to: a DNS name (IDNA-encoded) or an IP literal without brackets.</summary>
    public string Host { get; }

    /// <summary>The TCP port; 80 unless the URL names one.</summary>
    public int Port { get; }

    /// <summary>The <c>Host</c> header's value: the host (IPv6 in brackets) and the port when it is not 80.</summary>
    public string Authority { get; }

    /// <summary>The request target: the path (at least <c>/</c>) and the query, percent-encoded.</summary>
    public string PathAndQuery { get; }

    /// <summary>Parses an absolute http URL.</summary>
    /// <param name="url">For example <c>http://127.0.0.1:8080/index.html?x=1</c> or <c>example.com/x</c>.</param>
    /// <returns>The parsed URL.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="url"/> is null.</exception>
    /// <exception cref="FormatException"><paramref name="url"/> is not a valid absolute URL with a host and a non-zero port.</exception>
    /// <exception cref="NotSupportedException">The scheme is <c>https</c> (TLS is not part of this sample) or another non-http scheme.</exception>
    public static HttpUrl Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        string text = url.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException($"'{url}' is not a valid URL.");
        }

        if (uri.Scheme == Uri.UriSchemeHttps)
        {
            throw new NotSupportedException(
                $"'{url}' is an https URL: TLS is not part of this sample — plain http only.");
        }

        if (uri.Scheme != Uri.UriSchemeHttp)
        {
            throw new NotSupportedException($"'{url}' uses the scheme '{uri.Scheme}': this sample speaks plain http only.");
        }

        if (uri.Port is < 1 or > 65535)
        {
            throw new FormatException($"'{url}' names port {uri.Port}; a port must be 1 to 65535.");
        }

        string host = uri.IdnHost;
        string hostHeader = uri.HostNameType == UriHostNameType.IPv6 ? $"[{host}]" : host;
        string authority = uri.IsDefaultPort ? hostHeader : $"{hostHeader}:{uri.Port}";
        return new HttpUrl(host, uri.Port, authority, uri.PathAndQuery);
    }

    /// <inheritdoc/>
    /// <returns>The URL as it is requested, for example "http://127.0.0.1:8080/index.html".</returns>
    public override string ToString() => $"http://{Authority}{PathAndQuery}";
}
