using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace AsyncNet.Diagnostics;

/// <summary>
/// What a stream connection records, with its two tags made once: one shared instance per transport kind and side, so a
/// connection holds a reference and recording allocates nothing.
/// </summary>
/// <remarks>
/// The per-call methods are inlined at their call sites: with nobody listening each costs the instrument's
/// <c>Enabled</c> check and nothing else.
/// </remarks>
internal sealed class ConnectionMetrics
{
    private static readonly ConnectionMetrics s_tcpClient = new("tcp", "client");
    private static readonly ConnectionMetrics s_tcpServer = new("tcp", "server");
    private static readonly ConnectionMetrics s_unixClient = new("unix", "client");
    private static readonly ConnectionMetrics s_unixServer = new("unix", "server");

    private readonly KeyValuePair<string, object?> _transport;
    private readonly KeyValuePair<string, object?> _side;

    private ConnectionMetrics(string transport, string side)
    {
        _transport = new(AsyncNetMetrics.TransportTag, transport);
        _side = new(AsyncNetMetrics.SideTag, side);
    }

    /// <summary>The instance for a connection over <paramref name="socket"/>, accepted by a server or not.</summary>
    public static ConnectionMetrics For(Socket socket, bool accepted) =>
        socket.AddressFamily == AddressFamily.Unix
            ? accepted ? s_unixServer : s_unixClient
            : accepted ? s_tcpServer : s_tcpClient;

    /// <summary>A connection opened; returns whether it was counted as active, which its <see cref="Closed"/> must be told.</summary>
    public bool Opened()
    {
        if (CoreMeter.ConnectionsOpened.Enabled)
        {
            CoreMeter.ConnectionsOpened.Add(1, _transport, _side);
        }

        // Counted only if someone listens now; the close takes it back only if it was counted, so a listener that starts
        // between the two never sees the active count go below what it saw open.
        if (CoreMeter.ConnectionsActive.Enabled)
        {
            CoreMeter.ConnectionsActive.Add(1, _transport, _side);
            return true;
        }

        return false;
    }

    /// <summary>A connection was lost, with <paramref name="exception"/> or cleanly.</summary>
    public void Closed(bool countedActive, Exception? exception)
    {
        if (countedActive)
        {
            CoreMeter.ConnectionsActive.Add(-1, _transport, _side);
        }

        if (CoreMeter.ConnectionsClosed.Enabled)
        {
            if (exception is null)
            {
                CoreMeter.ConnectionsClosed.Add(1, _transport, _side);
            }
            else
            {
                CoreMeter.ConnectionsClosed.Add(1, _transport, _side, new KeyValuePair<string, object?>(AsyncNetMetrics.ErrorTypeTag, exception.GetType().Name));
            }
        }
    }

    /// <summary>One receive call brought <paramref name="bytes"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Received(int bytes)
    {
        if (CoreMeter.BytesReceived.Enabled)
        {
            CoreMeter.BytesReceived.Add(bytes, _transport, _side);
        }
    }

    /// <summary>One send call handed <paramref name="bytes"/> bytes to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Sent(int bytes)
    {
        if (CoreMeter.BytesSent.Enabled)
        {
            CoreMeter.BytesSent.Add(bytes, _transport, _side);
        }
    }

    /// <summary>The transport stopped reading.</summary>
    public void ReadPaused()
    {
        if (CoreMeter.ReadPauses.Enabled)
        {
            CoreMeter.ReadPauses.Add(1, _transport, _side);
        }
    }

    /// <summary>The protocol was told to pause writing.</summary>
    public void WritePaused()
    {
        if (CoreMeter.WritePauses.Enabled)
        {
            CoreMeter.WritePauses.Add(1, _transport, _side);
        }
    }
}
