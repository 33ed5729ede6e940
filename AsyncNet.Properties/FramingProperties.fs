namespace AsyncNet.Properties

// Properties of length-field framing (issue 5): any format the options allow, any payloads that fit it, any
// chunking of the bytes. The layout is worked out here a second time, independently of FrameEncoder, so the
// encoder is checked against the format's definition and not only against the decoder.
//
// Users can run the laws on their own formats: `FramingProperties.roundTripFor myFormat` and
// `FramingProperties.faultsFor myFormat` are FsCheck properties.

open System
open System.Buffers
open FsCheck
open FsCheck.FSharp
open AsyncNet.Streams.Framing
open AsyncNet.Streams.Framing.Codec

/// One frame as sent or received: its type (0 without a type field) and its payload.
type FrameSpec = { Type: uint32; Payload: byte array }

/// What feeding a decoder some bytes, chunk by chunk, produced.
type FramingOutcome =
    {
        /// The frames returned, in order, with their payloads copied.
        Frames: FrameSpec list
        /// After each returned frame: the bytes consumed so far.
        Ends: int64 list
        /// At each call that returned no frame: the bytes consumed so far, and the decoder's BytesNeeded.
        Waits: (int64 * int64) list
        /// Oversized frames skipped by a discarding format.
        Skipped: FrameTooLargeException list
        /// The fault that stopped decoding, if any.
        Fault: InvalidFrameException option
        /// The bytes received but not consumed when decoding stopped.
        Unconsumed: int64
        /// Whether the decoder ended between frames.
        AtFrameBoundary: bool
    }

/// Frames of a format, and how their bytes are cut on the way to the decoder.
type FramingScenario =
    {
        Format: LengthFieldFormat
        Frames: FrameSpec list
        Chunking: Chunking
    }

/// The fault a bad frame must produce, with the values its exception must name.
type ExpectedFault =
    /// FrameTooLargeException { DeclaredLength, MaxFrameLength }.
    | TooLarge of declaredLength: int64
    /// CorruptFrameException for a negative length field.
    | Negative of lengthFieldValue: int64
    /// CorruptFrameException for an adjusted length shorter than the header, the stripped bytes and the trailer.
    | TooShort of lengthFieldValue: int64 * frameLength: int64
    /// ChecksumMismatchException { Expected, Actual }.
    | Mismatch of expected: uint32 * actual: uint32

/// Good frames, then the bytes of one bad frame (perhaps only its header: faults come before the payload is
/// buffered), then, for a format that skips oversized frames, more good frames.
type FaultScenario =
    {
        Format: LengthFieldFormat
        Earlier: FrameSpec list
        Bad: byte array
        Later: FrameSpec list
        Fault: ExpectedFault
        Chunking: Chunking
    }

/// The frame layout worked out from a format's definition, without FrameEncoder.
[<RequireQualifiedAccess>]
module FrameLayout =

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

type internal ChunkSegment(memory: ReadOnlyMemory<byte>, runningIndex: int64) as this =
    inherit ReadOnlySequenceSegment<byte>()

    do
        this.Memory <- memory
        this.RunningIndex <- runningIndex

    member this.Append(next: ReadOnlyMemory<byte>) =
        let segment = ChunkSegment(next, this.RunningIndex + int64 this.Memory.Length)
        this.Next <- segment
        segment

