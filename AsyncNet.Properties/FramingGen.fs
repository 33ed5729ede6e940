namespace AsyncNet.Properties

// Generators of length-field formats, frames that fit them, and bad frames with the fault each must produce. Public,
// so users can fuzz their own framing code with the same inputs.

open System
open FsCheck
open FsCheck.FSharp
open AsyncNet.Streams.Framing.Codec

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
