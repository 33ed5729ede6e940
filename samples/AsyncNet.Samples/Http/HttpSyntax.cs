using System.Text;

namespace AsyncNet.Samples.Http;

/// <summary>
/// The HTTP/1.1 message syntax this client reads and writes (RFC 9112), on raw line bytes. Every parser here takes a
/// line <em>without</em> its terminator and throws <see cref="MalformedResponseException"/> naming the fault.
/// </summary>
/// <remarks>
/// <code>
/// status-line  = HTTP-version SP status-code SP [ reason-phrase ]      "HTTP/1.1 200 OK"
/// field-line   = field-name ":" OWS field-value OWS                    "Content-Length: 5"
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF          "1a;name=value" CRLF 26 bytes CRLF
/// last-chunk   = 1*("0") [ chunk-ext ] CRLF  trailer-section  CRLF
/// </code>
/// Lines end in CRLF; a bare LF is accepted too (RFC 9112 §2.2 lets a recipient do so), a bare CR is not.
/// </remarks>
internal static class HttpSyntax
{
    // A chunk size of 15 hex digits is at most 2^60 - 1: far beyond any real body, and it cannot overflow a long.
    private const int MaxChunkSizeDigits = 15;

    // Content-Length of 18 decimal digits cannot overflow a long either.
    private const int MaxContentLengthDigits = 18;

    /// <summary>Whether <paramref name="text"/> is a non-empty token (RFC 9110 §5.6.2).</summary>
    public static bool IsToken(string text) => text.Length > 0 && text.All(c => c < 128 && IsTokenChar((byte)c));

    /// <summary>Whether <paramref name="text"/> may be sent as a field value: no control characters but tab, nothing above Latin-1.</summary>
    public static bool IsFieldValue(string text) => text.All(c => c <= 0xFF && (c == '\t' || (c >= ' ' && c != '\x7f')));

    /// <summary>The line without its LF and the CR before it, or <see langword="false"/> if it has no LF (the stream ended).</summary>
    public static bool TryStripTerminator(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> content)
    {
        if (line.IsEmpty || line[^1] != (byte)'\n')
        {
            content = line;
            return false;
        }

        content = line[..^1];
        if (!content.IsEmpty && content[^1] == (byte)'\r')
        {
            content = content[..^1];
        }

        return true;
    }

