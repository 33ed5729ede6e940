using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Transports;
using BenchmarkDotNet.Attributes;

namespace AsyncNet.Benchmarks.Transports;

/// <summary>
/// The cost of a connection's arrival on a two-loop group: a client connects and waits until the server's protocol has
/// the connection, with one SO_REUSEPORT listener per loop (no thread crossed) and with one acceptor handing every
/// connection round-robin to the loops (every other one crosses a thread), beside a server on a single loop.
/// </summary>
public class AcceptHandOffBenchmark
{
    private EventLoop _single = null!;
    private EventLoopGroup _group = null!;
    private int _singlePort;
    private int _reusePortPort;
    private int _handOffPort;
    private readonly SemaphoreSlim _made = new(0);

    [GlobalSetup]
    public void Setup()
    {
        _single = EventLoop.StartOnNewThread();
        _group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 2 });
        _singlePort = ((IPEndPoint)_single.CreateServerAsync(Protocol, "127.0.0.1", 0).Result.Sockets[0].LocalEndPoint!).Port;
        _reusePortPort = _group.CreateServerAsync(Protocol, "127.0.0.1", 0, new ServerOptions { Distribution = AcceptDistribution.ReusePort }).Result.Port;
        _handOffPort = _group.CreateServerAsync(Protocol, "127.0.0.1", 0, new ServerOptions { Distribution = AcceptDistribution.RoundRobin }).Result.Port;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _group.ShutdownAsync(TimeSpan.Zero).Wait();
        _single.DisposeAsync().AsTask().Wait();
    }

    [Benchmark(Baseline = true)]
    public void SingleLoop() => ConnectAndWait(_singlePort);

    [Benchmark]
    public void GroupReusePort() => ConnectAndWait(_reusePortPort);

    [Benchmark]
    public void GroupRoundRobinHandOff() => ConnectAndWait(_handOffPort);

    private MadeProtocol Protocol() => new(_made);

    private void ConnectAndWait(int port)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { LingerState = new LingerOption(true, 0) };
        client.Connect(IPAddress.Loopback, port);
        _made.Wait();
    }

    /// <summary>Signals when made, and lets the connection go when the client resets it.</summary>
    private sealed class MadeProtocol(SemaphoreSlim made) : IProtocol
    {
        public void ConnectionMade(ITransport transport) => made.Release();

        public void ConnectionLost(Exception? exception)
        {
        }

        public void DataReceived(ReadOnlySpan<byte> data)
        {
        }

        public bool EofReceived() => false;
    }
}
