namespace AsyncNet.Properties

// The sequence feeder: hands a FrameDecoder bytes chunk by chunk as a PipeReader loop does, and records what it
// returned, consumed and waited for. The framing laws and the fuzzers read their outcomes through it.

open System
open System.Buffers
open AsyncNet.Streams.Framing.Codec

/// What feeding a decoder some bytes, chunk by chunk, produced.
type internal FramingOutcome =
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
module internal FrameFeed =

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
