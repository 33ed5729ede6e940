using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AsyncNet.Cli;

/// <summary>
/// An address on the command line: <c>HOST:PORT</c> (an IP literal, <c>[v6]</c> in brackets, or a name) or
/// <c>unix:PATH</c> for a Unix socket.
/// </summary>
internal static class EndPointText
{
    private const string UnixPrefix = "unix:";

    /// <summary>Reads an address.</summary>
    /// <param name="text">The text.</param>
    /// <param name="listening">Whether it is listened on: port 0 (the OS chooses) is allowed.</param>
    /// <param name="endPoint">
    /// An <see cref="IPEndPoint"/> for an IP literal, a <see cref="DnsEndPoint"/> for a name (resolved where it is used),
    /// or a <see cref="UnixDomainSocketEndPoint"/>.
    /// </param>
    /// <param name="error">Why the text is not an address, or <see langword="null"/>.</param>
    /// <returns>Whether the text is an address.</returns>
    public static bool TryParse(string text, bool listening, [NotNullWhen(true)] out EndPoint? endPoint, [NotNullWhen(false)] out string? error)
    {
        endPoint = null;
        if (text.StartsWith(UnixPrefix, StringComparison.Ordinal))
        {
            string path = text[UnixPrefix.Length..];
            if (path.Length == 0)
            {
                error = "a Unix socket needs a path after 'unix:'";
                return false;
            }

            endPoint = new UnixDomainSocketEndPoint(path);
            error = null;
            return true;
        }

        int colon = text.LastIndexOf(':');
        string host = colon > 0 ? text[..colon] : string.Empty;
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        int lowest = listening ? 0 : 1;
        if (host.Length == 0
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || port < lowest
            || port > IPEndPoint.MaxPort)
        {
            error = $"expected HOST:PORT (a port from {lowest} to {IPEndPoint.MaxPort}) or unix:PATH";
            return false;
        }

        endPoint = IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
        error = null;
        return true;
    }

    /// <summary>Shows an address as the command line spells it: "127.0.0.1:9000", "[::1]:9000", "unix:/tmp/s".</summary>
    /// <param name="endPoint">The address.</param>
    /// <returns>Its text.</returns>
    public static string Show(EndPoint endPoint) => endPoint switch
    {
        UnixDomainSocketEndPoint unix => UnixPrefix + unix,
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "?",
    };
}
