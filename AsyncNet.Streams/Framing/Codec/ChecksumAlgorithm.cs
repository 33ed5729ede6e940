namespace AsyncNet.Streams.Framing.Codec;

/// <summary>The checksum a frame carries in its trailer, if any.</summary>
public enum ChecksumAlgorithm
{
    /// <summary>No trailer.</summary>
    None = 0,

    /// <summary>
    /// CRC-32 (IEEE 802.3, as zlib, PNG and Ethernet compute it; reflected polynomial 0xEDB88320): a 4-byte
    /// trailer. See <see cref="Codec.Crc32"/>.
    /// </summary>
    Crc32 = 1,

    /// <summary>
    /// CRC-32C (Castagnoli, as iSCSI, ext4 and Kafka compute it; reflected polynomial 0x82F63B78): a 4-byte
    /// trailer, computed by the CPU's CRC32 instruction where there is one. See <see cref="Codec.Crc32C"/>.
    /// </summary>
    Crc32C = 2,
}
