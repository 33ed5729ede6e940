namespace AsyncNet.Properties

open System
open System.Net
open System.Threading
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Streams
open AsyncNet.Transports

/// One call that a thread which is not the loop's makes on a loop: the any-thread entry points.
type CrossThreadCall =
    /// Open a stream connection to the echo server, echo a message of this length, close it.
    | EchoOverStream of length: int
    /// Open a protocol-level connection (CreateConnectionAsync) and abort it from loop code.
    | ConnectAndAbort
    /// Start a server on port 0 and dispose of it, both from this thread.
    | StartAndStopServer
    /// Hand work to the loop (RunCoroutineThreadSafe) and get its result back.
    | RunOnLoop of value: int
    /// Post a callback (CallSoonThreadSafe) that bumps the loop-owned counter.
    | Post

/// How a thread spaces its calls, to vary the interleavings.
type Pause =
    | NoPause
    | Yield
    | Spin
    | Sleep

/// Several threads, each with its calls in order.
type CrossThreadScenario = { Threads: (CrossThreadCall * Pause) list list }

/// Generators of cross-thread scenarios.
[<RequireQualifiedAccess>]
module CrossThreadGen =
    let private call =
        Gen.oneof
            [ Gen.choose (1, 20_000) |> Gen.map EchoOverStream
              Gen.constant ConnectAndAbort
              Gen.constant StartAndStopServer
              Gen.choose (0, 1000) |> Gen.map RunOnLoop
              Gen.constant Post ]

    let private pause = Gen.elements [ NoPause; Yield; Spin; Sleep ]

    /// Two to six threads, each making one to six calls.
    let scenario: Gen<CrossThreadScenario> =
        gen {
            let! threads = Gen.choose (2, 6)
            let! calls = Gen.listOfLength threads (Gen.choose (1, 6) |> Gen.bind (fun n -> Gen.listOfLength n (Gen.zip call pause)))
            return { Threads = calls }
        }

/// A protocol that keeps nothing: it exists to be connected and aborted.
type internal IdleProtocol() =
    interface IProtocol with
        member _.ConnectionMade(_: ITransport) = ()
        member _.ConnectionLost(_: exn) = ()
        member _.DataReceived(_: ReadOnlySpan<byte>) = ()
        member _.EofReceived() = false

