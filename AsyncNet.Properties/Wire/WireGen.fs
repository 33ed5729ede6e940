namespace AsyncNet.Properties

// Generators and shrinkers of the wire laws' cases. A case's chunking is a plan of chunk sizes, not cuts of a known
// length: the sizes are used in order (0 is an empty chunk, a size past the end takes what is left), and whatever
// remains after the last goes as one chunk. So the messages and the plan shrink independently: dropping a message
// keeps the plan valid, and dropping a size merges its bytes into the next chunk. When a message shrinks or goes, the
// plan's cuts move with it (remapPlan): a cut keeps its distance from the end of its message, so a cut between a
// message's CR and LF stays between them. Shrinking goes toward fewer
// messages, smaller messages, fewer chunks and smaller chunks, so a failure ends at a minimal message list and the
// fewest cuts that still break the decoder.

open System
open FsCheck
open FsCheck.FSharp

/// Messages and the plan of chunk sizes their bytes are fed in.
type WireCase<'T> = { Messages: 'T list; Chunks: int list }

/// Valid messages, bytes the decoder must reject, then more valid messages, fed by a plan of chunk sizes.
type WireFaultCase<'T> =
    {
        Earlier: 'T list
        Bad: byte array
        Later: 'T list
        Chunks: int list
    }

/// Whole messages, then the first `Kept` bytes of one more (0 < Kept < its length), then the end of the stream.
type WireTruncatedCase<'T> =
    {
        Complete: 'T list
        Cut: 'T
        Kept: int
        Chunks: int list
    }

