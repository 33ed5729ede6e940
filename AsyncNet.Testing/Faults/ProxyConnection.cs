// ProxyConnection: one client accepted by a FaultProxy, its upstream connection, and the two pipes between them.
//
// Maintainer's overview
// - Life: the client is accepted (its reading paused) → the upstream connect runs → both pipes start (the client's
//   reading resumes) → the pipes forward, EOFs included (each side is kept half-open) → when both directions are done
//   the two sides are closed → both sides lost → the proxy forgets the connection.
// - Endings: Close (a close-after limit, or both directions done) closes both sides gracefully, flushing what they
//   hold; Reset (a reset-after limit, a failed upstream connect, a side lost with an error) closes both with SO_LINGER 0,
//   so each peer sees a TCP RST; Abort (the proxy's disposal) closes both at once. A side lost without an error while
//   the other lives is closed gracefully.
// - Each side is a Side protocol: its data and EOF go to the pipe it feeds, its PauseWriting/ResumeWriting to the pipe
//   that writes to it.

using System.Net.Sockets;
using AsyncNet.Transports;

namespace AsyncNet.Testing.Faults;

/// <summary>One proxied connection: the accepted client, the upstream connection, and a <see cref="FaultPipe"/> each way.</summary>
/// <remarks>Loop thread only.</remarks>
internal sealed class ProxyConnection
{
    private readonly FaultProxy _proxy;
    private readonly FaultPipe _toUpstream;
    private readonly FaultPipe _toClient;

    private IStreamTransport? _client;
    private IStreamTransport? _upstream;
    private bool _clientLost;
    private bool _upstreamLost;

    // Set once the connection is ending (closed, reset or aborted): an upstream that connects late is aborted.
    private bool _ending;

    // The upstream connect has finished (connected or failed).
    private bool _connectDone;

    public ProxyConnection(FaultProxy proxy)
    {
        _proxy = proxy;
        _toUpstream = new FaultPipe(this, proxy, FaultDirection.ClientToUpstream);
        _toClient = new FaultPipe(this, proxy, FaultDirection.UpstreamToClient);
        ClientSide = new Side(this, _toUpstream, _toClient, isClient: true);
    }

    /// <summary>The protocol of the accepted client's transport.</summary>
    public IProtocol ClientSide { get; }

    /// <summary>The proxy's faults changed.</summary>
    public void OnFaultsChanged()
    {
        _toUpstream.OnFaultsChanged();
        _toClient.OnFaultsChanged();
    }

    /// <summary>A pipe forwarded its EOF (or half-closed): once both have, the connection is closed.</summary>
    public void DirectionDone()
    {
        if (_toUpstream.IsDone && _toClient.IsDone)
        {
            Close();
        }
    }

    /// <summary>Closes both sides gracefully: each flushes what it holds, then sends its EOF and closes.</summary>
    public void Close()
    {
        EndPipes();
        _client?.Close();
        _upstream?.Close();
    }

    /// <summary>Resets both sides: SO_LINGER 0, then close, so each peer gets a TCP RST. Idempotent.</summary>
    public void Reset()
    {
        EndPipes();
        if (!_clientLost)
        {
            ResetSide(_client);
        }

        if (!_upstreamLost)
        {
            ResetSide(_upstream);
        }
    }

    /// <summary>Closes both sides now, dropping what they hold (the proxy is disposed).</summary>
    public void Abort()
    {
        EndPipes();
        _client?.Abort();
        _upstream?.Abort();
    }

    /// <inheritdoc/>
    public override string ToString() => $"ProxyConnection({_toUpstream}; {_toClient})";

    private static void ResetSide(IStreamTransport? transport)
    {
        if (transport is null)
        {
            return;
        }

        if (transport.GetExtraInfo("socket") is Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The socket is already gone: there is nothing left to reset.
            }
        }

        transport.Abort();
    }

    private void EndPipes()
    {
        _ending = true;
        _toUpstream.End();
        _toClient.End();
    }

    private void ClientMade(IStreamTransport client)
    {
        _client = client;

        // Nothing is read from the client until the upstream is there to take it.
        client.PauseReading();
        if (!_proxy.Attach(this))
        {
            // Accepted as the proxy was being disposed.
            _ending = true;
            client.Abort();
            return;
        }

        _proxy.Loop.CreateTask(ConnectUpstreamAsync);
    }

    private async Task ConnectUpstreamAsync()
    {
        try
        {
            await _proxy.ConnectUpstreamAsync(() => new Side(this, _toClient, _toUpstream, isClient: false)).ConfigureAwait(true);
        }
        catch (Exception ex)
        {
            // Nothing listens upstream (or it is unreachable): the client sees its connection reset. A connect cancelled
            // by the proxy's disposal is no failure of the upstream's.
            if (!_proxy.IsDisposing)
            {
                _proxy.CountFailedConnect(ex);
            }

            _upstreamLost = true;
            Reset();
        }
        finally
        {
            _connectDone = true;
            if (_clientLost && (_upstream is null || _upstreamLost))
            {
                Forget();
            }
        }
    }

    private void UpstreamMade(IStreamTransport upstream)
    {
        _upstream = upstream;
        if (_ending)
        {
            upstream.Abort();
            return;
        }

        _toClient.Start(upstream, _client!);
        _toUpstream.Start(_client!, upstream);
    }

    private void SideLost(bool isClient, Exception? exception)
    {
        if (isClient)
        {
            _clientLost = true;
        }
        else
        {
            _upstreamLost = true;
        }

        IStreamTransport? other = isClient ? _upstream : _client;
        bool otherLost = isClient ? _upstreamLost : _clientLost;
        if (!_ending && other is not null && !otherLost)
        {
            // A broken side breaks the other (the reset travels on); a side that closed cleanly closes the other cleanly.
            if (exception is null)
            {
                Close();
            }
            else
            {
                Reset();
            }
        }
        else
        {
            EndPipes();
        }

        if (_clientLost && (_upstreamLost || (_connectDone && _upstream is null)))
        {
            Forget();
        }
    }

    private void Forget() => _proxy.Detach(this);

    /// <summary>The protocol of one side: what it reads feeds one pipe; the other pipe writes to it.</summary>
    private sealed class Side(ProxyConnection connection, FaultPipe feeds, FaultPipe writesHere, bool isClient) : IProtocol
    {
        public void ConnectionMade(ITransport transport)
        {
            var stream = (IStreamTransport)transport;
            if (isClient)
            {
                connection.ClientMade(stream);
            }
            else
            {
                connection.UpstreamMade(stream);
            }
        }

        public void DataReceived(ReadOnlySpan<byte> data) => feeds.OnData(data);

        // Kept half-open: the other direction goes on until it ends too.
        public bool EofReceived()
        {
            feeds.OnSourceEof();
            return true;
        }

        public void ConnectionLost(Exception? exception) => connection.SideLost(isClient, exception);

        public void PauseWriting() => writesHere.OnDestinationPaused();

        public void ResumeWriting() => writesHere.OnDestinationResumed();
    }
}