/// The any-thread entry points called concurrently from many threads against one loop on its own thread.
[<RequireQualifiedAccess>]
module CrossThreadProperties =
    let private limit = TimeSpan.FromSeconds 30.0

    let private wait (task: Task) = task.WaitAsync(limit).GetAwaiter().GetResult()

    let private result (task: Task<'T>) = task.WaitAsync(limit).GetAwaiter().GetResult()

    let private pauseFor pause =
        match pause with
        | NoPause -> ()
        | Yield -> Thread.Yield() |> ignore
        | Spin -> Thread.SpinWait 200
        | Sleep -> Thread.Sleep 1

    /// Every call completes with its own right answer, every callback ran on the loop thread, nothing reached the loop's
    /// exception handler, and the echo server is left with no connection: the interleaving cannot matter.
    let everyCallCompletesCorrectlyWhateverTheInterleaving (scenario: CrossThreadScenario) : Property =
        let loop = EventLoop.StartOnNewThread()
        let reports = Collections.Concurrent.ConcurrentQueue<LoopExceptionContext>()
        loop.ExceptionHandler <- Action<EventLoop, LoopExceptionContext>(fun _ context -> reports.Enqueue context)
        // Touched only by loop callbacks: if one ran on another thread, updates could be lost and the count would be off.
        let counter = ref 0
        let offLoop = ref 0
        let failures = Collections.Concurrent.ConcurrentQueue<string>()

        try
            let echo =
                loop.StartServerAsync(
                    (fun reader writer ->
                        task {
                            let buffer = Array.zeroCreate<byte> 4096
                            let mutable n = 1

                            while n > 0 do
                                let! read = reader.ReadAsync(Memory buffer)
                                n <- read

                                if n > 0 then
                                    writer.Write(ReadOnlySpan(buffer, 0, n))
                                    do! writer.DrainAsync()
                        }
                        :> Task),
                    "127.0.0.1",
                    0
                )
                |> result

            let port =
                match echo.Sockets[0].LocalEndPoint with
                | :? IPEndPoint as bound -> bound.Port
                | other -> failwith $"the echo server listens on {other}"

            let run call =
                match call with
                | EchoOverStream length ->
                    let struct (reader, writer) = loop.OpenConnectionAsync("127.0.0.1", port) |> result
                    let message = Array.init length byte
                    writer.Write(ReadOnlySpan message)
                    wait (writer.DrainAsync().AsTask())
                    let back = reader.ReadExactlyAsync(length).AsTask() |> result

                    if back <> message then
                        failures.Enqueue $"echo of {length} bytes came back different"

                    writer.Close()
                    wait (writer.WaitClosedAsync())
                | ConnectAndAbort ->
                    let connected =
                        loop.CreateConnectionAsync((fun () -> IdleProtocol()), "127.0.0.1", port) |> result

                    let struct (transport, _) = connected
                    wait (loop.RunCoroutineThreadSafe(fun () -> transport.Abort(); Task.CompletedTask))
                | StartAndStopServer ->
                    let server = loop.CreateServerAsync((fun () -> IdleProtocol()), "127.0.0.1", 0) |> result
                    wait (server.DisposeAsync().AsTask())
                | RunOnLoop value ->
                    let back =
                        loop.RunCoroutineThreadSafe(fun () ->
                            if not loop.IsOnLoopThread then Interlocked.Increment &offLoop.contents |> ignore
                            counter.Value <- counter.Value + 1
                            Task.FromResult(value * 2))
                        |> result

                    if back <> value * 2 then
                        failures.Enqueue $"RunOnLoop {value} returned {back}"
                | Post ->
                    loop.CallSoonThreadSafe(fun () ->
                        if not loop.IsOnLoopThread then Interlocked.Increment &offLoop.contents |> ignore
                        counter.Value <- counter.Value + 1)
                    |> ignore

            use start = new Barrier(scenario.Threads.Length)

            let threads =
                scenario.Threads
                |> List.map (fun calls ->
                    let body () =
                        start.SignalAndWait()

                        for call, pause in calls do
                            pauseFor pause

                            try
                                run call
                            with ex ->
                                failures.Enqueue $"{call}: {ex.GetType().Name}: {ex.Message}"

                    let thread = Thread(ThreadStart body)
                    thread.IsBackground <- true
                    thread.Start()
                    thread)

            for thread in threads do
                if not (thread.Join(limit)) then
                    failures.Enqueue "a thread did not finish its calls in time"

            // One more trip through the loop: every Post queued before it has run by then.
            let expected =
                scenario.Threads
                |> List.sumBy (List.filter (fun (call, _) -> match call with RunOnLoop _ | Post -> true | _ -> false) >> List.length)

            let finalCount = loop.RunCoroutineThreadSafe(fun () -> Task.FromResult counter.Value) |> result

            let openConnections =
                loop.RunCoroutineThreadSafe(fun () ->
                    task {
                        do! echo.DisposeAsync()
                        return echo.Server.ConnectionCount
                    })
                |> result

            let failed = String.Join("; ", failures)

            (failures.IsEmpty && finalCount = expected && offLoop.Value = 0 && reports.IsEmpty && openConnections = 0)
            |> Prop.label $"failures [{failed}]; loop callbacks {finalCount} of {expected}; off the loop {offLoop.Value}; handler reports {reports.Count}; open {openConnections}"
        finally
            loop.DisposeAsync().AsTask().WaitAsync(limit).GetAwaiter().GetResult()
