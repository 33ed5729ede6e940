using System.Net.Sockets;

namespace AsyncNet.Errors;

/// <summary>
/// The base of AsyncNet's small, catchable hierarchy of network failures. Each subclass is one condition
/// users handle differently (refused, reset, aborted, broken pipe, timed out, address in use, name not
/// resolved); anything else arrives as a plain <see cref="NetworkException"/> carrying the OS error.
/// </summary>
/// <remarks>
/// Socket errors are classified in one place, <c>SocketErrors.Classify</c>; the message always names
/// the address involved when one is known. The original <see cref="SocketException"/>, if any, is the
/// <see cref="Exception.InnerException"/>.
/// </remarks>
public class NetworkException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, naming the address.</param>
    /// <param name="socketError">The OS error, as .NET names it.</param>
    /// <param name="address">The address involved ("127.0.0.1:8080", a host name or a Unix socket path), if known.</param>
    /// <param name="innerException">The original exception, if any.</param>
    public NetworkException(string message, SocketError socketError, string? address = null, Exception? innerException = null)
        : base(message, innerException)
    {
        SocketError = socketError;
        Address = address;
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What failed.</param>
    public NetworkException(string message)
        : this(message, SocketError.SocketError)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public NetworkException()
        : this("A network operation failed.")
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public NetworkException(string message, Exception innerException)
        : this(message, SocketError.SocketError, null, innerException)
    {
    }

    /// <summary>The OS error, as .NET names it.</summary>
    public SocketError SocketError { get; }

    /// <summary>The address involved, if known.</summary>
    public string? Address { get; }
}

/// <summary>The peer refused the connection: nothing listens at the address (ECONNREFUSED).</summary>
public sealed class ConnectionRefusedException(string message, string? address = null, Exception? innerException = null)
    : NetworkException(message, SocketError.ConnectionRefused, address, innerException);

/// <summary>The peer reset the connection (ECONNRESET): data it had not read, or that was in flight, is lost.</summary>
public sealed class ConnectionResetException(string message, string? address = null, Exception? innerException = null)
    : NetworkException(message, SocketError.ConnectionReset, address, innerException);

/// <summary>The connection was aborted on this side (ECONNABORTED), for example by <c>Abort</c> or a failed accept.</summary>
public sealed class ConnectionAbortedException(string message, string? address = null, Exception? innerException = null)
    : NetworkException(message, SocketError.ConnectionAborted, address, innerException);

/// <summary>Writing to a connection the peer has closed (EPIPE).</summary>
public sealed class BrokenPipeException(string message, string? address = null, Exception? innerException = null)
    : NetworkException(message, SocketError.Shutdown, address, innerException);

/// <summary>A connect or an operation with a deadline timed out (ETIMEDOUT, or an AsyncNet timeout).</summary>
public sealed class ConnectionTimedOutException(string message, string? address = null, Exception? innerException = null)
    : NetworkException(message, SocketError.TimedOut, address, innerException);

/// <summary>The local address is already in use (EADDRINUSE), typically by another listener.</summary>
public sealed class AddressInUseException(string message, string? address = null, Exception? innerException = null)
    : NetworkException(message, SocketError.AddressAlreadyInUse, address, innerException);

/// <summary>A host name could not be resolved to an address.</summary>
public sealed class NameResolutionException(string message, string? address = null, Exception? innerException = null)
    : NetworkException(message, SocketError.HostNotFound, address, innerException);
