using System.Globalization;
using System.Net.Sockets;
using AsyncNet.Errors;

namespace AsyncNet.Transports;

/// <summary>
/// A connection was closed because it stayed idle past its timeout (<see cref="IdleOptions.CloseOnIdle"/>): nothing was
/// received (<see cref="IdleKind.Read"/>), or nothing received or sent (<see cref="IdleKind.All"/>), for <see cref="Timeout"/>.
/// </summary>
/// <remarks>
/// The transport passes it to <c>ConnectionLost</c>; a <c>StreamReader</c>'s reads and a <c>StreamWriter</c>'s
/// <c>DrainAsync</c> and <c>WaitClosedAsync</c> then throw it. Its <see cref="NetworkException.SocketError"/> is
/// <see cref="SocketError.TimedOut"/>.
/// </remarks>
public sealed class IdleTimeoutException : NetworkException
{
    /// <summary>Creates the exception with a message naming the kind, the timeout and the peer.</summary>
    /// <param name="kind">Which direction stayed quiet.</param>
    /// <param name="timeout">The configured timeout that passed.</param>
    /// <param name="address">The peer ("127.0.0.1:8080" or a Unix socket path), if known.</param>
    public IdleTimeoutException(IdleKind kind, TimeSpan timeout, string? address = null)
        : base(FormatMessage(kind, timeout, address), SocketError.TimedOut, address)
    {
        Kind = kind;
        Timeout = timeout;
    }

    /// <summary>Which direction stayed quiet: <see cref="IdleKind.Read"/> or <see cref="IdleKind.All"/> (write-idle never closes).</summary>
    public IdleKind Kind { get; }

    /// <summary>The configured timeout that passed.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Formats a timeout for messages: "250 ms" below ten seconds, else "12.5 s".</summary>
    internal static string FormatDuration(TimeSpan duration) =>
        duration < TimeSpan.FromSeconds(10)
            ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0.###} ms")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.###} s");

    private static string FormatMessage(IdleKind kind, TimeSpan timeout, string? address)
    {
        string peer = address is null ? "the peer" : address;
        string what = kind switch
        {
            IdleKind.Read => $"nothing received from {peer}",
            IdleKind.Write => $"nothing sent to {peer}",
            _ => $"nothing received from or sent to {peer}",
        };
        return $"{kind} idle timeout: {what} for {FormatDuration(timeout)}; the connection was closed.";
    }
}
