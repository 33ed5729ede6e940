namespace AsyncNet.Properties

// How a stream transport ends after writes the kernel takes in pieces: WriteEof (half-close), Close and Abort, each
// checked over a real loopback TCP connection with a tiny send buffer, through the public transport API only.

open System
open System.Collections.Generic
open System.IO
open System.Net
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Transports

/// How the client ends its side after its writes.
[<RequireQualifiedAccess>]
type StreamEnding =
    /// Half-close: the peer answers after the EOF, and the client still reads the answer.
    | WriteEof
    | Close
    | Abort

/// Writes (taken in pieces by a tiny send buffer), then an ending.
type EndingScenario =
    {
        Writes: StreamWrite list
        Ending: StreamEnding
    }

    /// Every byte written, in order.
    member this.Written = this.Writes |> Seq.collect (fun w -> w.Data) |> Array.ofSeq

/// The peer: records what arrives and in what order; on EOF it answers and closes its side.
type private EndingPeer(answer: byte array) =
    let log = EventLog()

    let finished =
        TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)

    let mutable transport: IStreamTransport = Unchecked.defaultof<_>

    member _.Received = log.Received
    member _.Events = log.Events
    member _.Finished = finished.Task

    interface IProtocol with
        member _.ConnectionMade t = transport <- t :?> IStreamTransport

        member _.DataReceived data = log.Data data

        member _.EofReceived() =
            log.Add "eof"
            transport.Write(ReadOnlySpan answer)
            transport.Close()
            true

        member _.ConnectionLost error =
            log.Add(
                match error with
                | null -> "lost"
                | _ -> "reset"
            )

            finished.TrySetResult() |> ignore

/// The client: records what arrives after its ending and how it is lost.
type private EndingClient() =
    let log = EventLog()

    let lost =
        TaskCompletionSource<exn option>(TaskCreationOptions.RunContinuationsAsynchronously)

    member _.Received = log.Received
    member _.Events = log.Events
    member _.Lost = lost.Task

    interface IProtocol with
        member _.ConnectionMade _ = ()

        member _.DataReceived data = log.Data data

        member _.EofReceived() =
            log.Add "eof"
            false

        member _.ConnectionLost error =
            log.Add "lost"
            lost.TrySetResult(Option.ofObj error) |> ignore

[<RequireQualifiedAccess>]
module HalfCloseGen =

    /// Up to 12 writes of up to 192 KiB each (so a 4 KiB send buffer takes most in pieces, and an Abort finds bytes
    /// still queued), then any ending.
    let scenario: Gen<EndingScenario> =
        gen {
            let! writes = TransportGen.writes 12 (192 * 1024)

            let! ending =
                Gen.elements [ StreamEnding.WriteEof; StreamEnding.Close; StreamEnding.Abort ]

            return { Writes = writes; Ending = ending }
        }

[<RequireQualifiedAccess>]
module HalfCloseProperties =

    let private answer = "answer after EOF"B

    /// Runs a scenario; returns the peer and the client once both are lost, and whether a write after the ending threw.
    let private run (scenario: EndingScenario) =
        use loop = new EventLoop()
        let peers = List<EndingPeer>()
        let tiny = Nullable TransportProperties.TinyBuffer

        let work () : Task<EndingPeer * EndingClient * bool> =
            task {
                let! server =
                    loop.CreateServerAsync(
                        Func<EndingPeer>(fun () ->
                            let peer = EndingPeer answer
                            peers.Add peer
                            peer),
                        "127.0.0.1",
                        0,
                        ServerOptions(SendBufferSize = tiny)
                    )

                let port = Loopback.portOf server

                let client = EndingClient()

                let! struct (transport, _) =
                    loop.CreateConnectionAsync(
                        Func<EndingClient>(fun () -> client),
                        "127.0.0.1",
                        port,
                        ConnectionOptions(SendBufferSize = tiny)
                    )

                for write in scenario.Writes do
                    transport.Write(ReadOnlySpan write.Data)

                    if write.YieldAfter then
                        do! loop.SleepAsync TimeSpan.Zero

                match scenario.Ending with
                | StreamEnding.WriteEof -> transport.WriteEof()
                | StreamEnding.Close -> transport.Close()
                | StreamEnding.Abort -> transport.Abort()

                let writeAfterEndingThrew =
                    try
                        transport.Write(ReadOnlySpan "late"B)
                        false
                    with :? InvalidOperationException ->
                        true

                let! _ = client.Lost

                while peers.Count = 0 do
                    do! loop.SleepAsync(TimeSpan.FromMilliseconds 1.0)

                do! peers[0].Finished
                server.Close()
                do! server.WaitClosedAsync()
                return peers[0], client, writeAfterEndingThrew
            }

        let guard = loop.CallLater(TimeSpan.FromSeconds 30.0, Action loop.Stop)
        let result = loop.RunUntilComplete(loop.CreateTask(Func<Task<_>> work))
        guard.Cancel()
        result

    /// The law: after WriteEof the peer receives every byte, then EOF, and its answer still reaches the client, then
    /// EOF, then one clean connection-lost; after Close the peer receives every byte then EOF, and the client is lost
    /// once, cleanly, receiving nothing more; after Abort the peer receives a prefix of the bytes (what the kernel had
    /// taken, never a byte out of order), and the client is lost once, cleanly. A write after any ending throws.
    let endingsKeepTheirOrder (scenario: EndingScenario) : Property =
        let peer, client, writeAfterEndingThrew = run scenario
        let written = scenario.Written
        let got = peer.Received

        let clientLostCleanly =
            client.Lost.Result.IsNone
            && (client.Events |> List.filter ((=) "lost")).Length = 1

        let dataThenEof =
            List.filter (fun e -> e = "data" || e = "eof") peer.Events =
                (if written.Length > 0 then [ "data"; "eof" ] else [ "eof" ])

        let holds =
            match scenario.Ending with
            | StreamEnding.WriteEof ->
                got = written
                && dataThenEof
                && client.Received = answer
                && client.Events = [ "data"; "eof"; "lost" ]
            | StreamEnding.Close ->
                got = written
                && dataThenEof
                && client.Received.Length = 0
                && client.Events = [ "lost" ]
            | StreamEnding.Abort ->
                got.Length <= written.Length
                && got = Array.sub written 0 got.Length
                && client.Received.Length = 0
                && client.Events = [ "lost" ]

        (holds && clientLostCleanly && writeAfterEndingThrew)
        |> Prop.label
            $"%A{scenario.Ending} after {written.Length} bytes: the peer got {got.Length} (%A{peer.Events}); the client got {client.Received.Length} (%A{client.Events}); a late write threw: {writeAfterEndingThrew}; the client was lost with %A{client.Lost.Result}"
        |> Prop.classify (written.Length > 64 * 1024) "more than 64 KiB written"
        |> Prop.classify
            (scenario.Ending = StreamEnding.Abort && got.Length < written.Length)
            "Abort dropped queued bytes"
