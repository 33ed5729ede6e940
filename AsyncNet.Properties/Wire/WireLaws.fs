namespace AsyncNet.Properties

// The wire laws (issue 17): what any incremental decoder of any wire format must do, whatever chunks its bytes
// arrive in. Each law is a verdict on one case (None when it holds, else why not, in words) and an FsCheck property
// over generated cases that shrink (WireGen). WireLawRunner runs the same verdicts from C#.

open System
open FsCheck
open FsCheck.FSharp

/// The laws a decoder of a wire format is held to.
type WireLaw =
    /// Any messages, encoded and fed in any chunks (empty and 1-byte ones included), decode to the same messages,
    /// and the stream then ends cleanly.
    | RoundTrip = 0
    /// After every chunk the decoder has returned exactly the messages whose last byte has arrived, and buffers exactly
    /// the bytes after them: nothing consumed past the last complete message, nothing held back.
    | Consumption = 1
    /// Bytes that are not the format fault the decoder no later than the chunk that brings their last byte, after every
    /// message completed before them was returned, and no message is made of them.
    | FaultOrder = 2
    /// A stream cut inside a message ends as Incomplete, after the whole messages before it, and no message is invented
    /// from the partial bytes.
    | Truncation = 3
    /// After every chunk, valid or not, the decoder buffers at most the format's MaxBufferedBytes.
    | Bounded = 4

