using System.Collections;

namespace AsyncNet.Samples.Http;

/// <summary>One header field as it appeared on the wire (the value without surrounding whitespace).</summary>
/// <param name="Name">The field name, as the peer spelled it.</param>
/// <param name="Value">The field value, decoded as Latin-1 (octets map one to one).</param>
public readonly record struct HttpHeader(string Name, string Value);

/// <summary>
/// Header fields in the order they were sent or received, looked up case-insensitively. A name may occur several
/// times; <see cref="TryGetValue"/> joins them with <c>", "</c> as RFC 9110 §5.3 allows.
/// </summary>
public sealed class HttpHeaders : IReadOnlyList<HttpHeader>
{
    private readonly List<HttpHeader> _fields = [];

    /// <summary>How many fields there are.</summary>
    public int Count => _fields.Count;

    /// <summary>The field at <paramref name="index"/>, in wire order.</summary>
    /// <param name="index">The position.</param>
    public HttpHeader this[int index] => _fields[index];

    /// <summary>Adds a field after the others.</summary>
    /// <param name="name">A token (RFC 9110 §5.1): letters, digits and <c>!#$%&amp;'*+-.^_`|~</c>.</param>
    /// <param name="value">The value; it may not contain CR, LF or other control characters except tab.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is not a token, or the value holds a control character (it could split the message).</exception>
    public void Add(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (!HttpSyntax.IsToken(name))
        {
            throw new ArgumentException($"'{name}' is not a valid header name.", nameof(name));
        }

        if (!HttpSyntax.IsFieldValue(value))
        {
            throw new ArgumentException($"The value of '{name}' contains a control character.", nameof(value));
        }

        _fields.Add(new HttpHeader(name, value.Trim(' ', '\t')));
    }

    /// <summary>Whether a field named <paramref name="name"/> is present.</summary>
    /// <param name="name">The name, compared case-insensitively.</param>
    /// <returns><see langword="true"/> if at least one field has that name.</returns>
    public bool Contains(string name) => _fields.Exists(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The values of every field named <paramref name="name"/>, in order.</summary>
    /// <param name="name">The name, compared case-insensitively.</param>
    /// <returns>The values; empty if there is none.</returns>
    public IEnumerable<string> GetValues(string name) =>
        _fields.Where(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value);

    /// <summary>Gets the value of <paramref name="name"/>, the values of repeated fields joined with <c>", "</c>.</summary>
    /// <param name="name">The name, compared case-insensitively.</param>
    /// <param name="value">The value, or <see langword="null"/> when absent.</param>
    /// <returns>Whether the field is present.</returns>
    public bool TryGetValue(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        string[] values = GetValues(name).ToArray();
        value = values.Length == 0 ? null : string.Join(", ", values);
        return value is not null;
    }

    /// <summary>
    /// The comma-separated list elements of every field named <paramref name="name"/>, trimmed, empty ones skipped
    /// (RFC 9110 §5.6.1): <c>Connection: keep-alive, Upgrade</c> gives "keep-alive" and "Upgrade".
    /// </summary>
    /// <param name="name">The name, compared case-insensitively.</param>
    /// <returns>The elements, in order.</returns>
    public IEnumerable<string> GetListElements(string name) =>
        GetValues(name).SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Whether the list field <paramref name="name"/> contains <paramref name="token"/>, case-insensitively (<c>Connection: close</c>).</summary>
    /// <param name="name">The field name.</param>
    /// <param name="token">The list element to look for.</param>
    /// <returns>Whether it is there.</returns>
    public bool HasToken(string name, string token) =>
        GetListElements(name).Any(e => e.Equals(token, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc/>
    public IEnumerator<HttpHeader> GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Adds a received field whose syntax the parser already checked.</summary>
    internal void AddParsed(HttpHeader header) => _fields.Add(header);

    /// <inheritdoc/>
    /// <returns>The fields as they go on the wire, one "Name: value" per line.</returns>
    public override string ToString() => string.Concat(_fields.Select(f => $"{f.Name}: {f.Value}\r\n"));
}
