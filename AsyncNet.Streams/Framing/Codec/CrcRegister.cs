using System.Buffers;

namespace AsyncNet.Streams.Framing.Codec;

/// <summary>One reflected CRC-32's raw register update: what <see cref="Crc32"/> and <see cref="Crc32C"/> differ in.</summary>
internal interface ICrcRegister
{
    /// <summary>Runs bytes through the register (already inverted at the start, not yet inverted at the end).</summary>
    static abstract uint Update(uint state, ReadOnlySpan<byte> data);
}

/// <summary>
/// What every reflected CRC-32 with initial value and final XOR 0xFFFFFFFF does around its register: the inversions,
/// and the walk over a sequence's segments. Generic over the register so each CRC's update is called directly.
/// </summary>
/// <typeparam name="TRegister">The CRC's register.</typeparam>
internal static class CrcRegister<TRegister>
    where TRegister : ICrcRegister
{
    /// <summary>Continues a CRC over more bytes.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => ~TRegister.Update(~crc, data);

    /// <summary>Continues a CRC over every segment of a sequence.</summary>
    public static uint Append(uint crc, in ReadOnlySequence<byte> data)
    {
        uint state = ~crc;
        if (data.IsSingleSegment)
        {
            return ~TRegister.Update(state, data.FirstSpan);
        }

        foreach (ReadOnlyMemory<byte> segment in data)
        {
            state = TRegister.Update(state, segment.Span);
        }

        return ~state;
    }
}
