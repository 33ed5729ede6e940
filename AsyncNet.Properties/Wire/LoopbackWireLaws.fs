namespace AsyncNet.Properties

// The wire laws over a real connection (issue 17): the user's server is started on a fresh loop for each case (or
// their endpoint is used), a client on AsyncNet's streams writes encoded requests in random chunks with random pauses,
// then half-closes, and the replies are read as they arrive (each read fed to the user's reply decoder as one chunk)
// until the server closes. The replies are held to the same laws as a decoder is: the expected replies to every whole
// request, in order, returned as soon as complete, within the bound, ending cleanly; after bad bytes or a cut
// request, replies to the whole requests before them only, then the server's close.

open System
open System.Collections.Generic
open System.Net
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Streams
open AsyncNet.Transports

/// A server under the loopback laws: requests of one wire format go in, replies of another (or the same) come out.
/// <param name="requests">The requests' format (its Messages generate them; its Invalid, if any, makes bad input).</param>
/// <param name="replies">The replies' format: its decoder reads what the server sends back.</param>
/// <param name="expected">The replies the server must send for some whole requests, in order.</param>
[<Sealed>]
type LoopbackWire<'Request, 'Reply>
    (
        requests: WireFormat<'Request>,
        replies: WireFormat<'Reply>,
        expected: Func<IReadOnlyList<'Request>, IReadOnlyList<'Reply>>
    ) =
    /// The requests' format.
    member _.Requests = requests
    /// The replies' format.
    member _.Replies = replies
    /// The replies due for whole requests.
    member _.Expected = expected
    /// The server's connection handler, started for each case on a fresh loop at 127.0.0.1 (port 0) with
    /// loop.StartServerAsync; or null to connect to EndPoint instead. The default is null.
    member val Handler: Func<StreamReader, StreamWriter, Task> | null = null with get, set
    /// The endpoint of a server already running, used when Handler is null. The default is null.
    member val EndPoint: IPEndPoint | null = null with get, set
    /// How long one case may take before it fails (a server that never closes). The default is 10 seconds.
    member val CaseTimeout = TimeSpan.FromSeconds 10.0 with get, set

/// What follows the whole requests in a loopback case.
[<RequireQualifiedAccess>]
type LoopbackTail =
    /// Nothing: the client half-closes after the last request.
    | Nothing
    /// Bytes the server must reject (the requests' Invalid), then these more requests.
    | Bad of bad: byte array * later: byte array
    /// The first bytes of one more request, cut short.
    | Cut of partial: byte array

/// Requests, what follows them, the plan of write sizes, and the pauses after the writes (cycled).
type LoopbackWireCase<'Request> =
    {
        Requests: 'Request list
        Tail: LoopbackTail
        Chunks: int list
        Pauses: WritePause list
    }