/// Feeds a FrameDecoder the way a PipeReader loop does.
[<RequireQualifiedAccess>]
module FrameFeed =

    /// A sequence whose segments are exactly `parts`.
    let sequence (parts: ReadOnlyMemory<byte> list) : ReadOnlySequence<byte> =
        match parts with
        | [] -> ReadOnlySequence<byte>.Empty
        | [ single ] -> ReadOnlySequence<byte>(single)
        | head :: rest ->
            let first = ChunkSegment(head, 0L)

            let last =
                rest
                |> List.fold (fun (segment: ChunkSegment) part -> segment.Append part) first

            ReadOnlySequence<byte>(first, 0, last, last.Memory.Length)

    /// Delivers `bytes` in the chunks of `chunking`; after each arrival calls TryDecode until it returns false,
    /// handing back the unconsumed segments plus the new chunk. An oversized frame in a discarding format is
    /// recorded and decoding goes on; any other fault stops it.
    let decode (format: LengthFieldFormat) (chunking: Chunking) (bytes: byte array) : FramingOutcome =
        let decoder = FrameDecoder(format)
        let frames = ResizeArray<FrameSpec>()
        let ends = ResizeArray<int64>()
        let waits = ResizeArray<int64 * int64>()
        let skipped = ResizeArray<FrameTooLargeException>()
        let mutable fault = None
        let mutable pending: ReadOnlyMemory<byte> list = []
        let mutable received = 0
        let mutable unconsumed = 0L
        let mutable cuts = chunking.Cuts

        while fault.IsNone && not cuts.IsEmpty do
            pending <- pending @ [ ReadOnlyMemory<byte>(bytes, received, cuts.Head) ]
            received <- received + cuts.Head
            cuts <- cuts.Tail
            let mutable buffer = sequence pending
            let mutable more = true

            while more do
                try
                    let mutable frame = Unchecked.defaultof<Frame>

                    if decoder.TryDecode(&buffer, &frame) then
                        let payload = frame.Payload

                        frames.Add
                            {
                                Type = frame.Type
                                Payload = payload.ToArray()
                            }

                        ends.Add(int64 received - buffer.Length)
                    else
                        waits.Add((int64 received - buffer.Length, decoder.BytesNeeded))
                        more <- false
                with
                | :? FrameTooLargeException as e when decoder.IsDiscarding -> skipped.Add e
                | :? InvalidFrameException as e ->
                    fault <- Some e
                    more <- false

            let rest = ResizeArray<ReadOnlyMemory<byte>>()
            let mutable segments = buffer.GetEnumerator()

            while segments.MoveNext() do
                rest.Add segments.Current

            pending <- List.ofSeq rest
            unconsumed <- buffer.Length

        {
            Frames = List.ofSeq frames
            Ends = List.ofSeq ends
            Waits = List.ofSeq waits
            Skipped = List.ofSeq skipped
            Fault = fault
            Unconsumed = unconsumed
            AtFrameBoundary = decoder.IsAtFrameBoundary
        }

