using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;

namespace AsyncNet.Transports;

/// <summary>Creating, configuring, binding and listening the sockets behind every transport and server: the one place that knows socket options.</summary>
/// <remarks>
/// SO_REUSEADDR, SO_REUSEPORT and TCP_CORK are set with raw option numbers on Linux: .NET's portable
/// <see cref="SocketOptionName.ReuseAddress"/> sets SO_REUSEPORT as well on Unix, which would let two servers
/// share a port that only one asked for.
/// </remarks>
internal static class SocketSetup
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
            SetReusePort(socket);
        }
    }

    /// <summary>Sets SO_REUSEPORT: several sockets may bind the same address, and the kernel spreads the traffic among them.</summary>
    /// <exception cref="PlatformNotSupportedException">The OS is not Linux, macOS or FreeBSD.</exception>
    public static void SetReusePort(Socket socket)
    {
        (int level, int name) = OperatingSystem.IsLinux() ? (SolSocket, SoReusePort)
            : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? (0xffff, 0x200)
            : throw new PlatformNotSupportedException("SO_REUSEPORT is available on Linux, macOS and FreeBSD only.");
        SetRawInt(socket, level, name, 1);
    }

    /// <summary>Binds (unless <paramref name="endPoint"/> is null: already bound) and listens.</summary>
    /// <exception cref="NetworkException">Binding or listening failed, classified and naming <paramref name="address"/>.</exception>
    public static void BindAndListen(Socket socket, EndPoint? endPoint, string address, int backlog)
    {
        try
        {
            if (endPoint is not null)
            {
                socket.Bind(endPoint);
            }

            socket.Listen(backlog);
        }
        catch (SocketException ex)
        {
            throw SocketErrors.Classify(ex, endPoint is null ? "listen" : "bind", address);
        }
    }

    /// <summary>Binds a socket about to connect to a chosen local address (asyncio's <c>local_addr</c>).</summary>
    /// <exception cref="NetworkException">The bind failed, classified and naming the address.</exception>
    public static void BindForConnect(Socket socket, IPEndPoint local)
    {
        try
        {
            socket.Bind(local);
        }
        catch (SocketException ex)
        {
            throw SocketErrors.Classify(ex, "bind", SocketErrors.Describe(local));
        }
    }

    /// <summary>Whether <paramref name="path"/> is a Unix socket that nobody listens on (a server died without removing it).</summary>
    public static bool IsStaleUnixSocket(string path)
    {
        // A connect that is refused means a socket file without a listener; other files give other errors (ENOTSOCK is
        // not what Linux reports for a regular file, it reports ECONNREFUSED too), so also insist the file is empty.
        var info = new FileInfo(path);
        if (!info.Exists || info.Length != 0 || (info.Attributes & (FileAttributes.Directory | FileAttributes.ReparsePoint)) != 0)
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return false;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode == SocketError.ConnectionRefused;
        }
    }

    /// <summary>Reads an int socket option by its raw level and name (tests check what was set).</summary>
    public static int GetRawInt(Socket socket, int level, int name)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(level, name, value);
        return BitConverter.ToInt32(value);
    }

    private static void SetRawInt(Socket socket, int level, int name, int value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(bytes, value);
        socket.SetRawSocketOption(level, name, bytes);
    }
}
