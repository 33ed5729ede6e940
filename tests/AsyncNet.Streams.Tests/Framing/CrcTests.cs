using System.Buffers;
using System.Text;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

public class CrcTests
{
    private static readonly byte[] Check = Encoding.ASCII.GetBytes("123456789");

    [Fact]
    public void Crc32_CheckValue() => Assert.Equal(0xCBF43926u, Crc32.Compute(Check));

    [Fact]
    public void Crc32C_CheckValue() => Assert.Equal(0xE3069283u, Crc32C.Compute(Check));

    [Fact]
    public void Empty_IsZero()
    {
        Assert.Equal(0u, Crc32.Compute([]));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void KnownVectors()
    {
        // zlib: crc32("The quick brown fox jumps over the lazy dog") = 0x414FA339; iSCSI (RFC 3720 B.4): 32 zero bytes -> 0x8A9136AA.
        Assert.Equal(0x414FA339u, Crc32.Compute("The quick brown fox jumps over the lazy dog"u8));
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
    }

    [Fact]
    public void HardwareAndSoftwarePaths_AgreeOnEveryLengthAndAlignment()
    {
        var random = new Random(42);
        byte[] data = new byte[5000];
        random.NextBytes(data);
        foreach (int length in Enumerable.Range(0, 300).Concat([511, 512, 513, 1024, 4095, 4096, 4097, 4999]))
        {
            foreach (int offset in new[] { 0, 1, 3 })
            {
                if (offset + length > data.Length)
                {
                    continue;
                }

                ReadOnlySpan<byte> slice = data.AsSpan(offset, length);
                Assert.Equal(~Crc32.UpdateSoftware(uint.MaxValue, slice), Crc32.Compute(slice));
                Assert.Equal(~Crc32C.UpdateSoftware(uint.MaxValue, slice), Crc32C.Compute(slice));
            }
        }
    }

    [Fact]
    public void EachCrc32CInstructionPath_TheCpuHas_AgreesWithTheTables()
    {
        // Compute takes the first path the CPU has; each other one it has is run directly, so none goes untested.
        byte[] data = Bytes.Random(200, seed: 43);
        var paths = new List<(string Name, Func<uint, byte[], uint> Update)>();
        if (System.Runtime.Intrinsics.X86.Sse42.X64.IsSupported)
        {
            paths.Add(("SSE4.2 x64", (state, bytes) => Crc32C.UpdateSse42X64(state, bytes)));
        }

        if (System.Runtime.Intrinsics.X86.Sse42.IsSupported)
        {
            paths.Add(("SSE4.2", (state, bytes) => Crc32C.UpdateSse42(state, bytes)));
        }

        if (System.Runtime.Intrinsics.Arm.Crc32.Arm64.IsSupported)
        {
            paths.Add(("ARM64 CRC32C", (state, bytes) => Crc32C.UpdateArm64(state, bytes)));
            paths.Add(("ARM64 CRC32", (state, bytes) => Crc32.UpdateArm64(state, bytes)));
        }

        foreach ((string name, Func<uint, byte[], uint> update) in paths)
        {
            for (int length = 0; length <= data.Length; length += 7)
            {
                byte[] slice = data[..length];
                uint expected = name == "ARM64 CRC32" ? Crc32.UpdateSoftware(uint.MaxValue, slice) : Crc32C.UpdateSoftware(uint.MaxValue, slice);
                Assert.True(expected == update(uint.MaxValue, slice), $"{name} differs on {length} bytes");
            }
        }
    }

    [Fact]
    public void Append_ContinuesACrc()
    {
        byte[] data = new byte[1000];
        new Random(1).NextBytes(data);
        foreach (int cut in new[] { 0, 1, 7, 64, 65, 500, 999, 1000 })
        {
            Assert.Equal(Crc32.Compute(data), Crc32.Append(Crc32.Compute(data.AsSpan(0, cut)), data.AsSpan(cut)));
            Assert.Equal(Crc32C.Compute(data), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, cut)), data.AsSpan(cut)));
        }
    }

    [Fact]
    public void Append_OverASequence_EqualsTheContiguousCrc()
    {
        byte[] data = new byte[700];
        new Random(2).NextBytes(data);
        ReadOnlySequence<byte> sequence = FramingTestKit.Sequence(data[..1], data[1..100], [], data[100..]);
        Assert.Equal(Crc32.Compute(data), Crc32.Append(0, sequence));
        Assert.Equal(Crc32C.Compute(data), Crc32C.Append(0, sequence));
        Assert.Equal(Crc32.Compute(data), Crc32.Append(0, new ReadOnlySequence<byte>(data)));
    }
}