/// Generators of formats, frames and faults. Public, so users can fuzz their own framing code with them.
[<RequireQualifiedAccess>]
module FramingGen =

    /// The longest payload the generators make: enough for every header edge, small enough to cut byte by byte.
    let maxPayload = 300

    /// Any valid format: every length-field size and byte order, an optional type field before or after the
    /// length field, gaps of unnamed header bytes, adjustments around "counts the payload", "counts the whole
    /// frame" and "counts what follows the field", any strip, any checksum and coverage, small or default maxima.
    let format: Gen<LengthFieldFormat> =
        let candidate =
            gen {
                let! size = Gen.elements [ 1; 2; 3; 4; 8; LengthFieldFormat.Varint ]
                let! order = Gen.elements [ ByteOrder.BigEndian; ByteOrder.LittleEndian ]
                let! typeSize = Gen.frequency [ 3, Gen.constant 0; 2, Gen.choose (1, 4) ]

                let! typeFirst =
                    if size = LengthFieldFormat.Varint then
                        Gen.constant true
                    else
                        Gen.elements [ true; false ]

                let! gapBefore = Gen.frequency [ 3, Gen.constant 0; 1, Gen.choose (1, 3) ]
                let! gapBetween = Gen.frequency [ 3, Gen.constant 0; 1, Gen.choose (1, 3) ]
                let fieldSize = if size = LengthFieldFormat.Varint then 1 else size

                let lengthOffset, typeOffset =
                    if typeSize = 0 then
                        gapBefore, 0
                    elif typeFirst then
                        gapBefore + typeSize + gapBetween, gapBefore
                    else
                        gapBefore, gapBefore + fieldSize + gapBetween

                let fieldEnd = lengthOffset + fieldSize
                let headerLength = max fieldEnd (typeOffset + typeSize)

                let! checksum =
                    Gen.frequency
                        [
                            2, Gen.constant ChecksumAlgorithm.None
                            1, Gen.constant ChecksumAlgorithm.Crc32
                            1, Gen.constant ChecksumAlgorithm.Crc32C
                        ]

                let! coverage =
                    Gen.elements
                        [
                            ChecksumCoverage.Frame
                            ChecksumCoverage.AfterLengthField
                            ChecksumCoverage.Payload
                        ]

                let trailer = if checksum = ChecksumAlgorithm.None then 0 else 4

                let! meaning =
                    Gen.elements
                        [
                            headerLength - fieldEnd + trailer // the field counts the payload
                            (if size = LengthFieldFormat.Varint then
                                 trailer
                             else
                                 -fieldEnd) // the whole frame
                            0
                        ] // what follows the field

                let! delta = Gen.frequency [ 4, Gen.constant 0; 1, Gen.choose (-3, 3) ]

                let! strip =
                    Gen.frequency
                        [
                            3, Gen.constant (Nullable())
                            1, Gen.choose (0, headerLength + 3) |> Gen.map Nullable
                        ]

                let shortest =
                    int64 (
                        max headerLength (if strip.HasValue then strip.Value else headerLength)
                        + trailer
                    )

                let! maxFrame =
                    Gen.frequency
                        [
                            1, Gen.constant LengthFieldFormat.DefaultMaxFrameLength
                            2, Gen.choose (0, 200) |> Gen.map (fun extra -> shortest + int64 extra)
                        ]

                let! discard = Gen.elements [ false; true ]

                return
                    LengthFieldFormat(
                        lengthFieldOffset = lengthOffset,
                        lengthFieldSize = size,
                        byteOrder = order,
                        lengthAdjustment = meaning + delta,
                        initialBytesToStrip = strip,
                        maxFrameLength = maxFrame,
                        typeFieldOffset = typeOffset,
                        typeFieldSize = typeSize,
                        checksum = checksum,
                        checksumCoverage = coverage,
                        discardOversizedFrames = discard
                    )
            }
        // Keep the formats that can carry at least one payload of reasonable size.
        candidate
        |> Gen.filter (fun f -> (FrameLayout.payloadRange f maxPayload).IsSome)

    /// A type the format's type field holds (0 without one).
    let frameType (format: LengthFieldFormat) : Gen<uint32> =
        if not format.HasTypeField then
            Gen.constant 0u
        else
            Gen.frequency
                [
                    3, Gen.choose (0, int (min format.MaxType 255u)) |> Gen.map uint32
                    1, Gen.constant format.MaxType
                    1, Gen.choose64 (0L, int64 format.MaxType) |> Gen.map uint32
                ]

    /// One frame whose payload fits the format, mostly near the shortest length.
    let frame (format: LengthFieldFormat) : Gen<FrameSpec> =
        match FrameLayout.payloadRange format maxPayload with
        | None -> invalidArg (nameof format) $"No payload of up to {maxPayload} bytes fits the format {format}."
        | Some(lo, hi) ->
            gen {
                let! length =
                    Gen.frequency [ 4, Gen.choose (lo, min hi (lo + 16)); 1, Gen.choose (lo, hi) ]

                let! payload = Gen.arrayOfLength length (Gen.choose (0, 255) |> Gen.map byte)
                let! frameType = frameType format
                return { Type = frameType; Payload = payload }
            }

    /// Up to `maxFrames` frames of a format.
    let frames (maxFrames: int) (format: LengthFieldFormat) : Gen<FrameSpec list> =
        gen {
            let! count = Gen.choose (0, maxFrames)
            return! Gen.listOfLength count (frame format)
        }

    /// Frames of the given format, encoded and cut some way.
    let scenarioFor (format: LengthFieldFormat) : Gen<FramingScenario> =
        gen {
            let! frames = frames 6 format
            let length = frames |> List.sumBy (fun f -> (FrameLayout.wire format f).Length)
            let! chunking = Generators.chunking length

            return
                {
                    Format = format
                    Frames = frames
                    Chunking = chunking
                }
        }

    /// Frames of any format, encoded and cut some way.
    let scenario: Gen<FramingScenario> = format |> Gen.bind scenarioFor

    /// An oversized frame: its header only (its payload never needed) or, for a discarding format, whole.
    let private oversized (format: LengthFieldFormat) : Gen<(byte array * ExpectedFault) option> =
        let max = format.MaxFrameLength

        let start =
            Math.Max(0L, max - int64 format.MaxHeaderLength - int64 format.ChecksumLength)

        let candidates =
            [ start .. start + int64 format.MaxHeaderLength + 8L ]
            |> List.filter (fun n ->
                let value = FrameLayout.lengthFieldValue format n

                value >= 0L
                && value <= format.MaxLengthFieldValue
                && FrameLayout.frameLength format n > max)

        if candidates.IsEmpty || max > 2000L then
            Gen.constant None
        else
            gen {
                let! n = Gen.elements candidates
                let! frameType = frameType format

                let head =
                    FrameLayout.header format frameType (FrameLayout.lengthFieldValue format n)

                let declared = FrameLayout.frameLength format n
                let! partial = Gen.choose (0, int n)

                let bytes =
                    if format.DiscardOversizedFrames then
                        Array.append head (Array.zeroCreate (int (declared - int64 head.Length)))
                    else
                        Array.append head (Array.zeroCreate partial)

                return Some(bytes, TooLarge declared)
            }

    /// A header whose length field is negative (8-byte and varint fields only).
    let private negative (format: LengthFieldFormat) : Gen<(byte array * ExpectedFault) option> =
        if format.LengthFieldSize <> 8 && not format.IsVarint then
            Gen.constant None
        else
            gen {
                let! value =
                    Gen.frequency
                        [
                            1, Gen.constant -1L
                            1, Gen.constant Int64.MinValue
                            2, Gen.choose64 (Int64.MinValue, -1L)
                        ]

                let! frameType = frameType format
                return Some(FrameLayout.header format frameType value, Negative value)
            }

    /// A header whose adjusted length is shorter than the format's shortest frame, where the field can say so.
    let private tooShort (format: LengthFieldFormat) : Gen<(byte array * ExpectedFault) option> =
        let headerFor value = FrameLayout.header format 0u value

        let shortOnes =
            [ 0L .. 127L ]
            |> List.filter (fun value ->
                let head = headerFor value
                let fieldEnd = FrameLayout.lengthFieldEnd format head.Length

                value <= format.MaxLengthFieldValue
                && value + int64 format.LengthAdjustment + int64 fieldEnd <
                    FrameLayout.shortestFrame format head.Length)

        if shortOnes.IsEmpty then
            Gen.constant None
        else
            gen {
                let! value = Gen.elements shortOnes
                let! frameType = frameType format
                let head = FrameLayout.header format frameType value

                let frameLength =
                    value
                    + int64 format.LengthAdjustment
                    + int64 (FrameLayout.lengthFieldEnd format head.Length)

                return Some(head, TooShort(value, frameLength))
            }

    /// A whole frame with one bit flipped where only the checksum can notice: a covered byte outside the length
    /// field, or the trailer.
    let private damaged (format: LengthFieldFormat) : Gen<(byte array * ExpectedFault) option> =
        if format.Checksum = ChecksumAlgorithm.None then
            Gen.constant None
        else
            gen {
                let! sent = frame format
                let bytes = FrameLayout.wire format sent
                let head = FrameLayout.headerLength format (int64 sent.Payload.Length)
                let fieldStart = format.LengthFieldOffset
                let fieldEnd = FrameLayout.lengthFieldEnd format head
                let start = FrameLayout.checksumStart format head

                let positions =
                    [ start .. bytes.Length - 1 ]
                    |> List.filter (fun p -> p < fieldStart || p >= fieldEnd)

                let! position = Gen.elements positions
                let! bit = Gen.choose (0, 7)
                let bad = Array.copy bytes
                bad[position] <- bad[position] ^^^ (1uy <<< bit)
                let trailerAt = bad.Length - 4
                let expected = uint32 (FrameLayout.readField format.ByteOrder bad trailerAt 4)

                let actual =
                    FrameLayout.checksum format (ReadOnlySpan(bad, start, trailerAt - start))

                return Some(bad, Mismatch(expected, actual))
            }

    /// A fault scenario of the given format, if the format can be broken that way.
    let faultScenarioFor (format: LengthFieldFormat) : Gen<FaultScenario option> =
        gen {
            let! kind = Gen.elements [ oversized; negative; tooShort; damaged ]

            match! kind format with
            | None -> return None
            | Some(bad, fault) ->
                let! earlier = frames 4 format

                let! later =
                    match fault with
                    | TooLarge _ when format.DiscardOversizedFrames -> frames 3 format
                    | Mismatch _ -> frames 2 format // never delivered: decoding stops at the fault
                    | _ -> Gen.constant []

                let length =
                    (earlier @ later |> List.sumBy (fun f -> (FrameLayout.wire format f).Length))
                    + bad.Length

                let! chunking = Generators.chunking length

                return
                    Some
                        {
                            Format = format
                            Earlier = earlier
                            Bad = bad
                            Later = later
                            Fault = fault
                            Chunking = chunking
                        }
        }

    /// A fault scenario of any format.
    let faultScenario: Gen<FaultScenario> =
        format
        |> Gen.bind faultScenarioFor
        |> Gen.filter Option.isSome
        |> Gen.map Option.get

