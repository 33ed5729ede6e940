namespace AsyncNet.Samples.Http;

/// <summary>What was wrong with a response (see <see cref="MalformedResponseException.Error"/>).</summary>
public enum ResponseError
{
    /// <summary>The server closed the connection before sending any byte of a response.</summary>
    NoResponse,

    /// <summary>The connection closed in the middle of the status line or the headers.</summary>
    ConnectionClosed,

    /// <summary>The status line is not <c>HTTP/1.x NNN reason</c>.</summary>
    MalformedStatusLine,

    /// <summary>The status line names an HTTP version other than 1.x.</summary>
    UnsupportedVersion,

    /// <summary>A header or trailer line is not <c>name: value</c> with a token name and a clean value.</summary>
    MalformedHeader,

    /// <summary>A status, header, chunk-size or trailer line is longer than <see cref="HttpClientOptions.MaxLineLength"/>.</summary>
    LineTooLong,

    /// <summary>The header or trailer section is larger than <see cref="HttpClientOptions.MaxHeaderBytes"/>.</summary>
    HeadersTooLarge,

    /// <summary>There are more header or trailer fields than <see cref="HttpClientOptions.MaxHeaderCount"/>.</summary>
    TooManyHeaders,

    /// <summary><c>Content-Length</c> is not a number, or is given twice with different values.</summary>
    InvalidContentLength,

    /// <summary>A chunk-size line is not hexadecimal (with optional extensions), or chunk data is not followed by CRLF.</summary>
    InvalidChunk,

    /// <summary>
    /// The connection closed before the whole body arrived: inside a Content-Length body, or anywhere in a chunked body
    /// before the empty line that ends its trailer section.
    /// </summary>
    TruncatedBody,
}

/// <summary>The server sent something that is not a valid HTTP/1.x response; the message says what and quotes the line.</summary>
/// <remarks>The connection is closed when this is thrown: after a framing error nothing more on it can be trusted.</remarks>
public sealed class MalformedResponseException : IOException
{
    private const int MaxQuotedLine = 120;

    /// <summary>Creates the exception.</summary>
    /// <param name="error">What kind of fault it is.</param>
    /// <param name="message">What was wrong, in words.</param>
    /// <param name="line">The offending line as received (shortened if long), or <see langword="null"/>.</param>
    /// <param name="innerException">The reader's exception behind it (a limit overrun, an incomplete read), or <see langword="null"/>.</param>
    public MalformedResponseException(ResponseError error, string message, string? line = null, Exception? innerException = null)
        : base(line is null ? message : $"{message} Line: \"{Quote(line)}\".", innerException)
    {
        Error = error;
        Line = line is null ? null : Quote(line);
    }

    /// <summary>What kind of fault it is.</summary>
    public ResponseError Error { get; }

    /// <summary>The offending line (control characters escaped, at most 120 characters), or <see langword="null"/>.</summary>
    public string? Line { get; }

    private static string Quote(string line)
    {
        string shown = line.Length > MaxQuotedLine ? line[..MaxQuotedLine] + "…" : line;
        return string.Concat(shown.Select(c => c < ' ' || c == '\x7f' ? $"\\x{(int)c:x2}" : c.ToString()));
    }
}
