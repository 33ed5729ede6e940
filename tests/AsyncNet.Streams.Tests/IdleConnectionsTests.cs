using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// Ten thousand concurrent idle connections on one loop group: all accepted, spread over the loops, still served, and
/// all closed by the group's shutdown. The clients live in a child process (bash's /dev/tcp), because both ends in one
/// process would need twice the descriptors the process may have.
/// </summary>
public sealed class IdleConnectionsTests
{
    private const int Connections = 10_000;
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task TenThousandIdleConnections_AreAllHeldAndServedByOneGroup_AndClosedByItsShutdown()
    {
        var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 4 });
        int handlers = 0;
        GroupServer server = await group.StartServerAsync(
            async (reader, writer) =>
            {
                Interlocked.Increment(ref handlers);
                byte[] buffer = new byte[64];
                int n;
                while ((n = await reader.ReadAsync(buffer)) > 0)
                {
                    writer.Write(buffer.AsSpan(0, n));
                    await writer.DrainAsync();
                }
            },
            "127.0.0.1",
            0,
            serverOptions: new ServerOptions { Backlog = 4096 });

        using Process clients = StartIdleClients(Connections, server.Port);
        try
        {
            Assert.Equal("ready", await clients.StandardOutput.ReadLineAsync().WaitAsync(s_limit));
            var waited = Stopwatch.StartNew();
            while (server.GetConnectionCounts().Sum() < Connections || Volatile.Read(ref handlers) < Connections)
            {
                Assert.True(waited.Elapsed < s_limit, $"Accepted {server.GetConnectionCounts().Sum()} of {Connections}");
                await Task.Delay(50);
            }

            int[] perLoop = server.GetConnectionCounts();
            Assert.Equal(Connections, perLoop.Sum());
            Assert.All(perLoop, n => Assert.True(n > Connections / 8, $"Spread over the loops: [{string.Join(", ", perLoop)}]"));

            // Among them a fresh connection is still served at once.
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
            probe.Connect(IPAddress.Loopback, server.Port);
            probe.Send("ping"u8);
            byte[] echo = new byte[4];
            int got = 0;
            while (got < echo.Length)
            {
                got += probe.Receive(echo, got, echo.Length - got, SocketFlags.None);
            }

            Assert.Equal("ping"u8.ToArray(), echo);

            // The shutdown closes every one of them gracefully.
            await group.ShutdownAsync(TimeSpan.FromSeconds(30)).WaitAsync(s_limit);
            Assert.Equal(0, server.GetConnectionCounts().Sum());
        }
        finally
        {
            clients.StandardInput.Close();
            if (!clients.WaitForExit(10_000))
            {
                clients.Kill();
            }

            await group.ShutdownAsync(TimeSpan.Zero).WaitAsync(s_limit);
        }
    }

    private static Process StartIdleClients(int count, int port)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };

        // Opens the connections, says "ready", and holds them until its standard input closes.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(
            $"set -e; ulimit -n {count + 100}; for i in $(seq 1 {count}); do exec {{fd}}<>/dev/tcp/127.0.0.1/{port}; done; echo ready; read -r _ || true");
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start the client process.");
    }
}
