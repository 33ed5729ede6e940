namespace AsyncNet.Streams.Framing.Codec;

/// <summary>
/// A frame's length field cannot be right: it is negative (an 8-byte field, or a varint above 2^63 − 1), a varint
/// runs past 10 bytes, or the adjusted frame length is shorter than the header, the bytes to strip and the
/// checksum trailer need. The stream is out of step and the connection should close.
/// </summary>
/// <remarks>Every frame before this one has been delivered; the decoder is faulted.</remarks>
public class CorruptFrameException : InvalidFrameException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the values.</param>
    /// <param name="lengthFieldValue">The length field's value, or <see langword="null"/> when it could not be read (an overlong varint).</param>
    /// <param name="frameLength">The whole frame's length after adjustment, or <see langword="null"/> when it was not computed.</param>
    /// <param name="shortestFrameLength">The fewest bytes a frame of this format needs (header or stripped bytes, then the trailer).</param>
    public CorruptFrameException(string message, long? lengthFieldValue, long? frameLength, long shortestFrameLength)
        : base(message)
    {
        LengthFieldValue = lengthFieldValue;
        FrameLength = frameLength;
        ShortestFrameLength = shortestFrameLength;
    }

    /// <summary>The length field's value as read, or <see langword="null"/> when it could not be read.</summary>
    public long? LengthFieldValue { get; }

    /// <summary>The whole frame's length after adjustment, or <see langword="null"/> when it was not computed (a negative or unreadable field).</summary>
    public long? FrameLength { get; }

    /// <summary>The fewest bytes a frame of this format needs.</summary>
    public long ShortestFrameLength { get; }
}
