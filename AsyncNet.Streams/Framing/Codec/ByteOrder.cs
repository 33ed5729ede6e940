namespace AsyncNet.Streams.Framing.Codec;

/// <summary>The order in which a multi-byte field's bytes appear on the wire.</summary>
public enum ByteOrder
{
    /// <summary>Most significant byte first ("network order"): 300 as a 2-byte field is <c>01 2C</c>.</summary>
    BigEndian = 0,

    /// <summary>Least significant byte first: 300 as a 2-byte field is <c>2C 01</c>.</summary>
    LittleEndian = 1,
}
