using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AsyncNet.Streams.Framing.Codec;

/// <summary>
/// Table-driven reflected CRC-32, slicing by 8 (Intel's 2006 method): eight 256-entry tables let one step fold
/// 8 bytes with 8 independent lookups. The portable fallback for <see cref="Crc32"/> and <see cref="Crc32C"/>.
/// </summary>
/// <remarks>
/// The state is the register itself (already inverted at the start, not yet inverted at the end); the public
/// classes do the inversions.
/// </remarks>
internal static class CrcSlicing
{
    /// <summary>Builds the 8 × 256 tables for a reflected polynomial, flattened: table k starts at 256 × k.</summary>
    public static uint[] CreateTables(uint reflectedPolynomial)
    {
        var tables = new uint[8 * 256];
        // Stryker disable once Equality : entry 256 is the next table's first, which the loop below overwrites before anything reads it
        for (uint i = 0; i < 256; i++)
        {
            uint crc = i;
            for (int bit = 0; bit < 8; bit++)
            {
                // Stryker disable once Bitwise : crc is unsigned, so >> and >>> agree
                crc = (crc & 1) != 0 ? (crc >> 1) ^ reflectedPolynomial : crc >> 1;
            }

            tables[i] = crc;
        }

        // Table k maps a byte to its effect after k more zero bytes have gone through.
        for (int k = 1; k < 8; k++)
        {
            for (int i = 0; i < 256; i++)
            {
                uint previous = tables[((k - 1) * 256) + i];
                // Stryker disable once Bitwise : previous is unsigned, so >> and >>> agree
                tables[(k * 256) + i] = (previous >> 8) ^ tables[previous & 0xFF];
            }
        }

        return tables;
    }

    /// <summary>Runs <paramref name="data"/> through the register <paramref name="state"/>.</summary>
    public static uint Update(uint[] tables, uint state, ReadOnlySpan<byte> data)
    {
        ref uint t = ref MemoryMarshal.GetArrayDataReference(tables);
        // Stryker disable once Equality : the last 8 bytes go through the byte loop instead, to the same CRC
        while (data.Length >= 8)
        {
            uint one = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ state;
            uint two = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);

            // Stryker disable Bitwise : one and two are unsigned, so >> and >>> agree
            state = Unsafe.Add(ref t, (7 * 256) + (int)(one & 0xFF))
                ^ Unsafe.Add(ref t, (6 * 256) + (int)((one >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (5 * 256) + (int)((one >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (4 * 256) + (int)(one >> 24))
                ^ Unsafe.Add(ref t, (3 * 256) + (int)(two & 0xFF))
                ^ Unsafe.Add(ref t, (2 * 256) + (int)((two >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, 256 + (int)((two >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (int)(two >> 24));

            // Stryker restore Bitwise
            data = data[8..];
        }

        foreach (byte b in data)
        {
            // Stryker disable once Bitwise : state is unsigned, so >> and >>> agree
            state = (state >> 8) ^ Unsafe.Add(ref t, (int)((state ^ b) & 0xFF));
        }

        return state;
    }
}
