using System.Net;
using System.Net.Sockets;

namespace AsyncNet.Errors;

/// <summary>Turns OS socket errors into AsyncNet's exception hierarchy: the one place they are classified.</summary>
public static class SocketErrors
{
    /// <summary>Classifies <paramref name="error"/> into a <see cref="NetworkException"/> subclass.</summary>
    /// <param name="error">The OS error.</param>
    /// <param name="operation">What was being done, for the message ("connect", "read", "write", "bind").</param>
    /// <param name="address">The address involved, if known; named in the message.</param>
    /// <param name="innerException">The original exception, if any.</param>
    /// <returns>The exception to throw or to report.</returns>
    public static NetworkException Classify(SocketError error, string operation, string? address, Exception? innerException = null)
    {
        string where = address is null ? string.Empty : $" {(operation is "bind" or "listen" ? "on" : "to")} {address}";
        return error switch
        {
            SocketError.ConnectionRefused => new ConnectionRefusedException($"Connection refused: {operation}{where} failed; nothing is listening there.", address, innerException),

            // A Unix-socket connect to a path with no socket file (ENOENT, which .NET names AddressNotAvailable): nothing listens there either.
            SocketError.AddressNotAvailable when operation == "connect" && address is not null && address.Contains('/', StringComparison.Ordinal) =>
                new ConnectionRefusedException($"Connection refused: {operation}{where} failed; no socket file exists there.", address, innerException),
            SocketError.ConnectionReset => new ConnectionResetException($"Connection reset by peer during {operation}{where}.", address, innerException),
            SocketError.ConnectionAborted or SocketError.OperationAborted => new ConnectionAbortedException($"Connection aborted during {operation}{where}.", address, innerException),
            SocketError.Shutdown => new BrokenPipeException($"Broken pipe: {operation}{where} after the connection was shut down.", address, innerException),
            SocketError.TimedOut => new ConnectionTimedOutException($"Timed out: {operation}{where}.", address, innerException),
            SocketError.AddressAlreadyInUse => new AddressInUseException($"Address already in use: cannot {operation}{where}.", address, innerException),
            SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => new NameResolutionException($"Name not resolved: {address ?? "(unknown host)"}.", address, innerException),
            _ => new NetworkException($"{operation}{where} failed: {error}.", error, address, innerException),
        };
    }

    /// <summary>Classifies a <see cref="SocketException"/>, keeping it as the inner exception.</summary>
    /// <param name="exception">The exception .NET raised.</param>
    /// <param name="operation">What was being done.</param>
    /// <param name="address">The address involved, if known.</param>
    /// <returns>The exception to throw or to report.</returns>
    public static NetworkException Classify(SocketException exception, string operation, string? address)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return Classify(exception.SocketErrorCode, operation, address, exception);
    }

    /// <summary>Formats an endpoint for messages: "127.0.0.1:80", "[::1]:80" or a Unix socket path.</summary>
    /// <param name="endPoint">The endpoint.</param>
    /// <returns>The text, or null for a null endpoint.</returns>
    public static string? Describe(EndPoint? endPoint) => endPoint switch
    {
        null => null,
        UnixDomainSocketEndPoint unix => unix.ToString(),
        _ => endPoint.ToString(),
    };
}
