using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary>Tests that count this process's open descriptors, so nothing else may run beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DescriptorCountingCollection
{
    public const string Name = "Descriptor counting";
}

[Collection(DescriptorCountingCollection.Name)]
public sealed class DescriptorLeakTests
{
    public static TheoryData<string> Families => ["tcp4", "tcp6", "unix"];

    [Theory]
    [MemberData(nameof(Families))]
    public void ThousandConnectCloseCycles_LeaveNoDescriptorOpen(string family)
    {
        StreamFamily f = family switch { "tcp4" => StreamFamily.Tcp4, "tcp6" => StreamFamily.Tcp6, _ => StreamFamily.Unix };

        // Warm up first, so lazily created runtime descriptors are not counted as leaks.
        RunCycles(f, 5);
        Dictionary<string, string> before = OpenSocketsAfterCollecting();
        RunCycles(f, 1000);

        // Our transports close synchronously, so a leak stays a leak; the retries only let other tests' stragglers
        // (finalizers, the runtime's own socket engine) settle. Only sockets are counted: an epoll or eventfd opened
        // by an unrelated loop is not a transport leak.
        Dictionary<string, string> after = OpenSocketsAfterCollecting();
        for (int attempt = 0; attempt < 20 && after.Count > before.Count; attempt++)
        {
            Thread.Sleep(100);
            after = OpenSocketsAfterCollecting();
        }

        string[] added = after.Keys.Except(before.Keys).Select(fd => $"{fd} -> {after[fd]}").ToArray();
        Assert.True(after.Count <= before.Count, $"{after.Count - before.Count} socket(s) left open: {string.Join(", ", added)}");
    }

    private static void RunCycles(StreamFamily family, int cycles)
    {
        using var test = new StreamTestLoop();
        test.Run(
            async () =>
            {
                var serverSide = new List<RecordingProtocol>();
                Server server = await family.CreateServerAsync(test.Loop, () =>
                {
                    var p = new EchoProtocol();
                    serverSide.Add(p);
                    return p;
                });
                for (int i = 0; i < cycles; i++)
                {
                    (IStreamTransport client, RecordingProtocol protocol) = await family.ConnectAsync(test.Loop, server, () => new RecordingProtocol());
                    if (i % 2 == 0)
                    {
                        client.Write("ping"u8);
                        await protocol.WaitForBytesAsync(4);
                        client.Close();
                    }
                    else
                    {
                        client.Abort();
                    }

                    await protocol.Lost;
                }

                // A Unix connect completes before the accept: let the server accept the last ones before closing it.
                while (serverSide.Count < cycles)
                {
                    await test.YieldAsync(1);
                }

                server.Close();
                await server.WaitClosedAsync();
                Assert.Equal(cycles, serverSide.Count);
                Assert.All(serverSide, p => Assert.Equal(1, p.LostCount));
                await test.YieldAsync();
            },
            seconds: 60);
        Assert.Empty(test.HandlerReports);
    }

    /// <summary>
    /// This process's open socket descriptors (fd → link target), read once earlier tests' abandoned objects have been
    /// finalized (they close theirs).
    /// </summary>
    private static Dictionary<string, string> OpenSocketsAfterCollecting()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var sockets = new Dictionary<string, string>();
        foreach (string path in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed between listing and reading
            }

            if (target is not null && target.StartsWith("socket:", StringComparison.Ordinal))
            {
                sockets[Path.GetFileName(path)] = target;
            }
        }

        return sockets;
    }
}
