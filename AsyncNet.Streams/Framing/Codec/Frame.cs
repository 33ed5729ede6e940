using System.Buffers;

namespace AsyncNet.Streams.Framing.Codec;

/// <summary>One decoded frame: its type (0 when the format has no type field) and its payload.</summary>
/// <remarks>
/// <see cref="FrameDecoder"/> returns payloads as slices of the buffer it was given, without copying: a payload
/// is valid only as long as that buffer is (until the caller advances its <c>PipeReader</c> past it, or reuses
/// the memory). Copy it (<c>Payload.ToArray()</c>) to keep it longer.
/// </remarks>
public readonly struct Frame
{
    /// <summary>Creates a frame.</summary>
    /// <param name="type">The frame's type; 0 when the format has no type field.</param>
    /// <param name="payload">The frame's payload.</param>
    public Frame(uint type, ReadOnlySequence<byte> payload)
    {
        Type = type;
        Payload = payload;
    }

    /// <summary>Creates a frame read in place by a <see cref="FrameReader"/>, whose header's bytes lie just before its payload.</summary>
    internal Frame(uint type, ReadOnlySequence<byte> payload, int headerInPlace)
        : this(type, payload)
    {
        HeaderInPlace = headerInPlace;
    }

    /// <summary>Creates a frame over contiguous memory.</summary>
    /// <param name="type">The frame's type; 0 when the format has no type field.</param>
    /// <param name="payload">The frame's payload.</param>
    public Frame(uint type, ReadOnlyMemory<byte> payload)
        : this(type, new ReadOnlySequence<byte>(payload))
    {
    }

    /// <summary>The frame's type field, read as an unsigned number; 0 when the format has no type field.</summary>
    public uint Type { get; }

    /// <summary>The frame's bytes after the format's stripped prefix, without the checksum trailer.</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>
    /// How many bytes of the frame's header, as received, lie just before <see cref="Payload"/> in the same array, in the
    /// reader's receive buffer (frames a <see cref="FrameReader"/> read whole from one array); 0 for any other frame.
    /// <see cref="FrameWriter.Write(Frame)"/> then writes a frame forwarded unchanged from where it lies.
    /// </summary>
    internal int HeaderInPlace { get; }

    /// <summary>Shows the frame's type and payload length, e.g. "Type=7, Payload=12 bytes".</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"Type={Type}, Payload={Payload.Length} bytes";
}
