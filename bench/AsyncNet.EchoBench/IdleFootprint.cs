using System.Diagnostics;
using System.Globalization;
using AsyncNet.Echo;

namespace AsyncNet.EchoBench;

/// <summary>
/// What an idle connection costs a server (issue 12): managed heap and descriptors per connection, with N of them open
/// and idle on an echo server of this process. The clients live in a child process (bash's <c>/dev/tcp</c>), so only
/// the server's side is counted.
/// </summary>
/// <remarks>
/// The heap is <see cref="GC.GetTotalMemory(bool)"/> after a full collection, once before the clients connect and once
/// after every connection has been accepted and has sat idle for a second (so handlers have reached their first read);
/// the difference over N is the managed heap each connection holds. Descriptors are counted in <c>/proc/self/fd</c>.
/// </remarks>
internal static class IdleFootprint
{
    public static int Run(EchoServerKind kind, int connections, int loops)
    {
        IEchoServer server = EchoServers.StartAsync(kind, options: new EchoServerOptions { Loops = loops }).GetAwaiter().GetResult();
        try
        {
            Thread.Sleep(500);
            long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            int fdsBefore = Directory.GetFiles("/proc/self/fd").Length;

            using Process clients = StartIdleClients(connections, server.EndPoint.Port);
            if (clients.StandardOutput.ReadLine() != "ready")
            {
                Console.Error.WriteLine("AsyncNet.EchoBench: the client process did not open its connections");
                return 1;
            }

            var waited = Stopwatch.StartNew();
            while (server.GetAcceptedCounts().Sum() < connections)
            {
                if (waited.Elapsed > TimeSpan.FromSeconds(120))
                {
                    Console.Error.WriteLine($"AsyncNet.EchoBench: only {server.GetAcceptedCounts().Sum()} of {connections} accepted");
                    return 1;
                }

                Thread.Sleep(50);
            }

            Thread.Sleep(1000);
            long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            int fdsAfter = Directory.GetFiles("/proc/self/fd").Length;
            long[] spread = server.GetAcceptedCounts();
            clients.StandardInput.Close();
            clients.WaitForExit(10_000);

            var invariant = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(
                invariant,
                $"kind={kind} loops={loops} connections={connections} heap_before_KiB={heapBefore / 1024.0:0} heap_after_KiB={heapAfter / 1024.0:0} " +
                $"heap_per_connection_B={(heapAfter - heapBefore) / (double)connections:0} fds_per_connection={(fdsAfter - fdsBefore) / (double)connections:0.00} spread=[{string.Join(", ", spread)}]"));
            return 0;
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static Process StartIdleClients(int count, int port)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };

        // Opens the connections, says "ready", and holds them until its standard input closes.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(
            $"set -e; ulimit -n {count + 100}; for i in $(seq 1 {count}); do exec {{fd}}<>/dev/tcp/127.0.0.1/{port}; done; echo ready; read -r _ || true");
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start the client process.");
    }
}