    /// <summary>The request line and header section, ready to write.</summary>
    public static byte[] EncodeRequestHead(HttpRequest request, HttpClientOptions options)
    {
        var head = new StringBuilder(256);
        head.Append(request.Method).Append(' ').Append(request.Url.PathAndQuery).Append(" HTTP/1.1\r\n");
        AppendUnlessGiven(head, request, "Host", request.Url.Authority);
        AppendUnlessGiven(head, request, "User-Agent", options.UserAgent);
        AppendUnlessGiven(head, request, "Accept", "*/*");
        AppendUnlessGiven(head, request, "Connection", request.KeepAlive ? "keep-alive" : "close");
        if (!request.Body.IsEmpty || request.Method is "POST" or "PUT")
        {
            AppendUnlessGiven(head, request, "Content-Length", request.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (HttpHeader header in request.Headers)
        {
            head.Append(header.Name).Append(": ").Append(header.Value).Append("\r\n");
        }

        head.Append("\r\n");

        // Latin-1: header values are octets; HttpHeaders.Add refused anything above U+00FF.
        return Encoding.Latin1.GetBytes(head.ToString());
    }

    /// <summary>Parses a status line: returns the minor version (0 or 1), the status code and the reason phrase.</summary>
    public static (int MinorVersion, int StatusCode, string Reason) ParseStatusLine(ReadOnlySpan<byte> line)
    {
        // "HTTP/" DIGIT "." DIGIT SP 3DIGIT [ SP reason ]
        if (line.Length < 12 || !line.StartsWith("HTTP/"u8) || !IsDigit(line[5]) || line[6] != (byte)'.' || !IsDigit(line[7]) || line[8] != (byte)' ')
        {
            throw Malformed(ResponseError.MalformedStatusLine, "The status line is not 'HTTP/1.x NNN reason'.", line);
        }

        if (line[5] != (byte)'1')
        {
            throw Malformed(ResponseError.UnsupportedVersion, $"The server answered with HTTP/{(char)line[5]}.{(char)line[7]}; this client speaks HTTP/1.x only.", line);
        }

        if (!IsDigit(line[9]) || !IsDigit(line[10]) || !IsDigit(line[11]) || (line.Length > 12 && line[12] != (byte)' '))
        {
            throw Malformed(ResponseError.MalformedStatusLine, "The status code is not three digits.", line);
        }

        int status = ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
        if (status is < 100 or > 599)
        {
            throw Malformed(ResponseError.MalformedStatusLine, $"The status code {status} is outside 100-599.", line);
        }

        ReadOnlySpan<byte> reason = line.Length > 13 ? line[13..] : [];
        if (ContainsControl(reason))
        {
            throw Malformed(ResponseError.MalformedStatusLine, "The reason phrase contains a control character.", line);
        }

        return (line[7] - '0', status, Encoding.Latin1.GetString(reason));
    }

    /// <summary>Parses a header or trailer line (<c>name: value</c>).</summary>
    public static HttpHeader ParseFieldLine(ReadOnlySpan<byte> line)
    {
        if (line[0] is (byte)' ' or (byte)'\t')
        {
            throw Malformed(ResponseError.MalformedHeader, "A header line starts with whitespace (obsolete line folding is not accepted).", line);
        }

        int colon = line.IndexOf((byte)':');
        if (colon < 0)
        {
            throw Malformed(ResponseError.MalformedHeader, "A header line has no colon.", line);
        }

        ReadOnlySpan<byte> name = line[..colon];
        foreach (byte b in name)
        {
            if (!IsTokenChar(b))
            {
                // Whitespace before the colon is a smuggling vector (RFC 9112 §5.1): refused like any other non-token byte.
                throw Malformed(ResponseError.MalformedHeader, "A header name is empty or holds a character that is not allowed in a token.", line);
            }
        }

        if (name.IsEmpty)
        {
            throw Malformed(ResponseError.MalformedHeader, "A header name is empty.", line);
        }

        ReadOnlySpan<byte> value = line[(colon + 1)..].Trim(" \t"u8);
        if (ContainsControl(value))
        {
            throw Malformed(ResponseError.MalformedHeader, "A header value contains a control character.", line);
        }

        return new HttpHeader(Encoding.ASCII.GetString(name), Encoding.Latin1.GetString(value));
    }

    /// <summary>Parses a chunk-size line: hex digits, optional whitespace and <c>;extensions</c>, which are ignored.</summary>
    public static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        int digits = 0;
        long size = 0;
        while (digits < line.Length && HexValue(line[digits]) is int value and >= 0)
        {
            if (++digits > MaxChunkSizeDigits)
            {
                throw Malformed(ResponseError.InvalidChunk, $"The chunk size has more than {MaxChunkSizeDigits} hex digits.", line);
            }

            size = (size << 4) | (uint)value;
        }

        if (digits == 0)
        {
            throw Malformed(ResponseError.InvalidChunk, "The chunk-size line does not start with a hexadecimal size.", line);
        }

        ReadOnlySpan<byte> rest = line[digits..].TrimStart(" \t"u8);
        if (!rest.IsEmpty && (rest[0] != (byte)';' || ContainsControl(rest)))
        {
            throw Malformed(ResponseError.InvalidChunk, "The chunk size is followed by something other than ';extensions'.", line);
        }

        return size;
    }

    /// <summary>Reads <c>Content-Length</c>: one value, or a list or several fields of the same value (RFC 9110 §8.6).</summary>
    public static long? ParseContentLength(HttpHeaders headers)
    {
        long? length = null;
        foreach (string value in headers.GetValues("Content-Length"))
        {
            foreach (string element in value.Split(',', StringSplitOptions.TrimEntries))
            {
                if (element.Length is 0 or > MaxContentLengthDigits || !element.All(char.IsAsciiDigit))
                {
                    throw new MalformedResponseException(ResponseError.InvalidContentLength, $"Content-Length '{value}' is not a decimal number of bytes.");
                }

                long parsed = long.Parse(element, System.Globalization.CultureInfo.InvariantCulture);
                if (length is long earlier && earlier != parsed)
                {
                    throw new MalformedResponseException(ResponseError.InvalidContentLength, $"Content-Length is given as both {earlier} and {parsed}.");
                }

                length = parsed;
            }
        }

        return length;
    }

    public static MalformedResponseException Malformed(ResponseError error, string message, ReadOnlySpan<byte> line, Exception? innerException = null) =>
        new(error, message, Encoding.Latin1.GetString(line), innerException);

    private static void AppendUnlessGiven(StringBuilder head, HttpRequest request, string name, string value)
    {
        if (!request.Headers.Contains(name))
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    private static bool IsTokenChar(byte b) =>
        char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~"u8.Contains(b);

    // Field values and reason phrases: HTAB, SP, VCHAR and obs-text (0x80-0xFF); no other control bytes, no DEL.
    private static bool ContainsControl(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if ((b < 0x20 && b != (byte)'\t') || b == 0x7F)
            {
                return true;
            }
        }

        return false;
    }
}
