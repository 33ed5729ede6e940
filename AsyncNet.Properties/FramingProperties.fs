namespace AsyncNet.Properties

// Properties of length-field framing (issue 5): any format the options allow, any payloads that fit it, any
// chunking of the bytes, checked against the oracle (FrameLayout) through the sequence feeder (FrameFeed).
//
// Users can run the laws on their own formats: `FramingProperties.roundTripFor myFormat` and
// `FramingProperties.faultsFor myFormat` are FsCheck properties.

open System
open FsCheck
open FsCheck.FSharp
open AsyncNet.Streams.Framing.Codec

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
