namespace AsyncNet.Properties

// The limit edges of StreamReader.ReadUntilAsync and ReadLineAsync: the bytes before the separator exactly at the limit,
// one under, one over, and a separator that starts inside the limit and ends past it, each in any chunking.

open System
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Streams
open AsyncNet.Testing

/// One limit edge: `Before` bytes (no separator among them) then the separator then `Tail`, cut by `Chunking`, read
/// by a reader whose limit is `Limit`.
type LimitEdge =
    {
        Limit: int
        Before: byte array
        Separator: byte array
        Tail: byte array
        Chunking: Chunking
    }

    /// The whole stream.
    member edge.Stream = Array.concat [ edge.Before; edge.Separator; edge.Tail ]

/// What the first read of a limit edge did, and what reading to the end gave afterwards.
[<RequireQualifiedAccess>]
type LimitOutcome =
    | Returned of bytes: byte array * rest: byte array
    | Overrun of consumed: int64 * rest: byte array

[<RequireQualifiedAccess>]
module ReaderLimitGen =

    /// Edges around a limit of 1 to 40: the bytes before the separator are the limit minus the separator's length
    /// (so it straddles the limit) up to the limit plus one. `separator` fixes the separator (ReadLine's "\n"), or
    /// `None` draws one of 1 to 3 bytes.
    let edge (separator: byte array option) : Gen<LimitEdge> =
        gen {
            let! limit = Gen.choose (1, 40)

            let! separator =
                match separator with
                | Some s -> Gen.constant s
                | None -> StreamGen.separator

            let! before = Gen.choose (max 0 (limit - separator.Length), limit + 1)

            // Filler that cannot form the separator, nor its start: every separator byte is '\n', '\r' or '-'.
            let! filler = Gen.arrayOfLength before (Gen.elements [ byte 'a'; byte 'b' ])
            let! tail = Gen.arrayOfLength 6 (Gen.elements [ byte 'a'; byte 'b' ])
            let length = before + separator.Length + tail.Length
            let! chunking = Generators.chunking length

            return
                {
                    Limit = limit
                    Before = filler
                    Separator = separator
                    Tail = tail
                    Chunking = chunking
                }
        }

[<RequireQualifiedAccess>]
module ReaderLimitProperties =

    /// Feeds the edge's chunks into a reader over a scripted transport (waiting while reading is paused), runs
    /// `firstRead`, then reads to the end.
    let private run (edge: LimitEdge) (firstRead: StreamReader -> ValueTask<byte array>) : LimitOutcome =
        use loop = new EventLoop()
        let protocol = StreamProtocol(loop, StreamOptions(Limit = edge.Limit))
        let transport = ScriptedTransport(loop, protocol)
        transport.Start()

        let feed () : Task =
            task {
                for chunk in Generators.split edge.Chunking edge.Stream do
                    let mutable offset = 0

                    while offset < chunk.Length do
                        let n = transport.Deliver(ReadOnlySpan(chunk, offset, chunk.Length - offset))
                        offset <- offset + n

                        if n = 0 then
                            do! loop.SleepAsync TimeSpan.Zero

                    do! loop.SleepAsync TimeSpan.Zero

                transport.DeliverEof()
            }

        let read () : Task<LimitOutcome> =
            task {
                let reader = protocol.Reader

                let! first =
                    task {
                        try
                            let! bytes = firstRead reader
                            return Choice1Of2 bytes
                        with :? LimitOverrunException as e ->
                            return Choice2Of2 e.Consumed
                    }

                let! rest = reader.ReadToEndAsync()

                return
                    match first with
                    | Choice1Of2 bytes -> LimitOutcome.Returned(bytes, rest)
                    | Choice2Of2 consumed -> LimitOutcome.Overrun(consumed, rest)
            }

        let work () : Task<LimitOutcome> =
            task {
                let feeding = feed ()
                let! outcome = read ()
                do! feeding
                return outcome
            }

        let watchdog = loop.CallLater(TimeSpan.FromSeconds 20.0, Action(loop.Stop))
        let outcome = loop.RunUntilComplete(Func<Task<LimitOutcome>>(work))
        watchdog.Cancel()
        outcome

    let private describe (edge: LimitEdge) =
        $"limit {edge.Limit}, {edge.Before.Length} bytes before a {edge.Separator.Length}-byte separator, chunks %A{edge.Chunking.Cuts}"

    /// Checks an outcome: returned through the separator (then the tail) iff within the limit, else an overrun that
    /// consumed past the limit, after which reading to the end gives `restAfterOverrun`.
    let private honoursTheLimit (edge: LimitEdge) (outcome: LimitOutcome) (restAfterOverrun: byte array) : Property =
        let within = edge.Before.Length <= edge.Limit

        match outcome with
        | LimitOutcome.Returned(bytes, rest) ->
            (within && bytes = Array.append edge.Before edge.Separator && rest = edge.Tail)
            |> Prop.label $"returned {bytes.Length} bytes, then {rest.Length}: {describe edge}"
        | LimitOutcome.Overrun(consumed, rest) ->
            (not within && consumed > int64 edge.Limit && rest = restAfterOverrun)
            |> Prop.label $"overrun (consumed {consumed}), then {rest.Length} bytes: {describe edge}"
        |> Prop.classify (edge.Before.Length = edge.Limit) "exactly at the limit"
        |> Prop.classify (edge.Before.Length > edge.Limit) "one over"

    /// The law: ReadUntil returns the bytes through the separator iff at most `Limit` bytes come before it (a
    /// separator may end past the limit); otherwise it throws LimitOverrunException and keeps every byte.
    let readUntilHonoursTheLimitExactly (edge: LimitEdge) : Property =
        let outcome =
            run edge (fun reader -> reader.ReadUntilAsync(ReadOnlyMemory edge.Separator))

        honoursTheLimit edge outcome edge.Stream
        |> Prop.classify
            (edge.Before.Length < edge.Limit
             && edge.Before.Length + edge.Separator.Length > edge.Limit)
            "separator straddles the limit"

    /// The law: ReadLine returns a line of at most `Limit` bytes before its newline; a longer line throws
    /// LimitOverrunException and is discarded through its newline, so the next read starts at the next line.
    let readLineHonoursTheLimitExactly (edge: LimitEdge) : Property =
        honoursTheLimit edge (run edge (fun reader -> reader.ReadLineAsync())) edge.Tail