/// The wire laws as verdicts and FsCheck properties, for any format a user describes with WireFormat.
[<RequireQualifiedAccess>]
module WireLaws =

    let internal faultedOnValid (format: WireFormat<'T>) (trace: WireTrace<'T>) : string option =
        match trace.Fault, trace.EndingFault with
        | Some step, _ ->
            Some
                $"the decoder faulted on valid bytes, in the chunk of bytes {step.Start}..{step.Fed}: {WireRun.showFault step.Fault.Value} (it had returned {WireRun.showMessages format trace.Returned})"
        | None, Some e -> Some $"EndOfStream threw {WireRun.showFault e}"
        | None, None -> None

    /// The end offset of each message in the stream.
    let private ends (format: WireFormat<'T>) (messages: 'T list) : int list =
        messages
        |> List.scan (fun offset m -> offset + (format.Encode.Invoke m).Length) 0
        |> List.tail

    /// RoundTrip: the messages come back, in order, and the stream ends cleanly.
    let roundTripVerdict (format: WireFormat<'T>) (case: WireCase<'T>) : string option =
        let trace =
            WireRun.run format (WireRun.encodeAll format case.Messages) case.Chunks true

        match faultedOnValid format trace with
        | Some why -> Some why
        | None when not (WireRun.sameMessages format case.Messages trace.Returned) ->
            Some
                $"expected {WireRun.showMessages format case.Messages}, decoded {WireRun.showMessages format trace.Returned}"
        | None when trace.Ending <> Some WireEnd.Clean ->
            Some "the stream ended after a whole message, but EndOfStream said Incomplete"
        | None -> None

    /// After each chunk of a trace: the messages returned and the bytes buffered are exactly what the bytes fed allow,
    /// given where each expected message ends.
    let internal consumptionOf (format: WireFormat<'T>) (expected: 'T list) (trace: WireTrace<'T>) : string option =
        let ends = ends format expected |> List.toArray

        let rec check (returned: int) (steps: WireStep<'T> list) =
            match steps with
            | [] -> None
            | step :: rest ->
                let returned = returned + step.Returned.Length
                let complete = ends |> Array.filter (fun e -> e <= step.Fed) |> Array.length
                let lastEnd = if complete = 0 then 0 else ends[complete - 1]
                let inProgress = int64 (step.Fed - lastEnd)

                if returned > complete then
                    Some
                        $"after {step.Fed} bytes the decoder had returned {returned} messages, but only {complete} had arrived whole"
                elif returned < complete then
                    Some
                        $"after {step.Fed} bytes the decoder had returned {returned} messages, but {complete} had arrived whole (message {returned + 1} ended at byte {ends[returned]}): it held one back"
                elif step.Buffered < inProgress then
                    Some
                        $"after {step.Fed} bytes the decoder buffers {step.Buffered} bytes, but {inProgress} bytes of a message in progress follow the last whole message: it consumed or dropped bytes past the last complete message"
                elif step.Buffered > inProgress then
                    Some
                        $"after {step.Fed} bytes the decoder buffers {step.Buffered} bytes, but only {inProgress} follow the last whole message: it still holds bytes of messages it returned"
                else
                    check returned rest

        match faultedOnValid format trace with
        | Some why -> Some why
        | None -> check 0 trace.Steps

    /// Consumption: after each chunk, the messages returned and the bytes buffered are exactly what the bytes fed allow.
    let consumptionVerdict (format: WireFormat<'T>) (case: WireCase<'T>) : string option =
        consumptionOf
            format
            case.Messages
            (WireRun.run format (WireRun.encodeAll format case.Messages) case.Chunks false)

    let internal boundVerdict (format: WireFormat<'T>) (trace: WireTrace<'T>) : string option =
        trace.Steps
        |> List.tryFind (fun s -> s.Fault.IsNone && s.Buffered > format.MaxBufferedBytes)
        |> Option.map (fun s ->
            $"after {s.Fed} bytes the decoder buffers {s.Buffered} bytes, over its bound of {format.MaxBufferedBytes}")

    /// Bounded, on a valid stream.
    let boundedVerdict (format: WireFormat<'T>) (case: WireCase<'T>) : string option =
        boundVerdict format (WireRun.run format (WireRun.encodeAll format case.Messages) case.Chunks false)

    let private faultBytes (format: WireFormat<'T>) (case: WireFaultCase<'T>) =
        let earlier = WireRun.encodeAll format case.Earlier
        Array.concat [ earlier; case.Bad; WireRun.encodeAll format case.Later ], earlier.Length

    /// Bounded, on a stream with bytes that are not the format (until the fault).
    let boundedOnFaultVerdict (format: WireFormat<'T>) (case: WireFaultCase<'T>) : string option =
        let bytes, _ = faultBytes format case
        boundVerdict format (WireRun.run format bytes case.Chunks false)

    /// FaultOrder: the earlier messages, then the fault, by the chunk that brings the last bad byte.
    let faultOrderVerdict (format: WireFormat<'T>) (case: WireFaultCase<'T>) : string option =
        let bytes, badStart = faultBytes format case
        let badEnd = badStart + case.Bad.Length
        let trace = WireRun.run format bytes case.Chunks false
        let returned = trace.Returned

        match trace.Fault with
        | None ->
            Some
                $"no fault: the decoder accepted the bad bytes {WireRun.showBytes (ReadOnlySpan case.Bad)} (bytes {badStart}..{badEnd}) and returned {WireRun.showMessages format returned}"
        | Some step when step.Fed <= badStart ->
            Some
                $"the decoder faulted on valid bytes {step.Start}..{step.Fed}, before the bad bytes at {badStart}: {WireRun.showFault step.Fault.Value}"
        | Some step when step.Start >= badEnd ->
            Some
                $"the fault came only in the chunk of bytes {step.Start}..{step.Fed}; the bad bytes had all arrived by byte {badEnd}"
        | Some step when not (WireRun.sameMessages format case.Earlier returned) ->
            Some
                $"before the fault ({WireRun.showFault step.Fault.Value}) the decoder returned {WireRun.showMessages format returned}; the messages before the bad bytes are {WireRun.showMessages format case.Earlier}"
        | Some _ -> None

    /// Truncation: the whole messages, then Incomplete, and nothing made of the partial bytes.
    let truncationVerdict (format: WireFormat<'T>) (case: WireTruncatedCase<'T>) : string option =
        let cut = format.Encode.Invoke case.Cut

        let bytes =
            Array.append (WireRun.encodeAll format case.Complete) cut[.. case.Kept - 1]

        let trace = WireRun.run format bytes case.Chunks true

        match faultedOnValid format trace with
        | Some why -> Some why
        | None when not (WireRun.sameMessages format case.Complete trace.Returned) ->
            Some
                $"the stream ends {case.Kept} bytes into a {cut.Length}-byte message; the decoder returned {WireRun.showMessages format trace.Returned}, but only {WireRun.showMessages format case.Complete} are whole"
        | None when trace.Ending <> Some WireEnd.Incomplete ->
            Some
                $"the stream ends {case.Kept} bytes into a {cut.Length}-byte message, but EndOfStream said {trace.Ending}"
        | None -> None

    /// A verdict as an FsCheck property, labelled with the reason and the case.
    let private toProperty (describe: 'Case -> string) (verdict: 'Case -> string option) (case: 'Case) : Property =
        match verdict case with
        | None -> Prop.ofTestable true
        | Some why -> false |> Prop.label $"{why}; {describe case}"

    /// A case as its messages and chunks, for labels and reports.
    let describeCase (format: WireFormat<'T>) (case: WireCase<'T>) : string =
        $"messages {WireRun.showMessages format case.Messages}, chunks {WireRun.showChunks case.Chunks (WireRun.encodeAll format case.Messages)}"

    /// A fault case as its messages, bad bytes and chunks.
    let describeFaultCase (format: WireFormat<'T>) (case: WireFaultCase<'T>) : string =
        let bytes, _ = faultBytes format case

        $"earlier {WireRun.showMessages format case.Earlier}, bad {WireRun.showBytes (ReadOnlySpan case.Bad)}, later {WireRun.showMessages format case.Later}, chunks {WireRun.showChunks case.Chunks bytes}"

    /// A truncated case as its messages, the cut one and chunks.
    let describeTruncatedCase (format: WireFormat<'T>) (case: WireTruncatedCase<'T>) : string =
        let cut = format.Encode.Invoke case.Cut
        let bytes = Array.append (WireRun.encodeAll format case.Complete) cut[.. case.Kept - 1]

        $"whole {WireRun.showMessages format case.Complete}, then {case.Kept} bytes of {format.Show.Invoke case.Cut}, chunks {WireRun.showChunks case.Chunks bytes}"

    let private cases (format: WireFormat<'T>) =
        Arb.fromGenShrink (WireGen.case format, WireGen.shrinkCase format)

    let private faultCases (format: WireFormat<'T>) =
        Arb.fromGenShrink (WireGen.faultCase format, WireGen.shrinkFaultCase format)

    /// The RoundTrip law as a property.
    let roundTrip (format: WireFormat<'T>) : Property =
        Prop.forAll (cases format) (toProperty (describeCase format) (roundTripVerdict format))

    /// The Consumption law as a property.
    let consumption (format: WireFormat<'T>) : Property =
        Prop.forAll (cases format) (toProperty (describeCase format) (consumptionVerdict format))

    /// The Bounded law as a property: on valid streams, and on streams with bad bytes when the format offers some.
    let bounded (format: WireFormat<'T>) : Property =
        let valid =
            Prop.forAll (cases format) (toProperty (describeCase format) (boundedVerdict format))

        if isNull format.Invalid then
            valid
        else
            valid
            .&. Prop.forAll (faultCases format) (toProperty (describeFaultCase format) (boundedOnFaultVerdict format))

    /// The FaultOrder law as a property (it holds trivially when the format offers no invalid bytes).
    let faultOrder (format: WireFormat<'T>) : Property =
        if isNull format.Invalid then
            Prop.ofTestable true
        else
            Prop.forAll (faultCases format) (toProperty (describeFaultCase format) (faultOrderVerdict format))

    /// The Truncation law as a property.
    let truncation (format: WireFormat<'T>) : Property =
        Prop.forAll
            (Arb.fromGenShrink (WireGen.truncatedCase format, WireGen.shrinkTruncatedCase format))
            (toProperty (describeTruncatedCase format) (truncationVerdict format))

    /// Every law.
    let all (format: WireFormat<'T>) : Property =
        roundTrip format
        .&. consumption format
        .&. bounded format
        .&. faultOrder format
        .&. truncation format
