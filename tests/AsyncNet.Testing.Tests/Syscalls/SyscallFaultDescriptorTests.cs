using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Testing.Syscalls;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Testing.Tests.Syscalls;

/// <summary>Tests that count this process's open sockets, so nothing else may run beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SocketCountingCollection
{
    public const string Name = "Socket counting";
}

/// <summary>
/// Random faults of every kind under hundreds of connections on one loop (connects, accepts, sends, receives and the
/// selector's wait): every connection ends, each with nothing or a network exception, and no socket is left open.
/// </summary>
[Collection(SocketCountingCollection.Name)]
public sealed class SyscallFaultDescriptorTests
{
    private static readonly SyscallFault[] s_everyFault =
    [
        SyscallFault.Interrupted, SyscallFault.WouldBlock, SyscallFault.AtMost(1), SyscallFault.AtMost(100),
        SyscallFault.ConnectionReset, SyscallFault.BrokenPipe, SyscallFault.NoBufferSpace, SyscallFault.TooManyOpenFiles,
        SyscallFault.Fail(SocketError.ConnectionRefused), SyscallFault.Fail(SocketError.TimedOut),
    ];

    [Theory]
    [InlineData("tcp4", 11)]
    [InlineData("unix", 12)]
    public void RandomFaultsUnderManyConnections_EveryOneEnds_AndNoSocketIsLeftOpen(string family, int seed)
    {
        RunConnections(family, seed, count: 5);
        IReadOnlyDictionary<int, string> before = SocketDescriptors.Open();
        (int failed, SyscallInjection injection) = RunConnections(family, seed, count: 200);

        IReadOnlyDictionary<int, string> leaked = SocketDescriptors.LeakedSince(before, TimeSpan.FromSeconds(2));
        Assert.True(leaked.Count == 0, $"{leaked.Count} socket(s) left open: {string.Join(", ", leaked)} ({injection})");
        Assert.Empty(injection.OpenSockets());

        // The schedule reached every kind of call, and some connections ended in errors while others went through.
        Assert.All(Enum.GetValues<SyscallKind>().Where(k => k is not (SyscallKind.None or SyscallKind.All)), k => Assert.True(injection.FaultCount(k) > 0, $"no {k} fault: {injection}"));
        Assert.InRange(failed, 1, 199);
    }

    /// <summary>Runs <paramref name="count"/> echo exchanges on one loop under a random schedule; returns how many failed.</summary>
    private static (int Failed, SyscallInjection Injection) RunConnections(string family, int seed, int count)
    {
        StreamFamily streams = family == "unix" ? StreamFamily.Unix : StreamFamily.Tcp4;
        using var test = new StreamTestLoop();
        // A connect's outcome is checked only for a connect in progress (rare on Unix sockets): fail the first one surely.
        var injection = SyscallFaults.Inject(test.Loop, SyscallSchedule.Combine(
            SyscallSchedule.FailNth(SyscallKind.ConnectResult, 1, SocketError.ConnectionRefused),
            SyscallSchedule.Random(seed, SyscallKind.All, 0.02, s_everyFault)));
        int failed = 0;
        test.Run(
            async () =>
            {
                Server server = await streams.CreateServerAsync(test.Loop, () => new EchoProtocol());
                byte[] data = RawPeer.Pattern(3000);
                for (int i = 0; i < count; i++)
                {
                    IStreamTransport client;
                    RecordingProtocol protocol;
                    try
                    {
                        (client, protocol) = await streams.ConnectAsync(test.Loop, server, () => new RecordingProtocol());
                    }
                    catch (NetworkException)
                    {
                        failed++;
                        continue;
                    }

                    client.Write(data);
                    client.WriteEof();

                    // Both ends are faulted: a server that failed closes, and its client may see a clean EOF early.
                    Exception? lost = await protocol.Lost;
                    Assert.True(lost is null or NetworkException, lost?.ToString());
                    Assert.Equal(data.AsSpan(0, protocol.ReceivedCount).ToArray(), protocol.Received);
                    failed += lost is null && protocol.ReceivedCount == data.Length ? 0 : 1;
                }

                await server.DisposeAsync();
            },
            seconds: 120);
        injection.Dispose();

        // Out-of-resource accepts and odd errors (ENOBUFS, ETIMEDOUT on a send) are reported; nothing else is.
        Assert.All(test.HandlerReports, r => Assert.IsAssignableFrom<NetworkException>(r.Exception));
        return (failed, injection);
    }
}
