using System.Net;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Echo.Servers;

/// <summary>
/// An AsyncNet echo server: one kind of echo served on an <see cref="EventLoopGroup"/> of
/// <see cref="EchoServerOptions.Loops"/> loops until disposed.
/// </summary>
/// <remarks>
/// The group owns everything a server's lifetime needs: the loop threads, spreading connections over them, and the
/// graceful close (stop accepting, close every connection so its echo is flushed, abort what is left after
/// <see cref="EchoServerOptions.ShutdownGrace"/>, stop the loops). A kind only says how it listens; its per-message
/// path is its own handler, exactly as on a single loop.
/// </remarks>
internal abstract class GroupEchoServer(EchoServerOptions options) : IEchoServer
{
    private EventLoopGroup? _group;
    private GroupServer? _server;

    public abstract EchoServerKind Kind { get; }

    public virtual string Name => Kind.DisplayName();

    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.None, 0);

    public int Loops => options.Loops;

    public AcceptDistribution? Distribution => _server?.Distribution;

    protected EchoServerOptions Options => options;

    /// <summary>Starts the group's loops and listens; on failure the loops are stopped again.</summary>
    public static async Task<IEchoServer> StartAsync(GroupEchoServer server, string host, int port)
    {
        EchoServerOptions options = server.Options;
        var group = new EventLoopGroup(new EventLoopGroupOptions
        {
            LoopCount = options.Loops,
            ThreadNamePrefix = $"{server.Name} echo loop",
            ShutdownGracePeriod = options.ShutdownGrace,
        });
        try
        {
            var serverOptions = new ServerOptions { Backlog = options.Backlog, Distribution = options.EffectiveDistribution };
            server._server = await server.ListenAsync(group, host, port, serverOptions).ConfigureAwait(false);
        }
        catch
        {
            await group.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        server._group = group;
        server.EndPoint = (IPEndPoint)server._server.LocalEndPoints[0];
        return server;
    }

    public long[] GetAcceptedCounts() => _server?.GetAcceptedCounts() ?? [];

    /// <summary>Shuts the group down: the server's connections close gracefully within the grace period, then the loops stop.</summary>
    public ValueTask DisposeAsync() => _group?.DisposeAsync() ?? ValueTask.CompletedTask;

    public override string ToString() => $"{Name} echo server on {EndPoint}, {_server}";

    /// <summary>Starts serving on the group (any thread may call it).</summary>
    /// <returns>The group's server, accepting.</returns>
    protected abstract Task<GroupServer> ListenAsync(EventLoopGroup group, string host, int port, ServerOptions serverOptions);
}
