using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;

namespace AsyncNet.Transports;

/// <summary>Creating and configuring the sockets behind stream transports and servers.</summary>
/// <remarks>
/// SO_REUSEADDR, SO_REUSEPORT and TCP_CORK are set with raw option numbers on Linux: .NET's portable
/// <see cref="SocketOptionName.ReuseAddress"/> sets SO_REUSEPORT as well on Unix, which would let two servers
/// share a port that only one asked for.
/// </remarks>
internal static class StreamSockets
{
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;
    private const int SoReusePort = 15;
    private const int IpProtoTcp = 6;
    private const int TcpCork = 3;

    /// <summary>Whether <paramref name="socket"/> carries TCP (not a Unix socket).</summary>
    public static bool IsTcp(Socket socket) => socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;

    /// <summary>A non-blocking stream socket for <paramref name="family"/>.</summary>
    public static Socket Create(AddressFamily family)
    {
        var socket = new Socket(family, SocketType.Stream, family == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
        try
        {
            socket.Blocking = false;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Applies the per-connection settings to a connected or accepted socket, or to one about to connect.</summary>
    public static void Configure(Socket socket, StreamTransportOptions options)
    {
        if (IsTcp(socket))
        {
            if (options.NoDelay)
            {
                socket.NoDelay = true;
            }

            if (options.KeepAlive)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            }

            if (options.Cork)
            {
                SetCork(socket, true);
            }
        }

        if (options.SendBufferSize is int send)
        {
            socket.SendBufferSize = send;
        }

        if (options.ReceiveBufferSize is int receive)
        {
            socket.ReceiveBufferSize = receive;
        }
    }

    /// <summary>Sets or clears TCP_CORK.</summary>
    /// <exception cref="PlatformNotSupportedException">The OS is not Linux.</exception>
    public static void SetCork(Socket socket, bool on)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("TCP_CORK exists only on Linux.");
        }

        SetRawInt(socket, IpProtoTcp, TcpCork, on ? 1 : 0);
    }

    /// <summary>Applies a server's address-reuse settings to a listening socket before it binds.</summary>
    /// <exception cref="PlatformNotSupportedException">Reuse-port is asked for on an OS other than Linux.</exception>
    public static void ConfigureListener(Socket socket, ServerOptions options)
    {
        if (options.ReuseAddress && socket.AddressFamily != AddressFamily.Unix)
        {
            if (OperatingSystem.IsLinux())
            {
                SetRawInt(socket, SolSocket, SoReuseAddr, 1);
            }
            else
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }
        }

        if (options.ReusePort)
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new PlatformNotSupportedException("SO_REUSEPORT is supported on Linux only.");
            }

            SetRawInt(socket, SolSocket, SoReusePort, 1);
        }
    }

    /// <summary>Reads an int socket option by its raw level and name (tests check what was set).</summary>
    public static int GetRawInt(Socket socket, int level, int name)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(level, name, value);
        return BitConverter.ToInt32(value);
    }

    /// <summary>Connects a non-blocking socket: true if connected at once, false if the connect is in progress.</summary>
    /// <exception cref="NetworkException">The connect failed at once.</exception>
    public static bool StartConnect(Socket socket, EndPoint endPoint, string address)
    {
        try
        {
            socket.Connect(endPoint);
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress)
        {
            return false;
        }
        catch (SocketException ex)
        {
            throw SocketErrors.Classify(ex, "connect", address);
        }
    }

    /// <summary>Finishes a connect that was in progress once the socket is writable: throws the connect's error, if any.</summary>
    /// <exception cref="NetworkException">The connect failed.</exception>
    public static void FinishConnect(Socket socket, string address)
    {
        var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        if (error != SocketError.Success)
        {
            throw SocketErrors.Classify(error, "connect", address);
        }

        // Socket learns here (one poll) that its non-blocking connect finished, so RemoteEndPoint and Connected work.
        _ = socket.Connected;
    }

    private static void SetRawInt(Socket socket, int level, int name, int value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(bytes, value);
        socket.SetRawSocketOption(level, name, bytes);
    }
}