/// The laws. Each returns a property labelled with what went wrong.
[<RequireQualifiedAccess>]
module FramingProperties =

    let private describe (frames: FrameSpec list) =
        frames
        |> List.map (fun f -> $"{f.Type}:{Convert.ToHexString f.Payload}")
        |> String.concat "; "

    /// The encoder writes header, payload and trailer exactly as the format defines them.
    let encoderWritesTheFormatsLayout (scenario: FramingScenario) : Property =
        let encoder = FrameEncoder(scenario.Format)

        scenario.Frames
        |> List.map (fun f ->
            let expected = FrameLayout.wire scenario.Format f
            let actual = encoder.Encode(f.Type, ReadOnlySpan f.Payload)

            (expected = actual)
            |> Prop.label
                $"frame {f.Type}:{Convert.ToHexString f.Payload}: expected {Convert.ToHexString expected}, encoded {Convert.ToHexString actual}")
        |> List.fold (.&.) (Prop.ofTestable true)
        |> Prop.label $"format {scenario.Format}"

    /// decode(any chunking of encode(frames)) = frames: every frame, in order, nothing left over, no fault.
    let decodeAfterEncodeIsIdentity (scenario: FramingScenario) : Property =
        let format = scenario.Format
        let encoder = FrameEncoder(format)

        let bytes =
            scenario.Frames
            |> List.map (fun f -> encoder.Encode(f.Type, ReadOnlySpan f.Payload))
            |> Array.concat

        let outcome = FrameFeed.decode format scenario.Chunking bytes
        let expected = scenario.Frames |> List.map (FrameLayout.decoded format)

        (outcome.Fault.IsNone |> Prop.label $"fault: {outcome.Fault}")
        .&. (outcome.Frames = expected
             |> Prop.label $"expected [{describe expected}], decoded [{describe outcome.Frames}]")
        .&. (outcome.Unconsumed = 0L
             |> Prop.label $"{outcome.Unconsumed} bytes left unconsumed")
        .&. (outcome.AtFrameBoundary |> Prop.label "the decoder ended inside a frame")
        |> Prop.label $"format {format}; cuts %A{scenario.Chunking.Cuts}"

    /// The decoder never consumes past a frame's end and never waits for a byte past the frame in progress:
    /// after the k-th frame exactly the first k frames' bytes are consumed, and every BytesNeeded ends within the
    /// frame that starts where the decoder stands. Bytes after the last frame (`tail`) change none of that.
    let decoderNeverReadsPastAFramesEnd (scenario: FramingScenario) (tail: byte array) : Property =
        let format = scenario.Format
        let wires = scenario.Frames |> List.map (FrameLayout.wire format)

        let ends =
            wires |> List.scan (fun offset w -> offset + int64 w.Length) 0L |> List.tail

        let total = List.fold (fun _ e -> e) 0L ends
        let bytes = Array.append (Array.concat wires) tail

        let cuts =
            scenario.Chunking.Cuts @ (if tail.Length > 0 then [ tail.Length ] else [])

        let outcome = FrameFeed.decode format { Cuts = cuts } bytes
        let starts = 0L :: ends

        let frameEndAt start =
            List.zip starts (ends @ [ Int64.MaxValue ])
            |> List.tryFind (fun (s, _) -> s = start)
            |> Option.map snd

        let badWaits =
            outcome.Waits
            |> List.filter (fun (consumed, needed) ->
                consumed < total
                && (match frameEndAt consumed with
                    | Some frameEnd -> consumed + needed > frameEnd
                    | None -> true))

        let delivered = List.truncate wires.Length outcome.Ends

        (List.truncate wires.Length outcome.Frames = (scenario.Frames |> List.map (FrameLayout.decoded format))
         |> Prop.label "the frames before the tail differ")
        .&. (delivered = ends
             |> Prop.label $"consumed after each frame: expected %A{ends}, observed %A{delivered}")
        .&. (badWaits.IsEmpty
             |> Prop.label $"waited for bytes past a frame's end (consumed, needed): %A{badWaits}; frame ends %A{ends}")
        |> Prop.label $"format {format}; cuts %A{cuts}"

    /// Oversized, negative, too-short and damaged frames give their own exception naming the right values, after
    /// every earlier frame; nothing of the bad frame is consumed; a discarding format skips exactly the oversized
    /// frame and delivers the later ones.
    let faultComesAfterEarlierFrames (scenario: FaultScenario) : Property =
        let format = scenario.Format

        let wire frames =
            frames |> List.map (FrameLayout.wire format) |> Array.concat

        let earlierBytes = wire scenario.Earlier
        let bytes = Array.concat [ earlierBytes; scenario.Bad; wire scenario.Later ]
        let outcome = FrameFeed.decode format scenario.Chunking bytes

        let decoded frames =
            frames |> List.map (FrameLayout.decoded format)

        let skipping =
            match scenario.Fault with
            | TooLarge _ -> format.DiscardOversizedFrames
            | _ -> false

        let expectedFrames =
            if skipping then
                decoded (scenario.Earlier @ scenario.Later)
            else
                decoded scenario.Earlier

        let framesOk =
            outcome.Frames = expectedFrames
            |> Prop.label $"expected [{describe expectedFrames}], decoded [{describe outcome.Frames}]"

        let consumedOk =
            if skipping then
                outcome.Unconsumed = 0L
                |> Prop.label $"{outcome.Unconsumed} bytes left after skipping"
            else
                let consumed = outcome.Ends |> List.fold (fun _ e -> e) 0L

                consumed = int64 earlierBytes.Length
                |> Prop.label $"consumed {consumed} bytes; the earlier frames are {earlierBytes.Length}"

        let thrown: exn option =
            if skipping then
                outcome.Skipped |> List.tryHead |> Option.map (fun e -> e :> exn)
            else
                outcome.Fault |> Option.map (fun e -> e :> exn)

        let faultOk =
            match scenario.Fault, thrown with
            | TooLarge declared, Some(:? FrameTooLargeException as e) ->
                (e.DeclaredLength = declared && e.MaxFrameLength = format.MaxFrameLength)
                |> Prop.label $"declared {e.DeclaredLength} (expected {declared}), max {e.MaxFrameLength}"
            | Negative value, Some(:? CorruptFrameException as e) ->
                (e.LengthFieldValue = Nullable value && not e.FrameLength.HasValue)
                |> Prop.label $"length field {e.LengthFieldValue} (expected {value})"
            | TooShort(value, frameLength), Some(:? CorruptFrameException as e) ->
                (e.LengthFieldValue = Nullable value && e.FrameLength = Nullable frameLength)
                |> Prop.label
                    $"length field {e.LengthFieldValue}, frame {e.FrameLength} (expected {value}, {frameLength})"
            | Mismatch(expected, actual), Some(:? ChecksumMismatchException as e) ->
                (e.Expected = expected && e.Actual = actual)
                |> Prop.label
                    $"expected 0x{e.Expected:X8}, actual 0x{e.Actual:X8} (should be 0x{expected:X8}, 0x{actual:X8})"
            | fault, e -> false |> Prop.label $"expected {fault}, got {e}"

        let othersOk =
            if skipping then
                (outcome.Fault.IsNone && outcome.Skipped.Length = 1)
                |> Prop.label $"fault {outcome.Fault}; skipped {outcome.Skipped.Length}"
            else
                outcome.Skipped.IsEmpty |> Prop.label "skipped a frame without discarding"

        framesOk .&. consumedOk .&. faultOk .&. othersOk
        |> Prop.label $"format {format}; bad {Convert.ToHexString scenario.Bad}; cuts %A{scenario.Chunking.Cuts}"

    /// The round-trip and never-past-the-end laws, for frames of a format of the user's.
    let roundTripFor (format: LengthFieldFormat) : Property =
        Prop.forAll
            (Arb.fromGen (Gen.zip (FramingGen.scenarioFor format) (Generators.bytes 16)))
            (fun (scenario, tail) ->
                encoderWritesTheFormatsLayout scenario
                .&. decodeAfterEncodeIsIdentity scenario
                .&. decoderNeverReadsPastAFramesEnd scenario tail)

    /// The fault law, for a format of the user's (vacuous for faults the format cannot express).
    let faultsFor (format: LengthFieldFormat) : Property =
        Prop.forAll (Arb.fromGen (FramingGen.faultScenarioFor format)) (fun scenario ->
            match scenario with
            | Some s -> faultComesAfterEarlierFrames s
            | None -> Prop.ofTestable true)
