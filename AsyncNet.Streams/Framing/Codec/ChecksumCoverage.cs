namespace AsyncNet.Streams.Framing.Codec;

/// <summary>Which bytes of a frame its checksum trailer covers. The trailer itself is never covered.</summary>
public enum ChecksumCoverage
{
    /// <summary>Every byte of the frame before the trailer, from the frame's first byte (header included).</summary>
    Frame = 0,

    /// <summary>
    /// The bytes after the length field, up to the trailer: a type field that follows the length field is
    /// covered, the length field is not (PNG's chunk CRC).
    /// </summary>
    AfterLengthField = 1,

    /// <summary>
    /// Exactly the bytes delivered as <see cref="Frame.Payload"/>: from the first byte kept after stripping up
    /// to the trailer.
    /// </summary>
    Payload = 2,
}
