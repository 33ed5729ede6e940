using System.Globalization;
using System.Text;

namespace AsyncNet.Cli.Tests.WireLaws;

/// <summary>
/// One chunked HTTP/1.1 body (RFC 9112 §7.1): its chunks' data, whether their size lines carry an extension, and the
/// trailer fields as <c>Name: value</c>. Compares by value.
/// </summary>
internal sealed record ChunkedBody(IReadOnlyList<string> Chunks, bool Extensions, IReadOnlyList<string> Trailers)
{
    /// <summary>The body on the wire: each chunk's hex size (with <c>;ext=1</c> when asked), CRLF, data, CRLF; then <c>0</c>, the trailers, CRLF.</summary>
    public byte[] Encode()
    {
        var wire = new StringBuilder();
        foreach (string chunk in Chunks)
        {
            wire.Append(chunk.Length.ToString("X", CultureInfo.InvariantCulture)).Append(Extensions ? ";ext=1" : "").Append("\r\n").Append(chunk).Append("\r\n");
        }

        wire.Append(Extensions ? "0;ext=1\r\n" : "0\r\n");
        foreach (string trailer in Trailers)
        {
            wire.Append(trailer).Append("\r\n");
        }

        return Encoding.Latin1.GetBytes(wire.Append("\r\n").ToString());
    }

    public bool Equals(ChunkedBody? other) =>
        other is not null && Extensions == other.Extensions && Chunks.SequenceEqual(other.Chunks) && Trailers.SequenceEqual(other.Trailers);

    public override int GetHashCode() => HashCode.Combine(Chunks.Count, Trailers.Count, Extensions);

    public override string ToString() =>
        $"[{string.Join(", ", Chunks.Select(c => $"{c.Length}B"))}]{(Extensions ? " ext" : "")}{(Trailers.Count > 0 ? $" trailers [{string.Join(", ", Trailers)}]" : "")}";
}
