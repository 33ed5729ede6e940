using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace AsyncNet.Streams.Tests.Soak;

/// <summary>
/// Peers that never read and a peer that sends one byte a second cannot grow a line-echo server's memory, and the
/// server keeps serving a well-behaved client meanwhile.
/// </summary>
[Trait("Category", "Soak")]
[Collection("Soak")]
public sealed class HostilePeersSoakTests(ITestOutputHelper output) : IDisposable
{
    private const int Flooders = 20;

    /// <summary>What the server may add to the process's resident memory: far less than what the flooders send.</summary>
    private const long ResidentBound = 128L << 20;

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [SoakFact]
    public void NeverReadingFloodersAndAOneBytePerSecondSender_LeaveTheServerBoundedAndServing()
    {
        TimeSpan duration = TimeSpan.FromSeconds(SoakRun.Setting("ASYNCNET_SOAK_SLOW_SECONDS", 60));
        long baseline = 0, peak = 0, flooded = 0;
        int slowLines = 0, echoes = 0;
        _test.Run(
            async () =>
            {
                await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, async (reader, writer) =>
                {
                    byte[] line;
                    while ((line = await reader.ReadLineAsync()).Length > 0)
                    {
                        writer.Write(line);
                        await writer.DrainAsync();
                    }
                });
                var endPoint = (IPEndPoint)server.Sockets[0].LocalEndPoint!;
                GC.Collect();
                baseline = SoakRun.ResidentBytes();

                // The flooders: blocking sockets on pool threads, sending lines as fast as TCP lets them, never reading.
                var flooders = new List<Socket>();
                var floods = new List<Task>();
                byte[] lines = Bytes.Ascii(string.Concat(Enumerable.Repeat("flood flood flood flood flood flood\n", 1800)));
                for (int i = 0; i < Flooders; i++)
                {
                    var flooder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    flooder.Connect(endPoint);
                    flooders.Add(flooder);
                    floods.Add(Task.Run(() =>
                    {
                        try
                        {
                            while (true)
                            {
                                Interlocked.Add(ref flooded, flooder.Send(lines));
                            }
                        }
                        catch (Exception e) when (e is SocketException or ObjectDisposedException)
                        {
                            // Shut down at the end of the test.
                        }
                    }));
                }

                (StreamReader slowReader, StreamWriter slowWriter) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
                (StreamReader reader, StreamWriter writer) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
                byte[] slowLine = Bytes.Ascii("slow line\n");
                byte[] message = Bytes.Ascii("well-behaved client\n");
                var clock = System.Diagnostics.Stopwatch.StartNew();
                int sentBytes = 0;
                while (clock.Elapsed < duration)
                {
                    // One byte a second from the slow sender; its line comes back once its newline is in.
                    slowWriter.Write(slowLine.AsSpan(sentBytes++ % slowLine.Length, 1));
                    if (sentBytes % slowLine.Length == 0)
                    {
                        Assert.Equal(slowLine, await slowReader.ReadLineAsync());
                        slowLines++;
                    }

                    // Meanwhile the well-behaved client is served at once.
                    writer.Write(message);
                    Assert.Equal(message, await reader.ReadLineAsync());
                    echoes++;
                    peak = Math.Max(peak, SoakRun.ResidentBytes());
                    await _test.Loop.SleepAsync(TimeSpan.FromSeconds(1));
                }

                foreach (Socket flooder in flooders)
                {
                    flooder.Shutdown(SocketShutdown.Both);
                }

                await Task.WhenAll(floods).WaitAsync(TimeSpan.FromSeconds(30));
                flooders.ForEach(f => f.Dispose());
                slowWriter.Close();
                writer.Close();
                await writer.WaitClosedAsync();
            },
            seconds: (int)duration.TotalSeconds + 120);

        SoakRun.Report(output, $"hostile peers soak: {Flooders} never-reading flooders sent {Interlocked.Read(ref flooded):N0} bytes and a 1 B/s sender {slowLines} lines in {duration.TotalSeconds:0} s; " +
            $"{echoes} echoes to a well-behaved client; resident memory {baseline >> 20} MiB at the start, at most {peak >> 20} MiB (bound: +{ResidentBound >> 20} MiB)");
        Assert.True(peak - baseline < ResidentBound, $"Resident memory grew by {(peak - baseline) >> 20} MiB");
        Assert.True(slowLines >= (int)duration.TotalSeconds / 10 - 1, $"only {slowLines} slow lines echoed");
    }
}
