using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;

namespace AsyncNet.Streams.Framing.Codec;

/// <summary>
/// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF) as iSCSI, ext4
/// and Kafka compute it: the check value of "123456789" is 0xE3069283.
/// </summary>
/// <remarks>
/// Uses the CPU's CRC32 instruction (SSE4.2 on x86, the CRC extension on Arm64) where there is one, 8 bytes a
/// step, and slicing by 8 otherwise. Thread-safe and allocation-free.
/// </remarks>
internal static class Crc32C
{
    private static readonly uint[] s_tables = CrcSlicing.CreateTables(0x82F63B78u);

    /// <summary>Computes the CRC-32C of <paramref name="data"/>.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The CRC.</returns>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC-32C over more bytes: <c>Append(Compute(a), b) == Compute(a + b)</c>.</summary>
    /// <param name="crc">The CRC of the bytes so far (0 for none).</param>
    /// <param name="data">The next bytes.</param>
    /// <returns>The CRC of all the bytes.</returns>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => CrcRegister<Register>.Append(crc, data);

    /// <summary>Continues a CRC-32C over every segment of a sequence.</summary>
    /// <param name="crc">The CRC of the bytes so far (0 for none).</param>
    /// <param name="data">The next bytes.</param>
    /// <returns>The CRC of all the bytes.</returns>
    public static uint Append(uint crc, in ReadOnlySequence<byte> data) => CrcRegister<Register>.Append(crc, data);

    /// <summary>The CRC-32C register, for <see cref="CrcRegister{TRegister}"/>.</summary>
    private readonly struct Register : ICrcRegister
    {
        public static uint Update(uint state, ReadOnlySpan<byte> data) => Crc32C.Update(state, data);
    }

    /// <summary>Runs bytes through the raw register (inverted in and out by the callers), on the CPU's CRC-32C instruction when it has one.</summary>
    internal static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        // Stryker disable all : which path runs depends on the CPU; each path a CPU has is tested directly against the tables
        if (Sse42.X64.IsSupported)
        {
            return UpdateSse42X64(state, data);
        }

        if (Sse42.IsSupported)
        {
            return UpdateSse42(state, data);
        }

        if (ArmCrc32.Arm64.IsSupported)
        {
            return UpdateArm64(state, data);
        }

        // Stryker restore all

        return CrcSlicing.Update(s_tables, state, data);
    }

    /// <summary>The 64-bit SSE4.2 path (tests run it directly where the CPU has it).</summary>
    internal static uint UpdateSse42X64(uint state, ReadOnlySpan<byte> data)
    {
        ulong wide = state;

        // Stryker disable once Equality : the last 8 bytes go through the byte loop instead, to the same CRC
        while (data.Length >= 8)
        {
            wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        state = (uint)wide;
        foreach (byte b in data)
        {
            state = Sse42.Crc32(state, b);
        }

        return state;
    }

    /// <summary>The 32-bit SSE4.2 path (tests run it directly where the CPU has it).</summary>
    internal static uint UpdateSse42(uint state, ReadOnlySpan<byte> data)
    {
        // Stryker disable once Equality : the last 4 bytes go through the byte loop instead, to the same CRC
        while (data.Length >= 4)
        {
            state = Sse42.Crc32(state, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[4..];
        }

        foreach (byte b in data)
        {
            state = Sse42.Crc32(state, b);
        }

        return state;
    }

    // Stryker disable all : the ARM64 path runs only on ARM64 CPUs, and CI runs on x86-64

    /// <summary>The ARM64 path (tests run it directly where the CPU has it).</summary>
    internal static uint UpdateArm64(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = ArmCrc32.Arm64.ComputeCrc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            state = ArmCrc32.ComputeCrc32C(state, b);
        }

        return state;
    }

    // Stryker restore all

    /// <summary>The portable path, for tests that compare it with the CPU's.</summary>
    internal static uint UpdateSoftware(uint state, ReadOnlySpan<byte> data) => CrcSlicing.Update(s_tables, state, data);
}
