using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Cli.Tests.Support;

namespace AsyncNet.Cli.Tests.Echo;

/// <summary>
/// A server out of descriptors (EMFILE) neither spins nor dies: it pauses accepting, says so once, and serves the
/// waiting connections when descriptors are free again. The server runs in a child process whose descriptor limit is
/// lowered with <c>ulimit -n</c>, so this test process keeps its own.
/// </summary>
public sealed class AcceptBackoffTests
{
    private const int DescriptorLimit = 128;
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task OutOfDescriptors_TheServerBacksOff_ReportsOnce_AndResumesWhenDescriptorsFree()
    {
        using Process server = StartServerWithLimit(DescriptorLimit);
        var stderr = new StringWriter();
        server.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.WriteLine(e.Data);
            }
        };
        server.BeginErrorReadLine();
        var clients = new List<Socket>();
        try
        {
            int port = await EchoServerProcess.ReadPortAsync(server);

            // More clients than the server has descriptors for (a .NET process holds about 65 at rest): the later ones
            // wait in the listen backlog, which is 100 deep, more than the clients the server cannot take.
            for (int i = 0; i < DescriptorLimit + 10; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 20_000 };
                client.Connect(IPAddress.Loopback, port);
                clients.Add(client);
            }

            await WaitUntilAsync(() => ErrorLines(stderr).Any(l => l.Contains("Accept failed", StringComparison.Ordinal)));

            // While out of descriptors it must not spin on the readable listener: measure its CPU over a second.
            TimeSpan before = server.TotalProcessorTime;
            await Task.Delay(TimeSpan.FromSeconds(1));
            server.Refresh();
            TimeSpan used = server.TotalProcessorTime - before;
            Assert.True(used < TimeSpan.FromMilliseconds(300), $"The server spun while out of descriptors: {used.TotalMilliseconds:0} ms of CPU in 1 s");
            Assert.False(server.HasExited, "The server died instead of backing off");

            // Free descriptors: every waiting client is then served, the last one included.
            for (int i = 0; i < DescriptorLimit; i++)
            {
                clients[i].Dispose();
            }

            Socket last = clients[^1];
            last.Send("still there?"u8);
            byte[] echo = new byte[12];
            int got = 0;
            while (got < echo.Length)
            {
                got += last.Receive(echo, got, echo.Length - got, SocketFlags.None);
            }

            Assert.Equal("still there?"u8.ToArray(), echo);
            Assert.Single(ErrorLines(stderr), l => l.Contains("Accept failed", StringComparison.Ordinal));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }

            await server.WaitForExitAsync().WaitAsync(s_limit);
        }
    }

    private static Process StartServerWithLimit(int descriptors) =>
        EchoServerProcess.StartShell($"ulimit -n {descriptors} && exec dotnet \"{EchoServerProcess.CliPath}\" echo-server --kind raw --host 127.0.0.1 --port 0");

    private static string[] ErrorLines(StringWriter stderr)
    {
        lock (stderr)
        {
            return stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < s_limit, "Timed out waiting for the server");
            await Task.Delay(20);
        }
    }
}