/// Generators and shrinkers of wire cases. Public, so users can drive their own decoders with the same inputs.
[<RequireQualifiedAccess>]
module WireGen =

    /// A plan of chunk sizes for about `length` bytes: mostly small sizes, often single bytes, sometimes large ones,
    /// with empty chunks sprinkled in; sometimes it stops early and the rest goes as one chunk.
    let chunkPlan (length: int) : Gen<int list> =
        let rec plan remaining =
            if remaining <= 0 then
                Gen.frequency [ 4, Gen.constant []; 1, Gen.constant [ 0 ] ]
            else
                gen {
                    let! size =
                        Gen.frequency
                            [
                                1, Gen.constant 0
                                3, Gen.choose (1, min remaining 8)
                                2, Gen.choose (1, remaining)
                                2, Gen.constant 1
                            ]

                    let! stop = Gen.frequency [ 12, Gen.constant false; 1, Gen.constant true ]
                    let! rest = if stop then Gen.constant [] else plan (remaining - size)
                    return size :: rest
                }

        plan length

    /// The chunks a plan cuts `length` bytes into, as (offset, size): the plan's sizes in order, each at most what is
    /// left, then the remainder as one chunk if any is left.
    let cut (plan: int list) (length: int) : (int * int) list =
        let folder (offset, chunks) size =
            let size = min (max size 0) (length - offset)
            offset + size, (offset, size) :: chunks

        let offset, chunks = plan |> List.fold folder (0, [])

        let chunks =
            if offset < length then
                (offset, length - offset) :: chunks
            else
                chunks

        List.rev chunks

    /// Smaller plans: one chunk, a size dropped, two neighbours merged, a size halved or one smaller.
    let shrinkPlan (plan: int list) : seq<int list> =
        let sizes = List.toArray plan

        seq {
            if not plan.IsEmpty then
                yield []

            for i in 0 .. sizes.Length - 1 do
                yield sizes |> Array.removeAt i |> List.ofArray

            for i in 0 .. sizes.Length - 2 do
                yield
                    sizes
                    |> Array.removeAt (i + 1)
                    |> Array.updateAt i (sizes[i] + sizes[i + 1])
                    |> List.ofArray

            for i in 0 .. sizes.Length - 1 do
                if sizes[i] > 1 then
                    yield sizes |> Array.updateAt i (sizes[i] / 2) |> List.ofArray

                if sizes[i] > 0 && sizes[i] / 2 <> sizes[i] - 1 then
                    yield sizes |> Array.updateAt i (sizes[i] - 1) |> List.ofArray
        }
        |> Seq.distinct

    /// Smaller lists: an element dropped (from the front first), then an element replaced by a smaller one.
    let shrinkList (shrinkItem: 'T -> seq<'T>) (items: 'T list) : seq<'T list> =
        let array = List.toArray items

        seq {
            for i in 0 .. array.Length - 1 do
                yield array |> Array.removeAt i |> List.ofArray

            for i in 0 .. array.Length - 1 do
                for smaller in shrinkItem array[i] do
                    yield array |> Array.updateAt i smaller |> List.ofArray
        }

    /// shrinkList's candidates, each with where every old element went (None for the one dropped).
    let private shrinkListMapped (shrinkItem: 'T -> seq<'T>) (items: 'T list) : seq<'T list * (int -> int option)> =
        let array = List.toArray items

        seq {
            for i in 0 .. array.Length - 1 do
                yield
                    array |> Array.removeAt i |> List.ofArray,
                    (fun j ->
                        if j < i then Some j
                        elif j = i then None
                        else Some(j - 1))

            for i in 0 .. array.Length - 1 do
                for smaller in shrinkItem array[i] do
                    yield array |> Array.updateAt i smaller |> List.ofArray, Some
        }

    /// Moves a plan's cuts along when the stream's segments (messages, bad bytes) change: a cut inside segment j keeps
    /// its distance from the segment's end (at most the new segment's length); a cut inside a dropped segment moves
    /// to where that segment was; cuts past the end (empty chunks) stay past the end.
    let remapPlan (oldLengths: int list) (newLengths: int list) (newIndex: int -> int option) (plan: int list) : int list =
        let starts lengths =
            lengths |> List.scan (+) 0 |> List.toArray

        let oldStarts = starts oldLengths
        let newStarts = starts newLengths
        let newLengths = List.toArray newLengths
        let oldTotal = oldStarts[oldStarts.Length - 1]
        let newTotal = newStarts[newStarts.Length - 1]

        let rec survivingStart j =
            if j >= oldStarts.Length - 1 then
                newTotal
            else
                match newIndex j with
                | Some k -> newStarts[k]
                | None -> survivingStart (j + 1)

        let move cut =
            if cut >= oldTotal then
                newTotal
            else
                let j = (oldStarts |> Array.findIndexBack (fun start -> start <= cut))

                match newIndex j with
                | Some k -> newStarts[k + 1] - min (oldStarts[j + 1] - cut) newLengths[k]
                | None -> survivingStart (j + 1)

        let cuts =
            plan |> List.scan (fun cut size -> min oldTotal (cut + max size 0)) 0 |> List.tail |> List.map move

        0 :: cuts |> List.pairwise |> List.map (fun (previous, cut) -> max 0 (cut - previous))

    /// A format's message shrinker as an F# function (no smaller messages when it has none).
    let shrinkMessage (format: WireFormat<'T>) : 'T -> seq<'T> =
        match format.ShrinkMessage with
        | null -> fun _ -> Seq.empty
        | shrink -> fun message -> shrink.Invoke message

    /// The encoded length of some messages.
    let wireLength (format: WireFormat<'T>) (messages: 'T list) : int =
        messages |> List.sumBy (fun m -> (format.Encode.Invoke m).Length)

    let private messages (format: WireFormat<'T>) (most: int) : Gen<'T list> =
        Gen.sized (fun size ->
            gen {
                let! count = Gen.choose (0, max 0 (min most (size / 4 + 1)))
                return! Gen.listOfLength count format.Messages
            })

    /// Up to MaxMessages messages, and a plan for their bytes.
    let case (format: WireFormat<'T>) : Gen<WireCase<'T>> =
        gen {
            let! messages = messages format format.MaxMessages
            let! plan = chunkPlan (wireLength format messages)
            return { Messages = messages; Chunks = plan }
        }

    let private lengths (format: WireFormat<'T>) (messages: 'T list) : int list =
        messages |> List.map (fun m -> (format.Encode.Invoke m).Length)

    /// A smaller case with the plan's cuts moved along, then (if that changed the plan) with the plan as it was.
    let private withPlans (plan: int list) (moved: int list) (make: int list -> 'Case) : seq<'Case> =
        seq {
            yield make moved

            if moved <> plan then
                yield make plan
        }

    /// Fewer messages, smaller messages (the plan's cuts moving with them, then as they were), then a smaller plan.
    let shrinkCase (format: WireFormat<'T>) (case: WireCase<'T>) : seq<WireCase<'T>> =
        seq {
            for messages, newIndex in shrinkListMapped (shrinkMessage format) case.Messages do
                let moved =
                    remapPlan (lengths format case.Messages) (lengths format messages) newIndex case.Chunks

                yield! withPlans case.Chunks moved (fun plan -> { Messages = messages; Chunks = plan })

            for plan in shrinkPlan case.Chunks do
                yield { case with Chunks = plan }
        }

    /// Valid messages, one of the format's invalid byte strings, more valid messages, and a plan.
    let faultCase (format: WireFormat<'T>) : Gen<WireFaultCase<'T>> =
        match format.Invalid with
        | null -> invalidArg (nameof format) $"The format {format.Name} offers no invalid bytes (WireFormat.Invalid)."
        | invalid ->
            gen {
                let! earlier = messages format format.MaxMessages
                let! bad = invalid
                let! later = messages format 2
                let! plan = chunkPlan (wireLength format earlier + bad.Length + wireLength format later)

                return
                    {
                        Earlier = earlier
                        Bad = bad
                        Later = later
                        Chunks = plan
                    }
            }

    /// Fewer or smaller valid messages on either side (the plan's cuts moving with them), then a smaller plan (the
    /// invalid bytes are kept as they are).
    let shrinkFaultCase (format: WireFormat<'T>) (case: WireFaultCase<'T>) : seq<WireFaultCase<'T>> =
        let segments (c: WireFaultCase<'T>) =
            lengths format c.Earlier @ [ c.Bad.Length ] @ lengths format c.Later

        let moved (smaller: WireFaultCase<'T>) newIndex =
            let chunks = remapPlan (segments case) (segments smaller) newIndex case.Chunks
            withPlans case.Chunks chunks (fun plan -> { smaller with Chunks = plan })

        let before = case.Earlier.Length

        seq {
            for later, laterIndex in shrinkListMapped (shrinkMessage format) case.Later do
                yield!
                    moved { case with Later = later } (fun j ->
                        if j <= before then
                            Some j
                        else
                            laterIndex (j - before - 1) |> Option.map (fun k -> k + before + 1))

            for earlier, earlierIndex in shrinkListMapped (shrinkMessage format) case.Earlier do
                let shift = earlier.Length - before

                yield!
                    moved { case with Earlier = earlier } (fun j -> if j < before then earlierIndex j else Some(j + shift))

            for plan in shrinkPlan case.Chunks do
                yield { case with Chunks = plan }
        }

    /// Whole messages, then part of one more (cut after at least one byte and before its last), and a plan.
    let truncatedCase (format: WireFormat<'T>) : Gen<WireTruncatedCase<'T>> =
        gen {
            let! complete = messages format (max 0 (format.MaxMessages - 1))
            let! last = format.Messages |> Gen.filter (fun m -> (format.Encode.Invoke m).Length >= 2)
            let! kept = Gen.choose (1, (format.Encode.Invoke last).Length - 1)
            let! plan = chunkPlan (wireLength format complete + kept)

            return
                {
                    Complete = complete
                    Cut = last
                    Kept = kept
                    Chunks = plan
                }
        }

    /// Fewer or smaller whole messages (the plan's cuts moving with them), fewer bytes of the cut one, a smaller cut
    /// one, then a smaller plan.
    let shrinkTruncatedCase (format: WireFormat<'T>) (case: WireTruncatedCase<'T>) : seq<WireTruncatedCase<'T>> =
        let segments (c: WireTruncatedCase<'T>) = lengths format c.Complete @ [ c.Kept ]
        let whole = case.Complete.Length

        seq {
            for complete, completeIndex in shrinkListMapped (shrinkMessage format) case.Complete do
                let smaller = { case with Complete = complete }
                let shift = complete.Length - whole

                let chunks =
                    remapPlan (segments case) (segments smaller) (fun j -> if j < whole then completeIndex j else Some(j + shift)) case.Chunks

                yield! withPlans case.Chunks chunks (fun plan -> { smaller with Chunks = plan })

            if case.Kept > 1 then
                for kept in [ 1; case.Kept - 1 ] |> List.distinct do
                    let smaller = { case with Kept = kept }
                    let chunks = remapPlan (segments case) (segments smaller) Some case.Chunks
                    yield! withPlans case.Chunks chunks (fun plan -> { smaller with Chunks = plan })

            for smaller in shrinkMessage format case.Cut do
                if case.Kept < (format.Encode.Invoke smaller).Length then
                    yield { case with Cut = smaller }

            for plan in shrinkPlan case.Chunks do
                yield { case with Chunks = plan }
        }
