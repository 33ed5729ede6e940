// GroupServer: one server spread over the loops of an EventLoopGroup.
//
// Maintainer's overview
// - One Server per loop (a shard), each touched only on its own loop thread, each tracking its own connections.
// - ReusePort: every shard has its own listening sockets (SO_REUSEPORT) and accepts for itself; nothing crosses threads.
// - RoundRobin / LeastConnections: shard 0 alone listens; its HandOff sends each accepted socket to the chosen shard,
//   directly when that shard is its own, else with one CallSoonThreadSafe to the shard's loop (Adopt). A connection
//   never moves after that.
// - Shutdown: every shard first stops accepting (so the acceptor hands off nothing new), then each closes its
//   connections gracefully, aborting what is left after the grace period.

using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;

namespace AsyncNet.Transports;

/// <summary>
/// A server started on an <see cref="EventLoopGroup"/>: its connections are spread over the group's loops, one
/// <see cref="Server"/> per loop, and each connection lives on one loop for its whole life.
/// </summary>
/// <remarks>
/// Every member may be called from any thread; the per-loop <see cref="Servers"/> keep their own thread rules. The
/// group shuts the server down with itself; <see cref="ShutdownAsync"/> and <see cref="DisposeAsync"/> end it earlier.
/// </remarks>
public sealed class GroupServer : IAsyncDisposable
{
    private static readonly Action<object?> s_adopt = static state =>
    {
        var (server, socket) = ((Server, Socket))state!;
        server.Adopt(socket);
    };

    private readonly Server[] _servers;
    private readonly Lock _lock = new();

    // Acceptor-thread state: the next shard for round-robin, and how many connections each shard was handed in all (a
    // shard's load counts those still on their way to it, so a burst of accepts does not pile onto one shard).
    private uint _nextShard;
    private readonly long[] _handedOff;
    private Task? _shutdown;

    internal GroupServer(EventLoopGroup group, Server[] servers, AcceptDistribution distribution)
    {
        Group = group;
        _servers = servers;
        Distribution = distribution;
        _handedOff = new long[servers.Length];
        LocalEndPoints = [.. servers.SelectMany(s => s.Sockets).Select(s => s.LocalEndPoint!)];
        if (distribution is AcceptDistribution.RoundRobin or AcceptDistribution.LeastConnections)
        {
            servers[0].HandOff = HandOff;
        }
    }

    /// <summary>The group whose loops serve the connections.</summary>
    public EventLoopGroup Group { get; }

    /// <summary>How connections are spread: <see cref="AcceptDistribution.ReusePort"/>, <see cref="AcceptDistribution.RoundRobin"/> or <see cref="AcceptDistribution.LeastConnections"/> (never <see cref="AcceptDistribution.Auto"/>).</summary>
    public AcceptDistribution Distribution { get; }

    /// <summary>The server of each loop, in the order of <see cref="EventLoopGroup.Loops"/>; each is bound to its loop's thread.</summary>
    public IReadOnlyList<Server> Servers => _servers;

    /// <summary>The addresses listened on (with the ports the OS chose for port 0); with SO_REUSEPORT the same address once per loop.</summary>
    public IReadOnlyList<EndPoint> LocalEndPoints { get; }

    /// <summary>The port listened on (TCP), or 0 for a Unix socket.</summary>
    public int Port => LocalEndPoints.Count > 0 && LocalEndPoints[0] is IPEndPoint ip ? ip.Port : 0;

    /// <summary>How many connections each loop has accepted (or been handed) in all, in the order of <see cref="EventLoopGroup.Loops"/>.</summary>
    /// <returns>One count per loop, read now.</returns>
    public long[] GetAcceptedCounts() => Array.ConvertAll(_servers, s => s.AcceptedCount);

    /// <summary>How many connections each loop has open now, in the order of <see cref="EventLoopGroup.Loops"/>.</summary>
    /// <returns>One count per loop, read now.</returns>
    public int[] GetConnectionCounts() => Array.ConvertAll(_servers, s => s.ConnectionCount);

    /// <summary>
    /// Stops accepting on every loop, closes every connection gracefully (written bytes are flushed), aborts what is
    /// still open after <paramref name="gracePeriod"/>, and completes when every connection is lost. Idempotent.
    /// </summary>
    /// <param name="gracePeriod">How long connections may take to flush and close before they are aborted.</param>
    /// <returns>A task that completes when every connection is lost.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gracePeriod"/> is negative.</exception>
    public Task ShutdownAsync(TimeSpan gracePeriod)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gracePeriod, TimeSpan.Zero);
        lock (_lock)
        {
            return _shutdown ??= ShutdownCoreAsync(gracePeriod);
        }
    }

    /// <summary>Shuts the server down with its group's <see cref="EventLoopGroupOptions.ShutdownGracePeriod"/>.</summary>
    /// <returns>A task that completes when every connection is lost.</returns>
    public ValueTask DisposeAsync() => new(ShutdownAsync(Group.Options.ShutdownGracePeriod));

    /// <inheritdoc/>
    /// <returns>For example "GroupServer(127.0.0.1:9000, ReusePort, Connections=[3, 4])".</returns>
    public override string ToString() =>
        $"GroupServer({string.Join(", ", LocalEndPoints.Distinct())}, {Distribution}, Connections=[{string.Join(", ", GetConnectionCounts())}])";

    /// <summary>The acceptor's hand-off (on shard 0's loop): choose a shard, and give it the socket on its own loop.</summary>
    private void HandOff(Socket socket)
    {
        int shard = PickShard();
        _handedOff[shard]++;
        Server target = _servers[shard];
        if (target == _servers[0])
        {
            target.Adopt(socket);
            return;
        }

        try
        {
            target.Loop.CallSoonThreadSafe(s_adopt, (target, socket));
        }
        catch (ObjectDisposedException)
        {
            // That loop has closed (the group is going down): the connection is refused.
            socket.Dispose();
        }
    }

    private int PickShard()
    {
        if (Distribution == AcceptDistribution.RoundRobin)
        {
            // Only the acceptor's loop thread picks: no interlocked operation needed.
            return (int)(_nextShard++ % (uint)_servers.Length);
        }

        int best = 0;
        long bestLoad = Load(0);
        for (int i = 1; i < _servers.Length; i++)
        {
            long load = Load(i);
            if (load < bestLoad)
            {
                (best, bestLoad) = (i, load);
            }
        }

        return best;

        // Open connections plus those still on their way to the shard's loop: everything handed to it (counted here, on
        // the acceptor's thread) less what it has released. One monotonic count read from the other thread, so a
        // shard that is adopting just now is never seen as lighter than it is (reading its open and accepted counts
        // as a pair could be torn between them, and a burst then piled onto that shard).
        long Load(int shard) => _handedOff[shard] - _servers[shard].ReleasedCount;
    }

    private async Task ShutdownCoreAsync(TimeSpan gracePeriod)
    {
        // Everyone stops accepting first, so the acceptor hands nothing to a shard that is already closing.
        await Task.WhenAll(_servers.Select(s => s.Loop.RunCoroutineThreadSafe(() =>
        {
            s.Close();
            return Task.CompletedTask;
        }))).ConfigureAwait(false);
        await Task.WhenAll(_servers.Select(s => s.Loop.RunCoroutineThreadSafe(() => s.ShutdownAsync(gracePeriod)))).ConfigureAwait(false);
    }
}
