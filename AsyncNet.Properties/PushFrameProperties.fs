namespace AsyncNet.Properties

// Properties of PushFrameDecoder (issue 13): it is FrameDecoder with a buffer of its own, so for every format, every
// frame sequence and every chunking (empty and 1-byte chunks included) it must return what the sequence decoder fed by
// a PipeReader-style loop returns, fault for fault, and every frame before a fault first.

open System
open System.Buffers
open FsCheck
open FsCheck.FSharp
open AsyncNet.Streams.Framing.Codec

/// Frames (good, or good then bad) of a format, with a plan of chunk sizes that may hold empty chunks (WireGen.cut).
type PushFramingScenario =
    {
        Format: LengthFieldFormat
        Bytes: byte array
        /// What the frames decode to, as the format defines it.
        Expected: FrameSpec list
        Chunks: int list
    }

/// Generators of push-decoder scenarios.
[<RequireQualifiedAccess>]
module PushFramingGen =

    /// Good frames of any format, cut by a plan with empty and 1-byte chunks.
    let scenario: Gen<PushFramingScenario> =
        gen {
            let! s = FramingGen.scenario
            let bytes = s.Frames |> List.map (FrameLayout.wire s.Format) |> Array.concat
            let! plan = WireGen.chunkPlan bytes.Length

            return
                {
                    Format = s.Format
                    Bytes = bytes
                    Expected = s.Frames |> List.map (FrameLayout.decoded s.Format)
                    Chunks = plan
                }
        }

    /// Good frames, one bad frame, and (for a discarding format) more good frames, cut by a plan with empty chunks.
    let faultScenario: Gen<PushFramingScenario> =
        gen {
            let! s = FramingGen.faultScenario
            let wire frames = frames |> List.map (FrameLayout.wire s.Format) |> Array.concat
            let bytes = Array.concat [ wire s.Earlier; s.Bad; wire s.Later ]
            let! plan = WireGen.chunkPlan bytes.Length

            let skipping =
                match s.Fault with
                | TooLarge _ -> s.Format.DiscardOversizedFrames
                | _ -> false

            let delivered = if skipping then s.Earlier @ s.Later else s.Earlier

            return
                {
                    Format = s.Format
                    Bytes = bytes
                    Expected = delivered |> List.map (FrameLayout.decoded s.Format)
                    Chunks = plan
                }
        }

/// The push decoder's laws.
[<RequireQualifiedAccess>]
module PushFrameProperties =

    /// Feeds a PushFrameDecoder the plan's chunks, reading every frame after each; records as FrameFeed.decode does.
    let private pushDecode (format: LengthFieldFormat) (plan: int list) (bytes: byte array) : FramingOutcome =
        use decoder = new PushFrameDecoder(format)
        let frames = ResizeArray<FrameSpec>()
        let ends = ResizeArray<int64>()
        let skipped = ResizeArray<FrameTooLargeException>()
        let mutable fault = None

        for offset, size in WireGen.cut plan bytes.Length do
            if fault.IsNone then
                decoder.Feed(ReadOnlyMemory(bytes, offset, size))
                let mutable more = true

                while more do
                    try
                        let mutable frame = Unchecked.defaultof<Frame>

                        if decoder.TryReadFrame(&frame) then
                            frames.Add
                                {
                                    Type = frame.Type
                                    Payload = frame.Payload.ToArray()
                                }

                            ends.Add(int64 (offset + size) - decoder.BufferedBytes)
                        else
                            more <- false
                    with
                    | :? FrameTooLargeException as e when decoder.IsDiscarding -> skipped.Add e
                    | :? InvalidFrameException as e ->
                        fault <- Some e
                        more <- false

        {
            Frames = List.ofSeq frames
            Ends = List.ofSeq ends
            Waits = []
            Skipped = List.ofSeq skipped
            Fault = fault
            Unconsumed = decoder.BufferedBytes
            AtFrameBoundary = decoder.IsAtFrameBoundary
        }

    let private describe (frames: FrameSpec list) =
        frames
        |> List.map (fun f -> $"{f.Type}:{Convert.ToHexString f.Payload}")
        |> String.concat "; "

    let private showFault (fault: InvalidFrameException option) =
        fault
        |> Option.map (fun e -> $"{e.GetType().Name}: {e.Message}")
        |> Option.defaultValue "none"

    /// The push decoder returns what the sequence decoder returns for the same bytes (the oracle gets the same cuts
    /// without the empty chunks, which a PipeReader never delivers): the same frames, consumed at the same offsets, the
    /// same skipped frames and fault (type and message), the same unconsumed bytes, and it ends at a frame boundary
    /// exactly when the sequence decoder does with nothing left over. The frames returned are the expected ones: every
    /// frame before a fault comes first, and a fault's frame is never returned.
    let agreesWithTheSequenceDecoder (scenario: PushFramingScenario) : Property =
        let format = scenario.Format
        let cuts = WireGen.cut scenario.Chunks scenario.Bytes.Length
        let push = pushDecode format scenario.Chunks scenario.Bytes

        let sequence =
            FrameFeed.decode
                format
                {
                    Cuts = cuts |> List.map snd |> List.filter (fun size -> size > 0)
                }
                scenario.Bytes

        let declared (skipped: FrameTooLargeException list) =
            skipped |> List.map (fun e -> e.DeclaredLength)

        (push.Frames = scenario.Expected
         |> Prop.label $"expected [{describe scenario.Expected}], the push decoder returned [{describe push.Frames}]")
        .&. (push.Frames = sequence.Frames
             |> Prop.label $"the sequence decoder returned [{describe sequence.Frames}]")
        .&. (push.Ends = sequence.Ends
             |> Prop.label $"consumed after each frame: push %A{push.Ends}, sequence %A{sequence.Ends}")
        .&. (declared push.Skipped = declared sequence.Skipped
             |> Prop.label $"skipped: push %A{declared push.Skipped}, sequence %A{declared sequence.Skipped}")
        .&. (showFault push.Fault = showFault sequence.Fault
             |> Prop.label $"fault: push {showFault push.Fault}, sequence {showFault sequence.Fault}")
        .&. (push.Unconsumed = sequence.Unconsumed
             |> Prop.label $"unconsumed: push {push.Unconsumed}, sequence {sequence.Unconsumed}")
        .&. (push.AtFrameBoundary = (sequence.AtFrameBoundary && sequence.Unconsumed = 0L)
             |> Prop.label $"at a frame boundary: push {push.AtFrameBoundary}, sequence {sequence.AtFrameBoundary} with {sequence.Unconsumed} unconsumed")
        |> Prop.label $"format {format}; chunks %A{cuts |> List.map snd}"
