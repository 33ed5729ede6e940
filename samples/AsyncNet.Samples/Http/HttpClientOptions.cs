using AsyncNet.Streams;

namespace AsyncNet.Samples.Http;

/// <summary>Settings of an <see cref="HttpClientConnection"/> and a <see cref="SimpleHttpClient"/>: the limits that keep a hostile server from making the client buffer without bound.</summary>
public sealed class HttpClientOptions
{
    /// <summary>The defaults.</summary>
    public static HttpClientOptions Default { get; } = new();

    /// <summary>
    /// The longest status line, header line, chunk-size line or trailer line, without its CRLF. The default is 8 KiB.
    /// </summary>
    /// <remarks>
    /// The connection's reader gets a limit of at least this (<see cref="ReaderLimit"/>), so an unterminated line is cut
    /// off by the reader's <see cref="LimitOverrunException"/> instead of being buffered to the end.
    /// </remarks>
    public int MaxLineLength { get; init; } = 8 * 1024;

    /// <summary>The most bytes the header section (or the trailer section) may take in all. The default is 64 KiB.</summary>
    public int MaxHeaderBytes { get; init; } = 64 * 1024;

    /// <summary>The most header fields (or trailer fields) a response may have. The default is 100.</summary>
    public int MaxHeaderCount { get; init; } = 100;

    /// <summary>The <c>User-Agent</c> sent with every request. The default is "AsyncNet.Samples.Http/1.0".</summary>
    public string UserAgent { get; init; } = "AsyncNet.Samples.Http/1.0";

    /// <summary>The size of the buffer a body is copied through into its destination stream. The default is 64 KiB.</summary>
    public int CopyBufferSize { get; init; } = 64 * 1024;

    /// <summary>
    /// The stream reader's limit: <see cref="MaxLineLength"/>, but no less than <see cref="StreamOptions.DefaultLimit"/>,
    /// because the limit is also the reader's flow-control mark and a small one would stall large bodies.
    /// </summary>
    public int ReaderLimit => Math.Max(MaxLineLength, StreamOptions.DefaultLimit);

    /// <summary>Throws if a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit or the buffer size is below 1, or the user agent holds a control character.</exception>
    internal void Validate()
    {
        if (MaxLineLength < 1 || MaxHeaderBytes < 1 || MaxHeaderCount < 1 || CopyBufferSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(HttpClientOptions), "Every limit and the copy buffer size must be at least 1.");
        }

        if (!HttpSyntax.IsFieldValue(UserAgent))
        {
            throw new ArgumentOutOfRangeException(nameof(UserAgent), "The user agent contains a control character.");
        }
    }
}
