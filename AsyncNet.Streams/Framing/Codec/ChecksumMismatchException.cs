using System.Globalization;

namespace AsyncNet.Streams.Framing.Codec;

/// <summary>
/// A frame's checksum trailer does not match the checksum of the bytes it covers: the frame was damaged on the
/// way, or the two ends disagree on the format.
/// </summary>
/// <remarks>Every frame before this one has been delivered; the decoder is faulted and the connection should close.</remarks>
public class ChecksumMismatchException : InvalidFrameException
{
    /// <summary>Creates the exception with a message naming both checksums.</summary>
    /// <param name="algorithm">The checksum algorithm.</param>
    /// <param name="expected">The checksum the frame's trailer carries.</param>
    /// <param name="actual">The checksum computed over the received bytes.</param>
    public ChecksumMismatchException(ChecksumAlgorithm algorithm, uint expected, uint actual)
        : base(string.Format(CultureInfo.InvariantCulture, "The frame's {0} trailer says 0x{1:X8}, but its bytes give 0x{2:X8}.", algorithm, expected, actual))
    {
        Algorithm = algorithm;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The checksum algorithm.</summary>
    public ChecksumAlgorithm Algorithm { get; }

    /// <summary>The checksum the frame's trailer carries (what the sender computed).</summary>
    public uint Expected { get; }

    /// <summary>The checksum computed over the received bytes.</summary>
    public uint Actual { get; }
}
