namespace AsyncNet.Properties

// Generators and shrinkers of the wire laws' cases. A case's chunking is a plan of chunk sizes, not cuts of a known
// length: the sizes are used in order (0 is an empty chunk, a size past the end takes what is left), and whatever
// remains after the last goes as one chunk. So the messages and the plan shrink independently: dropping a message
// keeps the plan valid, and dropping a size merges its bytes into the next chunk. Shrinking goes toward fewer
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

    /// Fewer messages, smaller messages, then a smaller plan.
    let shrinkCase (format: WireFormat<'T>) (case: WireCase<'T>) : seq<WireCase<'T>> =
        seq {
            for messages in shrinkList (shrinkMessage format) case.Messages do
                yield { case with Messages = messages }

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

    /// Fewer or smaller valid messages on either side, then a smaller plan (the invalid bytes are kept as they are).
    let shrinkFaultCase (format: WireFormat<'T>) (case: WireFaultCase<'T>) : seq<WireFaultCase<'T>> =
        seq {
            for later in shrinkList (shrinkMessage format) case.Later do
                yield { case with Later = later }

            for earlier in shrinkList (shrinkMessage format) case.Earlier do
                yield { case with Earlier = earlier }

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

    /// Fewer or smaller whole messages, fewer bytes of the cut one, a smaller cut one, then a smaller plan.
    let shrinkTruncatedCase (format: WireFormat<'T>) (case: WireTruncatedCase<'T>) : seq<WireTruncatedCase<'T>> =
        seq {
            for complete in shrinkList (shrinkMessage format) case.Complete do
                yield { case with Complete = complete }

            if case.Kept > 1 then
                yield { case with Kept = 1 }
                yield { case with Kept = case.Kept - 1 }

            for smaller in shrinkMessage format case.Cut do
                if case.Kept < (format.Encode.Invoke smaller).Length then
                    yield { case with Cut = smaller }

            for plan in shrinkPlan case.Chunks do
                yield { case with Chunks = plan }
        }