/// The loopback wire laws.
[<RequireQualifiedAccess>]
module LoopbackWireLaws =

    /// What the client saw: the reply decoder's trace (each read one chunk), and whether the server closed in time.
    type private Received<'Reply> =
        {
            Trace: WireTrace<'Reply>
            Closed: bool
            /// The error that ended the connection instead of the server's orderly close, if any.
            Error: exn option
        }

    let private pauseAfter (loop: EventLoop) (pause: WritePause) : Task =
        match pause with
        | WritePause.None -> Task.CompletedTask
        | WritePause.Yield -> loop.SleepAsync TimeSpan.Zero
        | WritePause.Sleep ms -> loop.SleepAsync(TimeSpan.FromMilliseconds(float ms))

    let private tailBytes (tail: LoopbackTail) =
        match tail with
        | LoopbackTail.Nothing -> [||]
        | LoopbackTail.Bad(bad, later) -> Array.append bad later
        | LoopbackTail.Cut partial -> partial

    /// Runs one case on a fresh loop: writes, half-closes, reads replies until the server closes or the case times out.
    let private exchange (wire: LoopbackWire<'Request, 'Reply>) (case: LoopbackWireCase<'Request>) : Received<'Reply> =
        use loop = new EventLoop()
        let decoder = wire.Replies.CreateDecoder.Invoke()
        let steps = ResizeArray<WireStep<'Reply>>()

        let work () : Task<Received<'Reply>> =
            task {
                let! server, endPoint =
                    match wire.Handler with
                    | null ->
                        match wire.EndPoint with
                        | null -> invalidOp "LoopbackWire needs a Handler or an EndPoint."
                        | endPoint -> Task.FromResult(None, endPoint)
                    | handler ->
                        task {
                            let! server = loop.StartServerAsync(handler, "127.0.0.1", 0)

                            match server.Sockets[0].LocalEndPoint with
                            | :? IPEndPoint as endPoint -> return Some server, endPoint
                            | other -> return failwith $"unexpected server address {other}"
                        }

                let! struct (reader, writer) =
                    loop.OpenConnectionAsync(endPoint.Address.ToString(), endPoint.Port)

                let bytes = Array.append (WireRun.encodeAll wire.Requests case.Requests) (tailBytes case.Tail)
                let pauses = List.toArray case.Pauses

                // Writes and reads run side by side: a server that answers as it reads must never block on us. A server
                // that closes after bad bytes may break the connection under the writes: that is the reads' to report.
                let send () : Task =
                    task {
                        try
                            let mutable i = 0

                            for offset, size in WireGen.cut case.Chunks bytes.Length do
                                if not writer.IsClosing then
                                    writer.Write(ReadOnlySpan(bytes, offset, size))
                                    do! writer.DrainAsync()

                                    if pauses.Length > 0 then
                                        do! pauseAfter loop pauses[i % pauses.Length]

                                    i <- i + 1

                            if not writer.IsClosing then
                                writer.WriteEof()
                        with _ ->
                            ()
                    }

                let sending = send ()
                let mutable fed = 0
                let mutable reading = true
                let mutable faulted = false
                let mutable error = None

                while reading do
                    let buffer = Array.zeroCreate<byte> 4096

                    let! n =
                        task {
                            try
                                return! reader.ReadAsync(Memory buffer)
                            with e ->
                                error <- Some e
                                return 0
                        }

                    if n = 0 then
                        reading <- false
                    elif not faulted then
                        let step = WireRun.step decoder fed (ReadOnlyMemory(buffer, 0, n))
                        faulted <- step.Fault.IsSome
                        steps.Add step
                        fed <- fed + n

                do! sending
                writer.Close()

                match server with
                | Some s -> do! s.ShutdownAsync()
                | None -> ()

                let ending =
                    if faulted then None else Some(decoder.EndOfStream())

                return
                    {
                        Trace =
                            {
                                Steps = List.ofSeq steps
                                Ending = ending
                                EndingFault = None
                            }
                        Closed = true
                        Error = error
                    }
            }

        // Bounded: a server that never closes stops the loop, and the case fails instead of hanging the suite.
        let guard = loop.CallLater(wire.CaseTimeout, Action loop.Stop)

        try
            try
                loop.RunUntilComplete(loop.CreateTask(Func<Task<Received<'Reply>>> work))
            with _ when not guard.IsCancelled && loop.Time >= guard.When ->
                {
                    Trace =
                        {
                            Steps = List.ofSeq steps
                            Ending = None
                            EndingFault = None
                        }
                    Closed = false
                    Error = None
                }
        finally
            guard.Cancel()

            match box decoder with
            | :? IDisposable as d -> d.Dispose()
            | _ -> ()

    /// The verdict on one case: the replies to the whole requests, held to the laws, then the server's close.
    let verdict (wire: LoopbackWire<'Request, 'Reply>) (case: LoopbackWireCase<'Request>) : string option =
        let received = exchange wire case
        let replies = wire.Replies
        let expected = wire.Expected.Invoke(Array.AsReadOnly(List.toArray case.Requests)) |> List.ofSeq
        let trace = received.Trace

        let errorAllowed =
            match case.Tail with
            | LoopbackTail.Bad _ -> true
            | _ -> false

        if not received.Closed then
            Some
                $"the server did not close within {wire.CaseTimeout.TotalSeconds} s of the client's end of stream; it sent {WireRun.showMessages replies trace.Returned}"
        elif received.Error.IsSome && not errorAllowed then
            Some $"the connection failed: {WireRun.showFault received.Error.Value}"
        else
            match WireLaws.consumptionOf replies expected trace with
            | Some why -> Some $"the replies: {why}"
            | None when not (WireRun.sameMessages replies expected trace.Returned) ->
                Some
                    $"expected the replies {WireRun.showMessages replies expected}, received {WireRun.showMessages replies trace.Returned}"
            | None when trace.Ending <> Some WireEnd.Clean ->
                Some "the server closed in the middle of a reply"
            | None ->
                WireLaws.boundVerdict replies trace
                |> Option.map (fun why -> $"the replies: {why}")

    /// Cases: requests, a tail of the given kind, a plan of writes and pauses.
    let cases (wire: LoopbackWire<'Request, 'Reply>) (tail: Gen<LoopbackTail>) : Gen<LoopbackWireCase<'Request>> =
        gen {
            let! count = Gen.choose (0, wire.Requests.MaxMessages)
            let! requests = Gen.listOfLength count wire.Requests.Messages
            let! tail = tail
            let length = (WireRun.encodeAll wire.Requests requests).Length + (tailBytes tail).Length
            let! plan = WireGen.chunkPlan length
            let! pauseCount = Gen.choose (0, 12)
            let! pauses = Gen.listOfLength pauseCount FramingLoopbackGen.pause

            return
                {
                    Requests = requests
                    Tail = tail
                    Chunks = plan
                    Pauses = pauses
                }
        }

    /// Fewer requests (the plan's cuts moving with them), no pauses, then a smaller plan.
    let shrink (wire: LoopbackWire<'Request, 'Reply>) (case: LoopbackWireCase<'Request>) : seq<LoopbackWireCase<'Request>> =
        let asWire (c: LoopbackWireCase<'Request>) : WireCase<'Request> = { Messages = c.Requests; Chunks = c.Chunks }

        seq {
            if not case.Pauses.IsEmpty then
                yield { case with Pauses = [] }

            for smaller in WireGen.shrinkCase wire.Requests (asWire case) do
                yield
                    { case with
                        Requests = smaller.Messages
                        Chunks = smaller.Chunks
                    }
        }

    let private property (wire: LoopbackWire<'Request, 'Reply>) (tail: Gen<LoopbackTail>) : Property =
        Prop.forAll (Arb.fromGenShrink (cases wire tail, shrink wire)) (fun case ->
            match verdict wire case with
            | None -> Prop.ofTestable true
            | Some why -> false |> Prop.label $"{why}; requests {WireRun.showMessages wire.Requests case.Requests}, tail %A{case.Tail}, chunks %A{case.Chunks}")

    /// RoundTrip (with Consumption and Bounded on the replies) over a real connection: every request answered as
    /// expected, in order, then a clean close.
    let roundTrip (wire: LoopbackWire<'Request, 'Reply>) : Property =
        property wire (Gen.constant LoopbackTail.Nothing)

    /// FaultOrder over a real connection: after bad bytes, the server answers the requests before them and closes,
    /// answering nothing of the bad bytes or what follows them.
    let faultOrder (wire: LoopbackWire<'Request, 'Reply>) : Property =
        match wire.Requests.Invalid with
        | null -> Prop.ofTestable true
        | invalid ->
            let tail =
                gen {
                    let! bad = invalid
                    let! later = Gen.listOf wire.Requests.Messages |> Gen.map (List.truncate 2)
                    return LoopbackTail.Bad(bad, WireRun.encodeAll wire.Requests later)
                }

            property wire tail

    /// Truncation over a real connection: a request cut short by the client's end of stream is not answered.
    let truncation (wire: LoopbackWire<'Request, 'Reply>) : Property =
        let tail =
            gen {
                let! last = wire.Requests.Messages |> Gen.filter (fun m -> (wire.Requests.Encode.Invoke m).Length >= 2)
                let bytes = wire.Requests.Encode.Invoke last
                let! kept = Gen.choose (1, bytes.Length - 1)
                return LoopbackTail.Cut bytes[.. kept - 1]
            }

        property wire tail
