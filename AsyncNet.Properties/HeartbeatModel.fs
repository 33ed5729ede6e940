namespace AsyncNet.Properties

// Heartbeats (HeartbeatOptions) on a framed loopback connection whose loop runs on a manual clock, against a model:
// the server pings after each Interval its side has written nothing (a ping is a write), and closes once nothing has
// arrived for the Deadline. The client has no heartbeat of its own and counts the pings it reads.

open System
open System.Threading
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Streams.Framing
open AsyncNet.Streams.Framing.Codec

/// One step of a heartbeat scenario.
[<RequireQualifiedAccess>]
type HeartbeatStep =
    /// The clock moves on by this many milliseconds, and the loop runs what came due.
    | Advance of ms: int
    /// The client sends a frame; the server reads it.
    | ClientSends

/// The server's heartbeat (ms) and the steps.
type HeartbeatScenario =
    {
        IntervalMs: int
        DeadlineMs: int
        Steps: HeartbeatStep list
    }

[<RequireQualifiedAccess>]
module HeartbeatModel =

    /// Intervals of 10 to 60 ms, deadlines of 2 to 4 intervals, up to 25 steps.
    let scenario: Gen<HeartbeatScenario> =
        gen {
            let! interval = Gen.choose (10, 60)
            let! intervals = Gen.choose (2, 4)

            let step =
                Gen.frequency
                    [
                        5, Gen.choose (1, 80) |> Gen.map HeartbeatStep.Advance
                        2, Gen.constant HeartbeatStep.ClientSends
                    ]

            let! steps =
                Gen.sized (fun size -> Gen.choose (1, min 25 (size + 1)) |> Gen.bind (fun n -> Gen.listOfLength n step))

            return
                {
                    IntervalMs = interval
                    DeadlineMs = interval * intervals
                    Steps = steps
                }
        }

    /// Per step: how many pings the server sends, and whether the connection is closed after it. The idle rule per
    /// kind (read: the deadline, closing; write: the interval, pinging), read looked at first.
    let expected (scenario: HeartbeatScenario) : (int * bool) list =
        let mutable now = 0
        let mutable lastRead = 0
        let mutable lastWrite = 0
        let mutable readDue = scenario.DeadlineMs
        let mutable writeDue = scenario.IntervalMs
        let mutable closed = false

        [
            for step in scenario.Steps do
                match step with
                | HeartbeatStep.ClientSends ->
                    lastRead <- now
                    yield 0, closed
                | HeartbeatStep.Advance ms ->
                    now <- now + ms
                    let mutable pings = 0

                    if not closed && readDue <= now then
                        if now - lastRead >= scenario.DeadlineMs then
                            closed <- true
                        else
                            readDue <- lastRead + scenario.DeadlineMs

                    if not closed && writeDue <= now then
                        if now - lastWrite >= scenario.IntervalMs then
                            pings <- 1
                            lastWrite <- now
                            writeDue <- now + scenario.IntervalMs
                        else
                            writeDue <- lastWrite + scenario.IntervalMs

                    yield pings, closed
        ]

    /// Runs the scenario on a manual clock; per step, the pings the client read and whether its connection ended.
    let actual (scenario: HeartbeatScenario) : (int * bool) list =
        let clock = ManualClock()
        use loop = new EventLoop(EventLoopOptions(TimeProvider = clock))
        let format = LengthFieldFormat.Default

        let heartbeat =
            HeartbeatOptions(
                Interval = TimeSpan.FromMilliseconds(float scenario.IntervalMs),
                Deadline = Nullable(TimeSpan.FromMilliseconds(float scenario.DeadlineMs))
            )

        let turns (count: int) : Task =
            task {
                for _ in 1..count do
                    do! loop.SleepAsync TimeSpan.Zero
            }

        let work () : Task<(int * bool) list> =
            task {
                let mutable serverRead = 0

                let! server =
                    loop.StartFramedServerAsync(
                        (fun connection ->
                            task {
                                try
                                    let mutable reading = true

                                    while reading do
                                        let! frame = connection.Reader.ReadFrameAsync()
                                        reading <- frame.HasValue
                                        serverRead <- serverRead + 1
                                with _ ->
                                    ()
                            }),
                        "127.0.0.1",
                        0,
                        format,
                        heartbeat
                    )

                let! client =
                    loop.OpenFramedConnectionAsync("127.0.0.1", Loopback.portOf server.Server, format)

                let mutable pings = 0
                let mutable ended = false

                let reading =
                    task {
                        try
                            let mutable more = true

                            while more do
                                let! frame = client.Reader.ReadFrameAsync()

                                match Option.ofNullable frame with
                                | Some f when f.Payload.IsEmpty -> pings <- pings + 1
                                | Some _ -> ()
                                | None -> more <- false
                        with _ ->
                            ()

                        ended <- true
                    }

                let results = Collections.Generic.List<int * bool>()

                for step in scenario.Steps do
                    let before = pings

                    match step with
                    | HeartbeatStep.ClientSends ->
                        if not ended then
                            let read = serverRead
                            client.Writer.Write(0u, ReadOnlyMemory "data"B)

                            while serverRead = read && not ended do
                                do! turns 1
                    | HeartbeatStep.Advance ms ->
                        clock.Advance(TimeSpan.FromMilliseconds(float ms))
                        do! turns 8

                    results.Add((pings - before, ended))

                client.Close()
                do! reading
                do! server.DisposeAsync()
                return List.ofSeq results
            }

        // The loop's timers follow the manual clock, so the guard is a real-time one.
        use _guard =
            new Timer((fun _ -> loop.Stop()), null, TimeSpan.FromSeconds 20.0, Timeout.InfiniteTimeSpan)

        loop.RunUntilComplete(Func<Task<(int * bool) list>>(work))

    /// The law: the client reads exactly the pings the model says, step by step, and the connection ends exactly
    /// when the model's deadline passes.
    let pingsAndDeadlineMatchTheModel (scenario: HeartbeatScenario) : Property =
        let expected = expected scenario
        let actual = actual scenario

        match List.zip expected actual |> List.tryFindIndex (fun (e, a) -> e <> a) with
        | None -> Prop.ofTestable true
        | Some i ->
            false
            |> Prop.label
                $"step {i} (%A{scenario.Steps[i]}): the model says (pings, closed) = %A{expected[i]}, the connection %A{actual[i]}"
        |> Prop.classify (expected |> List.exists snd) "closed at the deadline"
        |> Prop.classify ((expected |> List.sumBy fst) >= 2) "two or more pings"
