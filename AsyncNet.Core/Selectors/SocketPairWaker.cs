using System.Net;
using System.Net.Sockets;

namespace AsyncNet.Selectors;

/// <summary>A waker on a connected loopback TCP pair: the one that works with <see cref="PortableSelector"/> and on Windows.</summary>
/// <remarks>
/// <para>
/// Both sockets are non-blocking and the writer has Nagle's algorithm off, so a wake-up is never held back
/// behind an unacknowledged one. <see cref="Wake"/> sends one byte; when the buffers are full the send would
/// block, which is ignored: the reader is readable already. <see cref="Drain"/> receives until it would block.
/// </para>
/// <para>
/// Only the non-throwing <c>Send</c>/<c>Receive</c> overloads are used, and never an <c>*Async</c> method: an
/// async call would hand the socket to .NET's own event engine, which would then steal its readiness.
/// </para>
/// </remarks>
internal sealed class SocketPairWaker : Waker
{
    private readonly Socket _reader;
    private readonly Socket _writer;

    /// <summary>Connects the pair through a listener on 127.0.0.1 that is closed once the pair exists.</summary>
    public SocketPairWaker() => (_reader, _writer) = CreatePair();

    /// <summary>The end registered in the selector.</summary>
    internal Socket Reader => _reader;

    /// <inheritdoc/>
    public override SelectorKey Register(ISelector selector, object? data)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return selector.Register(_reader, SelectorEvents.Read, data);
    }

    /// <inheritdoc/>
    /// <remarks>Does nothing once the waker is disposed, as asyncio's <c>_write_to_self</c> does.</remarks>
    public override void Wake()
    {
        try
        {
            // WouldBlock: full buffers, so the reader is readable already. Any other error means the pair is being
            // torn down (asyncio ignores those too): no one is left to wake.
            _writer.Send([1], SocketFlags.None, out SocketError _);
        }
        catch (ObjectDisposedException)
        {
            // Disposed by the loop thread: nobody is left to wake.
        }
    }

    /// <inheritdoc/>
    public override void Drain()
    {
        Span<byte> buffer = stackalloc byte[1024];
        while (true)
        {
            int n = _reader.Receive(buffer, SocketFlags.None, out SocketError error);
            if (error == SocketError.Interrupted)
            {
                continue;
            }

            // Receive returns 0 both for WouldBlock (drained) and for end of stream (writer closed): stop on either.
            if (error != SocketError.Success || n == 0)
            {
                return;
            }
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _writer.Dispose();
        _reader.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"SocketPairWaker({_reader.LocalEndPoint} <- {_writer.LocalEndPoint})";

    private static (Socket Reader, Socket Writer) CreatePair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var writer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            writer.Connect(listener.LocalEndPoint!);
            while (true)
            {
                Socket reader = listener.Accept();

                // Another local process may connect to the listener first: keep only our own writer's connection,
                // as asyncio's socketpair() emulation does.
                if (Equals(reader.RemoteEndPoint, writer.LocalEndPoint))
                {
                    reader.Blocking = false;
                    writer.Blocking = false;
                    writer.NoDelay = true;
                    return (reader, writer);
                }

                reader.Dispose();
            }
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }
}
