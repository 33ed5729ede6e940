namespace AsyncNet.Streams.Framing.Codec;

/// <summary>
/// A frame's header declares a whole frame longer than the format's <see cref="LengthFieldFormat.MaxFrameLength"/>.
/// Thrown as soon as the header is readable, before any of the frame's payload is buffered.
/// </summary>
/// <remarks>
/// Every frame before this one has been delivered. Unless the format sets
/// <see cref="LengthFieldFormat.DiscardOversizedFrames"/>, the decoder is faulted and the connection should close;
/// with it, the decoder's next calls skip exactly this frame's <see cref="DeclaredLength"/> bytes.
/// </remarks>
public class FrameTooLargeException : InvalidFrameException
{
    /// <summary>Creates the exception with a message naming both lengths.</summary>
    /// <param name="declaredLength">The whole frame's length as the header declares it (saturated at <see cref="long.MaxValue"/>).</param>
    /// <param name="maxFrameLength">The format's limit.</param>
    public FrameTooLargeException(long declaredLength, long maxFrameLength)
        : this(declaredLength, maxFrameLength,
            $"A frame of {declaredLength} bytes (as its header declares) is over the maximum frame length of {maxFrameLength} bytes.")
    {
    }

    /// <summary>Creates the exception with a message of the caller's.</summary>
    /// <param name="declaredLength">The whole frame's length as the header declares it.</param>
    /// <param name="maxFrameLength">The format's limit.</param>
    /// <param name="message">What happened.</param>
    public FrameTooLargeException(long declaredLength, long maxFrameLength, string message)
        : base(message)
    {
        DeclaredLength = declaredLength;
        MaxFrameLength = maxFrameLength;
    }

    /// <summary>The whole frame's length as its header declares it, header and trailer included (saturated at <see cref="long.MaxValue"/>).</summary>
    public long DeclaredLength { get; }

    /// <summary>The format's <see cref="LengthFieldFormat.MaxFrameLength"/>.</summary>
    public long MaxFrameLength { get; }
}
