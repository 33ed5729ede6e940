namespace AsyncNet.Properties

// Idle detection (IdleOptions) against a model of its rule, over a real loopback connection on a loop whose clock
// moves only when the scenario says: every report comes at the right step, of the right kind, first or repeated,
// with the right idle time, and no other.

open System
open System.Collections.Generic
open System.Net
open System.Threading
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Transports

/// One step of an idle scenario.
[<RequireQualifiedAccess>]
type IdleStep =
    /// The clock moves on by this many milliseconds, and the loop runs what came due.
    | Advance of ms: int
    /// The client sends a byte; the server reads it (read activity).
    | PeerSends
    /// The server writes a byte (write activity).
    | ServerWrites

/// The timeouts watched on the server's connection (ms; None for off), and the steps.
type IdleScenario =
    {
        ReadMs: int option
        WriteMs: int option
        AllMs: int option
        Steps: IdleStep list
    }

/// A report as the model and the protocol see it: kind, first of its stretch, idle time in ms.
type IdleReport = IdleKind * bool * int

[<RequireQualifiedAccess>]
module IdleModel =

    /// One to three kinds with timeouts of 10 to 100 ms, and up to 25 steps, mostly clock moves.
    let scenario: Gen<IdleScenario> =
        gen {
            let timeout =
                Gen.frequency [ 1, Gen.constant None; 2, Gen.choose (10, 100) |> Gen.map Some ]

            let! read, write, all = Gen.zip3 timeout timeout timeout

            let read =
                if read.IsNone && write.IsNone && all.IsNone then
                    Some 50
                else
                    read

            let step =
                Gen.frequency
                    [
                        6, Gen.choose (1, 150) |> Gen.map IdleStep.Advance
                        2, Gen.constant IdleStep.PeerSends
                        2, Gen.constant IdleStep.ServerWrites
                    ]

            let! steps =
                Gen.sized (fun size -> Gen.choose (1, min 25 (size + 1)) |> Gen.bind (fun n -> Gen.listOfLength n step))

            return
                {
                    ReadMs = read
                    WriteMs = write
                    AllMs = all
                    Steps = steps
                }
        }

    /// The rule, per watched kind: look at its due time; quiet for its timeout since the last activity → report
    /// (first if the activity moved since the last report) and look again a timeout from now; active since → look
    /// again at last activity + timeout. Kinds are looked at in the order Read, Write, All. Returns each step's reports.
    let expected (scenario: IdleScenario) : IdleReport list list =
        let mutable now = 0
        let mutable lastRead = 0
        let mutable lastWrite = 0

        let kinds =
            [
                IdleKind.Read, scenario.ReadMs
                IdleKind.Write, scenario.WriteMs
                IdleKind.All, scenario.AllMs
            ]

        let due = Dictionary<IdleKind, int>()
        let reported = Dictionary<IdleKind, int>()

        for kind, timeout in kinds do
            timeout |> Option.iter (fun t -> due[kind] <- t)

        [
            for step in scenario.Steps do
                match step with
                | IdleStep.PeerSends ->
                    lastRead <- now
                    yield []
                | IdleStep.ServerWrites ->
                    lastWrite <- now
                    yield []
                | IdleStep.Advance ms ->
                    now <- now + ms

                    yield
                        [
                            for kind, timeout in kinds do
                                match timeout with
                                | Some t when due[kind] <= now ->
                                    let last =
                                        match kind with
                                        | IdleKind.Read -> lastRead
                                        | IdleKind.Write -> lastWrite
                                        | _ -> max lastRead lastWrite

                                    if now - last < t then
                                        due[kind] <- last + t
                                    else
                                        let first =
                                            match reported.TryGetValue kind with
                                            | true, r -> r <> last
                                            | _ -> true

                                        reported[kind] <- last
                                        due[kind] <- now + t
                                        yield kind, first, now - last
                                | _ -> ()
                        ]
        ]

    /// The server's side: counts what it reads and records idle reports.
    type private IdleServer() =
        let reports = List<IdleReport>()
        let mutable received = 0
        let mutable transport: IStreamTransport = Unchecked.defaultof<_>

        member _.Reports = reports
        member _.Received = received
        member _.Transport = transport

        interface IBaseProtocol with
            member _.ConnectionMade t = transport <- t :?> IStreamTransport
            member _.ConnectionLost _ = ()

        interface IProtocol with
            member _.DataReceived data = received <- received + data.Length
            member _.EofReceived() = false

        interface IIdleAwareProtocol with
            member _.IdleDetected idle =
                reports.Add((idle.Kind, idle.IsFirst, int (Math.Round idle.IdleTime.TotalMilliseconds)))

    /// A client that ignores what it reads.
    type private Sink() =
        interface IProtocol with
            member _.ConnectionMade _ = ()
            member _.ConnectionLost _ = ()
            member _.DataReceived _ = ()
            member _.EofReceived() = false

    /// Runs the scenario on a manual clock; returns each step's reports.
    let actual (scenario: IdleScenario) : IdleReport list list =
        let clock = ManualClock()
        use loop = new EventLoop(EventLoopOptions(TimeProvider = clock))

        let ms (value: int option) =
            value
            |> Option.map (fun v -> TimeSpan.FromMilliseconds(float v))
            |> Option.toNullable

        let idle =
            IdleOptions(ReadIdle = ms scenario.ReadMs, WriteIdle = ms scenario.WriteMs, AllIdle = ms scenario.AllMs)

        let turns (count: int) : Task =
            task {
                for _ in 1..count do
                    do! loop.SleepAsync TimeSpan.Zero
            }

        let work () : Task<IdleReport list list> =
            task {
                let accepted = TaskCompletionSource<IdleServer>()

                let! server =
                    loop.CreateServerAsync(
                        Func<IdleServer>(fun () ->
                            let protocol = IdleServer()
                            accepted.TrySetResult protocol |> ignore
                            protocol),
                        "127.0.0.1",
                        0,
                        ServerOptions(Idle = idle)
                    )

                let port = Loopback.portOf server

                let! struct (client, _) =
                    loop.CreateConnectionAsync(Func<Sink>(fun () -> Sink()), "127.0.0.1", port)

                let! protocol = accepted.Task
                let results = List<IdleReport list>()

                for step in scenario.Steps do
                    let before = protocol.Reports.Count

                    match step with
                    | IdleStep.PeerSends ->
                        let expected = protocol.Received + 1
                        client.Write(ReadOnlySpan "x"B)

                        while protocol.Received < expected do
                            do! turns 1
                    | IdleStep.ServerWrites -> protocol.Transport.Write(ReadOnlySpan "y"B)
                    | IdleStep.Advance ms ->
                        clock.Advance(TimeSpan.FromMilliseconds(float ms))
                        do! turns 3

                    results.Add(protocol.Reports |> Seq.skip before |> List.ofSeq)

                client.Abort()
                server.Close()
                server.CloseClients()
                do! server.WaitClosedAsync()
                return List.ofSeq results
            }

        // The loop's timers follow the manual clock, so the guard is a real-time one.
        use _guard =
            new Timer((fun _ -> loop.Stop()), null, TimeSpan.FromSeconds 20.0, Timeout.InfiniteTimeSpan)

        loop.RunUntilComplete(Func<Task<IdleReport list list>>(work))

    /// The law: the connection reports exactly what the model says, step by step.
    let reportsMatchTheModel (scenario: IdleScenario) : Property =
        let expected = expected scenario
        let actual = actual scenario

        let firstDifference =
            List.zip expected actual |> List.tryFindIndex (fun (e, a) -> e <> a)

        match firstDifference with
        | None -> Prop.ofTestable true
        | Some i ->
            false
            |> Prop.label
                $"step {i} (%A{scenario.Steps[i]}): the model reports %A{expected[i]}, the connection %A{actual[i]}"
        |> Prop.classify (expected |> List.exists (List.exists (fun (_, first, _) -> not first))) "repeated reports"
        |> Prop.classify (expected |> List.concat |> List.length >= 3) "three or more reports"
