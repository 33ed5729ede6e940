using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;

namespace AsyncNet.Streams.Framing.Codec;

/// <summary>
/// CRC-32 as IEEE 802.3, zlib and PNG compute it (reflected polynomial 0xEDB88320, initial value and final XOR
/// 0xFFFFFFFF): the check value of "123456789" is 0xCBF43926.
/// </summary>
/// <remarks>
/// Uses carry-less multiplication (PCLMULQDQ, folding 64 bytes a step) on x86 and the CRC32 instructions on
/// Arm64 where the CPU has them, and slicing by 8 otherwise. Thread-safe and allocation-free.
/// </remarks>
internal static class Crc32
{
    private static readonly uint[] s_tables = CrcSlicing.CreateTables(0xEDB88320u);

    /// <summary>Computes the CRC-32 of <paramref name="data"/>.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The CRC.</returns>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC-32 over more bytes: <c>Append(Compute(a), b) == Compute(a + b)</c>.</summary>
    /// <param name="crc">The CRC of the bytes so far (0 for none).</param>
    /// <param name="data">The next bytes.</param>
    /// <returns>The CRC of all the bytes.</returns>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => CrcRegister<Register>.Append(crc, data);

    /// <summary>Continues a CRC-32 over every segment of a sequence.</summary>
    /// <param name="crc">The CRC of the bytes so far (0 for none).</param>
    /// <param name="data">The next bytes.</param>
    /// <returns>The CRC of all the bytes.</returns>
    public static uint Append(uint crc, in ReadOnlySequence<byte> data) => CrcRegister<Register>.Append(crc, data);

    /// <summary>The CRC-32 register, for <see cref="CrcRegister{TRegister}"/>.</summary>
    private readonly struct Register : ICrcRegister
    {
        public static uint Update(uint state, ReadOnlySpan<byte> data) => Crc32.Update(state, data);
    }

    /// <summary>Runs bytes through the raw register (inverted in and out by the callers).</summary>
    internal static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        // Stryker disable once Logical,Equality : every x86-64 CPU has SSE2; fewer than 64 bytes (or exactly 64) through the tables give the same CRC
        if (Pclmulqdq.IsSupported && Sse2.IsSupported && data.Length >= 64)
        {
            int folded = data.Length & ~15;
            state = UpdatePclmul(state, data[..folded]);
            data = data[folded..];
        }
        // Stryker disable once all : the ARM64 path runs only on ARM64 CPUs, and CI runs on x86-64
        else if (ArmCrc32.Arm64.IsSupported)
        {
            return UpdateArm64(state, data);
        }

        return CrcSlicing.Update(s_tables, state, data);
    }

    // Stryker disable all : the ARM64 path runs only on ARM64 CPUs, and CI runs on x86-64

    /// <summary>The ARM64 path (tests run it directly where the CPU has it).</summary>
    internal static uint UpdateArm64(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = ArmCrc32.Arm64.ComputeCrc32(state, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            state = ArmCrc32.ComputeCrc32(state, b);
        }

        return state;
    }

    // Stryker restore all

    /// <summary>The portable path, for tests that compare it with the CPU's.</summary>
    internal static uint UpdateSoftware(uint state, ReadOnlySpan<byte> data) => CrcSlicing.Update(s_tables, state, data);

    /// <summary>
    /// Folds a multiple of 16 bytes, at least 64, with carry-less multiplication: four 128-bit lanes folded 64
    /// bytes at a time, folded into one lane, reduced to 64 bits and then to 32 by Barrett reduction (Gopal et
    /// al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ", Intel 2009; the constants are that
    /// paper's, for the bit-reflected IEEE polynomial).
    /// </summary>
    private static uint UpdatePclmul(uint state, ReadOnlySpan<byte> data)
    {
        // x^(4*128+32) mod P and x^(4*128-32) mod P, reflected: fold across four lanes (64 bytes).
        Vector128<ulong> k1k2 = Vector128.Create(0x0154442bd4UL, 0x01c6e41596UL);
        // x^(128+32) mod P and x^(128-32) mod P, reflected: fold one lane (16 bytes).
        Vector128<ulong> k3k4 = Vector128.Create(0x01751997d0UL, 0x00ccaa009eUL);
        // x^64 mod P, reflected: 128 bits to 64.
        Vector128<ulong> k5k0 = Vector128.Create(0x0163cd6124UL, 0UL);
        // The polynomial P and Barrett's mu = floor(x^64 / P), both reflected.
        Vector128<ulong> poly = Vector128.Create(0x01db710641UL, 0x01f7011641UL);
        Vector128<ulong> low32 = Vector128.Create(0x00000000FFFFFFFFUL);

        Vector128<ulong> x1 = Vector128.Create(data).AsUInt64();
        Vector128<ulong> x2 = Vector128.Create(data[16..]).AsUInt64();
        Vector128<ulong> x3 = Vector128.Create(data[32..]).AsUInt64();
        Vector128<ulong> x4 = Vector128.Create(data[48..]).AsUInt64();
        x1 ^= Vector128.CreateScalar(state).AsUInt64();
        data = data[64..];

        // Stryker disable once Equality : a last 64-byte block folds in the 16-byte loop below instead, to the same CRC
        while (data.Length >= 64)
        {
            x1 = Pclmulqdq.CarrylessMultiply(x1, k1k2, 0x00) ^ Pclmulqdq.CarrylessMultiply(x1, k1k2, 0x11) ^ Vector128.Create(data).AsUInt64();
            x2 = Pclmulqdq.CarrylessMultiply(x2, k1k2, 0x00) ^ Pclmulqdq.CarrylessMultiply(x2, k1k2, 0x11) ^ Vector128.Create(data[16..]).AsUInt64();
            x3 = Pclmulqdq.CarrylessMultiply(x3, k1k2, 0x00) ^ Pclmulqdq.CarrylessMultiply(x3, k1k2, 0x11) ^ Vector128.Create(data[32..]).AsUInt64();
            x4 = Pclmulqdq.CarrylessMultiply(x4, k1k2, 0x00) ^ Pclmulqdq.CarrylessMultiply(x4, k1k2, 0x11) ^ Vector128.Create(data[48..]).AsUInt64();
            data = data[64..];
        }

        x1 = Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x00) ^ Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x11) ^ x2;
        x1 = Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x00) ^ Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x11) ^ x3;
        x1 = Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x00) ^ Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x11) ^ x4;

        while (data.Length >= 16)
        {
            x1 = Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x00) ^ Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x11) ^ Vector128.Create(data).AsUInt64();
            data = data[16..];
        }

        // 128 bits to 64.
        x2 = Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x10);
        x1 = Sse2.ShiftRightLogical128BitLane(x1, 8) ^ x2;
        x2 = Sse2.ShiftRightLogical128BitLane(x1, 4);
        x1 = Pclmulqdq.CarrylessMultiply(x1 & low32, k5k0, 0x00) ^ x2;

        // Barrett reduction to 32 bits.
        x2 = Pclmulqdq.CarrylessMultiply(x1 & low32, poly, 0x10);
        x2 = Pclmulqdq.CarrylessMultiply(x2 & low32, poly, 0x00);
        x1 ^= x2;
        return x1.AsUInt32().GetElement(1);
    }
}
