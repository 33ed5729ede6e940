using System.Net.Sockets;
using AsyncNet.Errors;

namespace AsyncNet.Transports;

/// <summary>
/// A graceful close gave up: the peer did not take the bytes still queued within <see cref="Timeout"/>
/// (<see cref="StreamTransportOptions.CloseTimeout"/>), so the connection was aborted and those bytes dropped.
/// </summary>
/// <remarks>
/// The transport passes it to <c>ConnectionLost</c>; a <c>StreamWriter</c>'s <c>WaitClosedAsync</c> then throws it.
/// Its <see cref="NetworkException.SocketError"/> is <see cref="SocketError.TimedOut"/>.
/// </remarks>
public sealed class CloseTimeoutException : NetworkException
{
    /// <summary>Creates the exception with a message naming the timeout, the bytes dropped and the peer.</summary>
    /// <param name="timeout">The configured timeout that passed.</param>
    /// <param name="unsent">How many queued bytes were dropped.</param>
    /// <param name="address">The peer ("127.0.0.1:8080" or a Unix socket path), if known.</param>
    public CloseTimeoutException(TimeSpan timeout, long unsent, string? address = null)
        : base(
            $"Close timeout: {address ?? "the peer"} did not take the last {unsent} queued bytes within {IdleTimeoutException.FormatDuration(timeout)}; the connection was aborted.",
            SocketError.TimedOut,
            address)
    {
        Timeout = timeout;
        Unsent = unsent;
    }

    /// <summary>The configured timeout that passed.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>How many queued bytes were dropped.</summary>
    public long Unsent { get; }
}
