using System.Diagnostics;
using AsyncNet.Echo;

namespace AsyncNet.EchoBench;

/// <summary>
/// One measured window of one server under the shared load generator: what the client saw (rate, latency), what the
/// process allocated meanwhile, and the server's CPU per message (the process's CPU time minus the client thread's),
/// user and system apart; and how much CPU the rest of the machine used meanwhile (% of one CPU: other tenants' noise).
/// </summary>
internal readonly record struct Measurement(
    EchoServerKind Kind,
    int MessageSize,
    int Depth,
    double MessagesPerSecond,
    double MegabytesPerSecond,
    TimeSpan P50,
    TimeSpan P99,
    double AllocatedBytesPerMessage,
    double ServerUserMicros,
    double ServerSystemMicros,
    double OtherCpuPercent)
{
    public double ServerCpuMicros => ServerUserMicros + ServerSystemMicros;

    public static Measurement Take(IEchoServer server, int connections, int messageSize, int depth, TimeSpan warmup, TimeSpan window)
    {
        var options = new EchoLoadOptions
        {
            Host = server.EndPoint.Address.ToString(),
            Port = server.EndPoint.Port,
            Connections = connections,
            MessageSize = messageSize,
            Depth = depth,
            FrameFormat = server.Kind.IsFramed() ? EchoFraming.DefaultFormat : null,
        };
        using EchoLoadGenerator load = EchoLoadGenerator.StartAsync(options).GetAwaiter().GetResult();
        Thread.Sleep(warmup);
        load.BeginWindow();

        // Allocation counts bracket the window inside the CPU readings, which allocate themselves.
        CpuTimes machine0 = CpuTimes.Machine();
        CpuTimes process0 = CpuTimes.Process();
        CpuTimes client0 = CpuTimes.Thread(load.OsThreadId);
        long messages0 = load.Messages;
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        Thread.Sleep(window);
        long allocated1 = GC.GetTotalAllocatedBytes(precise: true);
        long messages1 = load.Messages;
        CpuTimes process1 = CpuTimes.Process();
        CpuTimes client1 = CpuTimes.Thread(load.OsThreadId);
        CpuTimes machine1 = CpuTimes.Machine();
        EchoLoadResult result = load.Stop();
        double otherPercent = ((machine1 - machine0).Total - (process1 - process0).Total) * 100 / window.TotalSeconds;

        CpuTimes serverCpu = (process1 - process0) - (client1 - client0);
        long messages = messages1 - messages0;
        double perMessage = messages == 0 ? double.NaN : 1e6 / messages;
        Debug.Assert(result.Messages >= messages, "The generator's window contains the bench's");
        return new Measurement(
            server.Kind,
            messageSize,
            depth,
            result.MessagesPerSecond,
            result.MegabytesPerSecond,
            result.LatencyP50,
            result.LatencyP99,
            messages == 0 ? double.NaN : (allocated1 - allocated0) / (double)messages,
            serverCpu.User * perMessage,
            serverCpu.System * perMessage,
            Math.Max(0, otherPercent));
    }
}
