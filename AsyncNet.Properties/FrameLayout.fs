namespace AsyncNet.Properties

// The oracle of length-field framing: a frame's bytes worked out from the format's definition, independently of
// FrameEncoder and FrameDecoder, so both are checked against the definition and not only against each other.

open System
open AsyncNet.Streams.Framing.Codec

/// One frame as sent or received: its type (0 without a type field) and its payload.
type FrameSpec = { Type: uint32; Payload: byte array }

/// The frame layout worked out from a format's definition, without FrameEncoder.
[<RequireQualifiedAccess>]
module internal FrameLayout =

    let private leb128 (value: uint64) : byte array =
        let bytes = ResizeArray<byte>()
        let mutable v = value

        while v >= 0x80UL do
            bytes.Add(byte (v &&& 0x7FUL) ||| 0x80uy)
            v <- v >>> 7

        bytes.Add(byte v)
        bytes.ToArray()

    /// Writes `size` bytes of `value` at `offset` in the format's byte order.
    let writeField (order: ByteOrder) (destination: byte array) (offset: int) (size: int) (value: uint64) =
        for i in 0 .. size - 1 do
            let shift = 8 * (if order = ByteOrder.BigEndian then size - 1 - i else i)
            destination[offset + i] <- byte (value >>> shift)

    /// Reads `size` bytes at `offset` as an unsigned number in the format's byte order.
    let readField (order: ByteOrder) (source: byte array) (offset: int) (size: int) : uint64 =
        let mutable value = 0UL

        for i in 0 .. size - 1 do
            let shift = 8 * (if order = ByteOrder.BigEndian then size - 1 - i else i)
            value <- value ||| (uint64 source[offset + i] <<< shift)

        value

    /// Where the length field ends, for a frame whose header is `headerLength` bytes.
    let lengthFieldEnd (format: LengthFieldFormat) (headerLength: int) =
        if format.IsVarint then
            headerLength
        else
            format.LengthFieldOffset + format.LengthFieldSize

    /// The length field's value for a payload (the bytes after the header): Netty's arithmetic, inverted.
    let lengthFieldValue (format: LengthFieldFormat) (payloadLength: int64) : int64 =
        let afterField =
            if format.IsVarint then
                0L
            else
                int64 (format.MinimumHeaderLength - lengthFieldEnd format 0)

        afterField + payloadLength + int64 format.ChecksumLength
        - int64 format.LengthAdjustment

    /// The header: zeros, the type field and the length field holding `value` (written as given, even if corrupt).
    let header (format: LengthFieldFormat) (frameType: uint32) (value: int64) : byte array =
        let bytes =
            if format.IsVarint then
                Array.append (Array.zeroCreate format.LengthFieldOffset) (leb128 (uint64 value))
            else
                let h = Array.zeroCreate format.MinimumHeaderLength
                writeField format.ByteOrder h format.LengthFieldOffset format.LengthFieldSize (uint64 value)
                h

        if format.HasTypeField then
            writeField format.ByteOrder bytes format.TypeFieldOffset format.TypeFieldSize (uint64 frameType)

        bytes

    /// The header's length for a payload.
    let headerLength (format: LengthFieldFormat) (payloadLength: int64) : int =
        let value = lengthFieldValue format payloadLength

        if format.IsVarint && value >= 0L then
            format.LengthFieldOffset + (leb128 (uint64 value)).Length
        else
            format.MinimumHeaderLength

    /// The whole frame's length for a payload.
    let frameLength (format: LengthFieldFormat) (payloadLength: int64) : int64 =
        int64 (headerLength format payloadLength)
        + payloadLength
        + int64 format.ChecksumLength

    /// The bytes a frame strips, given its header length.
    let strip (format: LengthFieldFormat) (headerLength: int) : int =
        if format.InitialBytesToStrip.HasValue then
            format.InitialBytesToStrip.Value
        else
            headerLength

    /// The fewest bytes a frame can have: the header or the stripped bytes, then the trailer.
    let shortestFrame (format: LengthFieldFormat) (headerLength: int) : int64 =
        int64 (max headerLength (strip format headerLength))
        + int64 format.ChecksumLength

    /// Whether a payload of this length can be framed: the field holds its value and the frame is within limits.
    let fits (format: LengthFieldFormat) (payloadLength: int64) : bool =
        let value = lengthFieldValue format payloadLength
        let frame = frameLength format payloadLength

        value >= 0L
        && value <= format.MaxLengthFieldValue
        && frame <= format.MaxFrameLength
        && frame >= shortestFrame format (headerLength format payloadLength)

    /// The shortest and longest payloads up to `cap` bytes that fit, if any (the lengths that fit are contiguous).
    let payloadRange (format: LengthFieldFormat) (cap: int) : (int * int) option =
        match [ 0..cap ] |> List.tryFind (fun n -> fits format (int64 n)) with
        | None -> None
        | Some lo ->
            let mutable hi = lo

            while hi < cap && fits format (int64 (hi + 1)) do
                hi <- hi + 1

            Some(lo, hi)

    /// Where the checksum's coverage starts in a frame whose header is `headerLength` bytes.
    let checksumStart (format: LengthFieldFormat) (headerLength: int) : int =
        match format.ChecksumCoverage with
        | ChecksumCoverage.Frame -> 0
        | ChecksumCoverage.AfterLengthField -> lengthFieldEnd format headerLength
        | _ -> strip format headerLength

    /// The checksum of some bytes with the format's algorithm.
    let checksum (format: LengthFieldFormat) (bytes: ReadOnlySpan<byte>) : uint32 =
        if format.Checksum = ChecksumAlgorithm.Crc32 then
            Crc32.Compute bytes
        else
            Crc32C.Compute bytes

    /// A frame's bytes as the format defines them: header, payload, trailer.
    let wire (format: LengthFieldFormat) (frame: FrameSpec) : byte array =
        let n = int64 frame.Payload.Length
        let head = header format frame.Type (lengthFieldValue format n)
        let body = Array.append head frame.Payload

        if format.Checksum = ChecksumAlgorithm.None then
            body
        else
            let start = checksumStart format head.Length
            let trailer = Array.zeroCreate 4

            writeField
                format.ByteOrder
                trailer
                0
                4
                (uint64 (checksum format (ReadOnlySpan(body, start, body.Length - start))))

            Array.append body trailer

    /// The frame the decoder must return for a sent frame: the type, and the frame's bytes after the stripped prefix
    /// and before the trailer (exactly the payload sent when the format strips the header).
    let decoded (format: LengthFieldFormat) (frame: FrameSpec) : FrameSpec =
        let bytes = wire format frame
        let s = strip format (headerLength format (int64 frame.Payload.Length))

        {
            Type = frame.Type
            Payload = bytes[s .. bytes.Length - format.ChecksumLength - 1]
        }

    /// A copy of a format with another maximum frame length.
    let withMaxFrameLength (maxFrameLength: int64) (f: LengthFieldFormat) : LengthFieldFormat =
        LengthFieldFormat(
            lengthFieldOffset = f.LengthFieldOffset,
            lengthFieldSize = f.LengthFieldSize,
            byteOrder = f.ByteOrder,
            lengthAdjustment = f.LengthAdjustment,
            initialBytesToStrip = f.InitialBytesToStrip,
            maxFrameLength = maxFrameLength,
            typeFieldOffset = f.TypeFieldOffset,
            typeFieldSize = f.TypeFieldSize,
            checksum = f.Checksum,
            checksumCoverage = f.ChecksumCoverage,
            discardOversizedFrames = f.DiscardOversizedFrames
        )
