using System.Security.Cryptography;
using Xunit.Abstractions;

namespace AsyncNet.Streams.Tests.Soak;

/// <summary>A gibibyte through a real connection, cut at random on both sides, arrives bit for bit.</summary>
[Trait("Category", "Soak")]
[Collection("Soak")]
public sealed class ThroughputSoakTests(ITestOutputHelper output) : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [SoakFact]
    public void OneGibibyte_InRandomWritesAndReads_HasTheSameSha256AtBothEnds()
    {
        long total = SoakRun.Setting("ASYNCNET_SOAK_BYTES", 1L << 30);
        byte[] source = Bytes.Random(1 << 20, seed: 11);
        byte[]? serverHash = null;
        long serverBytes = 0;
        var started = System.Diagnostics.Stopwatch.StartNew();
        _test.Run(
            async () =>
            {
                await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, async (reader, writer) =>
                {
                    // Reads of random sizes, hashing as they go; at EOF the hash goes back.
                    var random = new Random(12);
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    byte[] buffer = new byte[256 * 1024];
                    int n;
                    while ((n = await reader.ReadAsync(buffer.AsMemory(0, ChunkSize(random, buffer.Length)))) > 0)
                    {
                        hash.AppendData(buffer, 0, n);
                        serverBytes += n;
                    }

                    serverHash = hash.GetHashAndReset();
                    writer.Write(serverHash);
                });

                (StreamReader clientReader, StreamWriter clientWriter) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
                var random = new Random(13);
                using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                for (long offset = 0; offset < total;)
                {
                    int size = (int)Math.Min(ChunkSize(random, 256 * 1024), total - offset);
                    ReadOnlySpan<byte> chunk = source.AsSpan(random.Next(source.Length - size + 1), size);
                    sent.AppendData(chunk);
                    clientWriter.Write(chunk);
                    offset += size;
                    await clientWriter.DrainAsync();
                }

                clientWriter.WriteEof();
                byte[] echoedHash = await clientReader.ReadExactlyAsync(32);
                Assert.Equal(sent.GetHashAndReset(), echoedHash);
                Assert.Empty(await clientReader.ReadAsync(1));
                clientWriter.Close();
                await clientWriter.WaitClosedAsync();
            },
            seconds: 600);

        Assert.Equal(total, serverBytes);
        SoakRun.Report(output, $"1 GiB soak: {total:N0} bytes in random writes and reads over TCP in {started.Elapsed.TotalSeconds:0.0} s, SHA-256 {Convert.ToHexString(serverHash!)[..16]}... equal at both ends");
    }

    /// <summary>Sizes from 1 byte to <paramref name="max"/>: a tenth tiny, four tenths up to 4 KiB, the rest large.</summary>
    private static int ChunkSize(Random random, int max) => random.Next(10) switch
    {
        0 => random.Next(1, 65),
        < 5 => random.Next(65, 4097),
        _ => random.Next(4097, max + 1),
    };
}
