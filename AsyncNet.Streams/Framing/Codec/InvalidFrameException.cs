namespace AsyncNet.Streams.Framing.Codec;

/// <summary>
/// The base of the decoder's faults: the bytes received are not a valid frame of the format. Catch it to handle
/// <see cref="FrameTooLargeException"/>, <see cref="CorruptFrameException"/> and
/// <see cref="ChecksumMismatchException"/> alike.
/// </summary>
/// <remarks>
/// It derives from <see cref="IOException"/> because the BCL's <see cref="InvalidDataException"/>, the nearest
/// type, is sealed.
/// </remarks>
public abstract class InvalidFrameException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the frame, naming the values.</param>
    protected InvalidFrameException(string message)
        : base(message)
    {
    }
}
