namespace AsyncNet.Properties

// Laws of AsyncNet's transports, streams, servers, connects, datagrams and loop under injected syscall faults, over
// real loopback sockets (AsyncNet.Testing.Syscalls; the process must have the "AsyncNet.Testing.SyscallFaults" switch
// on). Each run also counts the process's sockets before and after it, so these properties must run alone.
//
// The laws, in short:
// - Transient faults (EINTR, EAGAIN storms, partial sends and receives) are invisible: every byte arrives in order and
//   nothing fails or is reported.
// - A terminal fault (ECONNRESET, EPIPE, ENOBUFS, a refused or timed-out connect, ...) reaches whoever owns the call as
//   exactly the exception AsyncNet documents for it, and only then does anything fail; the peer always has a prefix.
// - Nothing but classified network errors from injected faults reaches a loop's exception handler, and no socket is
//   left open.

open System
open System.Collections.Concurrent
open System.IO
open System.Net
open System.Net.Sockets
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Errors
open AsyncNet.Loop
open AsyncNet.Streams
open AsyncNet.Testing.Syscalls
open AsyncNet.Transports

/// What a client writes (in order, some writes followed by a yield or a drain) under a fault plan.
type SyscallScenario =
    {
        Plan: FaultPlan
        Writes: StreamWrite list
    }

    /// Every write, concatenated.
    member this.Expected = this.Writes |> Seq.collect (fun w -> w.Data) |> Array.ofSeq

    override this.ToString() =
        let write (w: StreamWrite) =
            string w.Data.Length + (if w.YieldAfter then "+yield" else "")

        $"""{this.Plan} | writes [{String.Join(", ", this.Writes |> List.map write)}]"""

/// Datagrams (each tagged with its index) sent from one endpoint to another under a fault plan.
type FaultedDatagramScenario =
    {
        Plan: FaultPlan
        Sizes: int list
        Connected: bool
    }

/// Timers at the given delays (ms) on a loop whose selector waits are interrupted as the plan says.
type TimerScenario = { Plan: FaultPlan; Delays: int list }

/// Scenarios of the syscall-fault properties, as FsCheck arbitraries that shrink the plan and the writes.
[<RequireQualifiedAccess>]
module SyscallScenarios =

    /// The calls a client loop makes.
    let clientKinds =
        [
            SyscallKind.Send
            SyscallKind.Receive
            SyscallKind.Connect
            SyscallKind.ConnectResult
            SyscallKind.SelectorWait
        ]

    /// The calls a server loop makes.
    let serverKinds =
        [
            SyscallKind.Accept
            SyscallKind.Send
            SyscallKind.Receive
            SyscallKind.SelectorWait
        ]

    /// Errors that end a client's operation, by the call they hit.
    let clientErrors =
        [
            SyscallKind.Send,
            [
                SocketError.ConnectionReset
                SocketError.Shutdown
                SocketError.NoBufferSpaceAvailable
            ]
            SyscallKind.Receive, [ SocketError.ConnectionReset; SocketError.TimedOut ]
            SyscallKind.Connect,
            [
                SocketError.ConnectionRefused
                SocketError.NetworkUnreachable
                SocketError.NoBufferSpaceAvailable
            ]
            SyscallKind.ConnectResult, [ SocketError.ConnectionRefused; SocketError.TimedOut ]
        ]

    /// Errors a server meets: out-of-resource and odd accepts (which must cost no client), and errors that end one
    /// connection (none shared with the accept's, so each can be counted).
    let serverAcceptErrors =
        [
            SocketError.TooManyOpenSockets
            SocketError.NoBufferSpaceAvailable
            SocketError.AccessDenied
            SocketError.ConnectionAborted
            SocketError.NetworkUnreachable
        ]

    let serverConnectionErrors =
        [ SocketError.ConnectionReset; SocketError.Shutdown; SocketError.TimedOut ]

    let private serverErrors =
        [
            SyscallKind.Accept, serverAcceptErrors
            SyscallKind.Send, [ SocketError.ConnectionReset; SocketError.Shutdown ]
            SyscallKind.Receive, [ SocketError.ConnectionReset; SocketError.TimedOut ]
        ]

    /// Up to 6 writes of up to 1,500 bytes: small enough that one-byte transfers stay quick.
    let private writes = TransportGen.writes 6 1500

    let private shrinkWrites (writes: StreamWrite list) =
        seq {
            for i in 0 .. writes.Length - 1 do
                yield List.removeAt i writes

            for i, w in List.indexed writes do
                if w.Data.Length > 1 then
                    yield
                        List.updateAt
                            i
                            { w with
                                Data = w.Data[.. w.Data.Length / 2 - 1]
                            }
                            writes
        }

    let private arbitrary (plan: Gen<FaultPlan>) : Arbitrary<SyscallScenario> =
        Arb.fromGenShrink (
            gen {
                let! plan = plan
                let! writes = writes
                return { Plan = plan; Writes = writes }
            },
            fun s ->
                seq {
                    for plan in SyscallGen.shrinkPlan s.Plan do
                        yield { s with Plan = plan }

                    for writes in shrinkWrites s.Writes do
                        yield { s with Writes = writes }
                }
        )

    /// Transient faults on the client's calls.
    let clientTransient = arbitrary (SyscallGen.transientPlan clientKinds)

    /// Transient faults and one or two terminal errors on the client's calls.
    let clientTerminal = arbitrary (SyscallGen.terminalPlan clientKinds 30 clientErrors)

    /// Transient faults on the server's calls, accepts included.
    let serverTransient = arbitrary (SyscallGen.transientPlan serverKinds)

    /// Transient faults and one or two errors on the server's calls.
    let serverTerminal = arbitrary (SyscallGen.terminalPlan serverKinds 20 serverErrors)

    /// Faults on connects only: transient ones and errors at the start or the outcome of any of the first few.
    let connects =
        arbitrary (
            SyscallGen.terminalPlan
                [ SyscallKind.Connect; SyscallKind.ConnectResult ]
                4
                (clientErrors
                 |> List.filter (fun (k, _) -> k = SyscallKind.Connect || k = SyscallKind.ConnectResult))
        )

    /// Up to 20 datagrams of 1 to 500 bytes between two endpoints on one loop, with transient faults and errors on both.
    let datagrams: Arbitrary<FaultedDatagramScenario> =
        let errors =
            [
                SyscallKind.Send, [ SocketError.NoBufferSpaceAvailable; SocketError.HostUnreachable ]
                SyscallKind.Receive, [ SocketError.ConnectionRefused ]
            ]

        Arb.fromGenShrink (
            gen {
                let! plan =
                    Gen.oneof
                        [
                            SyscallGen.transientPlan [ SyscallKind.Send; SyscallKind.Receive; SyscallKind.SelectorWait ]
                            SyscallGen.terminalPlan
                                [ SyscallKind.Send; SyscallKind.Receive; SyscallKind.SelectorWait ]
                                20
                                errors
                        ]

                let! sizes =
                    Gen.choose (1, 20)
                    |> Gen.bind (fun n -> Gen.listOfLength n (Gen.choose (1, 500)))

                let! connected = Gen.elements [ true; false ]

                return
                    {
                        Plan = plan
                        Sizes = sizes
                        Connected = connected
                    }
            },
            fun s ->
                seq {
                    for plan in SyscallGen.shrinkPlan s.Plan do
                        yield { s with Plan = plan }

                    for i in 0 .. s.Sizes.Length - 1 do
                        if s.Sizes.Length > 1 then
                            yield
                                { s with
                                    Sizes = List.removeAt i s.Sizes
                                }
                }
        )

    /// Up to 12 timers of 0 to 15 ms under runs of interrupted selector waits.
    let timers: Arbitrary<TimerScenario> =
        Arb.fromGenShrink (
            gen {
                let! plan = SyscallGen.transientPlan [ SyscallKind.SelectorWait ]

                let! delays =
                    Gen.choose (1, 12)
                    |> Gen.bind (fun n -> Gen.listOfLength n (Gen.choose (0, 15)))

                return { Plan = plan; Delays = delays }
            },
            fun s ->
                seq {
                    for plan in SyscallGen.shrinkPlan s.Plan do
                        yield { s with Plan = plan }
                }
        )

/// How a client's exchange went: the connect failed, or it ran and ended with what came back and what was thrown.
type ExchangeResult =
    | ConnectFailed of exn
    | Exchanged of echoed: byte array * errors: exn list

/// The laws. Each takes a scenario and runs it on fresh loops over 127.0.0.1.
[<RequireQualifiedAccess>]
module SyscallFaultProperties =

    let private noFaults = { Rules = [] }

    let private verdict (failures: string list) (scenario: obj) : Property =
        failures.IsEmpty
        |> Prop.label $"""{String.Join("; ", failures)} (scenario: {scenario})"""

    let private writeAll (write: byte array -> unit) (pause: unit -> Task) (writes: StreamWrite list) : Task =
        task {
            for w in writes do
                write w.Data

                if w.YieldAfter then
                    do! pause ()
        }

    /// A protocol-level exchange: connect to a protocol-level echo server, write, send EOF, collect the echo until the
    /// connection ends. Returns the client's end and the server's ends.
    let private protocolExchange (pair: LoopPair) (writes: StreamWrite list) (clients: int) =
        task {
            let ended = ConcurrentQueue<ConnectionEnd>()

            let! server =
                pair.Server.CreateServerAsync(Func<IBaseProtocol>(fun () -> EchoServerProtocol ended), "127.0.0.1", 0)

            let port = SyscallRun.port (server.Sockets[0])

            let one () : Task<Result<ConnectionEnd, exn>> =
                task {
                    let client = CollectingClient()

                    try
                        let! struct (transport, _) =
                            pair.Client.CreateConnectionAsync(
                                Func<CollectingClient>(fun () -> client),
                                "127.0.0.1",
                                port
                            )

                        do!
                            writeAll
                                (fun data -> transport.Write(ReadOnlySpan data))
                                (fun () -> pair.Client.SleepAsync TimeSpan.Zero)
                                writes

                        transport.WriteEof()
                        let! ended = client.Ended
                        return Ok ended
                    with :? NetworkException as e ->
                        return Error(e :> exn)
                }

            let! results = Task.WhenAll(List.init clients (fun _ -> one ()))
            do! server.DisposeAsync()
            return List.ofArray results, List.ofSeq ended
        }

    /// A stream exchange: OpenConnectionAsync to a stream echo server (whose handler ends quietly if its connection
    /// breaks), write with drains, WriteEof, read the echo to its end concurrently, Close and WaitClosedAsync. Every
    /// exception a drain, read or WaitClosedAsync throws is kept.
    let private streamExchange (pair: LoopPair) (writes: StreamWrite list) : Task<ExchangeResult> =
        let echo (reader: StreamReader) (writer: StreamWriter) : Task =
            task {
                try
                    let mutable more = true

                    while more do
                        let! bytes = reader.ReadAsync 4096
                        more <- bytes.Length > 0

                        if more then
                            writer.Write(ReadOnlySpan bytes)
                            do! writer.DrainAsync()

                    writer.WriteEof()
                    do! writer.DrainAsync()
                with :? NetworkException ->
                    // The client's fault: its connection broke, which resets this end too.
                    ()
            }

        task {
            let! server =
                pair.Server.StartServerAsync(Func<StreamReader, StreamWriter, Task>(echo), "127.0.0.1", 0)

            let port = SyscallRun.port (server.Sockets[0])
            let errors = ConcurrentQueue<exn>()

            let attempt (work: unit -> Task) : Task =
                task {
                    try
                        do! work ()
                    with e ->
                        errors.Enqueue e
                }

            let! result =
                task {
                    try
                        let! struct (reader, writer) = pair.Client.OpenConnectionAsync("127.0.0.1", port)
                        return Ok(reader, writer)
                    with :? NetworkException as e ->
                        return Error(e :> exn)
                }

            match result with
            | Error e ->
                do! server.DisposeAsync()
                return ConnectFailed e
            | Ok(reader, writer) ->
                let echoed = new MemoryStream()

                let reading =
                    attempt (fun () ->
                        task {
                            let mutable more = true

                            while more do
                                let! bytes = reader.ReadAsync 777
                                echoed.Write(bytes, 0, bytes.Length)
                                more <- bytes.Length > 0
                        })

                do!
                    writeAll
                        (fun data -> writer.Write(ReadOnlySpan data))
                        (fun () -> attempt (fun () -> writer.DrainAsync().AsTask()))
                        writes

                do! attempt (fun () -> writer.DrainAsync().AsTask())
                writer.WriteEof()
                do! reading
                writer.Close()
                do! attempt (fun () -> writer.WaitClosedAsync())
                do! server.DisposeAsync()
                return Exchanged(echoed.ToArray(), List.ofSeq errors)
        }

    /// Transient faults under a protocol client (its connect, sends, receives and selector waits) are invisible: the
    /// echo comes back whole and in order, the connection ends cleanly, nothing is reported, nothing is left open.
    let transientFaultsUnderAProtocolClientAreInvisible (scenario: SyscallScenario) : Property =
        let (clients, servers), outcome =
            SyscallRun.run scenario.Plan noFaults (fun pair -> protocolExchange pair scenario.Writes 1)

        let expected = scenario.Expected

        [
            match clients with
            | [ Ok { Received = echoed; Error = null } ] when echoed = expected -> ()
            | other -> yield $"the client ended with %A{other}, not the {expected.Length}-byte echo"
            if servers |> List.exists (fun s -> not (isNull s.Error)) then
                yield $"the server's connection failed: %A{servers}"
            yield! SyscallRun.hygiene outcome
        ]
        |> fun failures -> verdict failures scenario
        |> Prop.classify (outcome.ClientFaults.FaultCount SyscallKind.All > 0) "faults reached"
        |> Prop.classify (outcome.ClientFaults.FaultCount SyscallKind.SelectorWait > 0) "selector waits interrupted"

    /// Transient faults under StreamReader and StreamWriter are invisible: every read, drain and WaitClosedAsync
    /// succeeds and the echo read back is exactly what was written.
    let transientFaultsUnderStreamsAreInvisible (scenario: SyscallScenario) : Property =
        let result, outcome =
            SyscallRun.run scenario.Plan noFaults (fun pair -> streamExchange pair scenario.Writes)

        [
            match result with
            | Exchanged(echoed, []) when echoed = scenario.Expected -> ()
            | other -> yield $"the exchange ended with %A{other}"
            yield! SyscallRun.hygiene outcome
        ]
        |> fun failures -> verdict failures scenario
        |> Prop.classify
            (outcome.ClientFaults.FaultCount(SyscallKind.Send ||| SyscallKind.Receive) > 0)
            "transfers faulted"

    /// A terminal fault under a protocol client surfaces exactly once, as its documented exception, and only then does
    /// the connection fail: the server always has a prefix of what was written, the echo a prefix of that, and a clean
    /// end means the whole echo came back.
    let terminalFaultsUnderAProtocolClientSurfaceAsTheirDocumentedException (scenario: SyscallScenario) : Property =
        let (clients, servers), outcome =
            SyscallRun.run scenario.Plan noFaults (fun pair -> protocolExchange pair scenario.Writes 1)

        let expected = scenario.Expected
        let faults = outcome.ClientFaults
        let terminal = SyscallRun.errorCount faults scenario.Plan.TerminalErrors

        let atServer =
            servers
            |> List.tryHead
            |> Option.map (fun s -> s.Received)
            |> Option.defaultValue [||]

        [
            if not (SyscallRun.isPrefix atServer expected) then
                yield "the server received something other than a prefix of what was written"
            match clients with
            | [ Error e ] ->
                if terminal = 0 || not (SyscallRun.documented faults e) then
                    yield
                        $"the connect failed with {e.GetType().Name}: {e.Message}, with {terminal} terminal fault(s) injected"

                if atServer.Length > 0 then
                    yield "a failed connect delivered bytes"
            | [ Ok { Received = echoed; Error = error } ] ->
                if not (SyscallRun.isPrefix echoed atServer) then
                    yield "the echo is not a prefix of what the server received"

                match error with
                | null when terminal > 0 ->
                    yield $"{terminal} terminal fault(s) injected, yet the connection ended cleanly"
                | null when echoed <> expected ->
                    yield $"a clean end with {echoed.Length} of {expected.Length} bytes echoed"
                | null -> ()
                | e when terminal = 0 || not (SyscallRun.documented faults e) ->
                    yield
                        $"the connection was lost with {e.GetType().Name}: {e.Message}, with {terminal} terminal fault(s) injected"
                | _ -> ()
            | other -> yield $"unexpected client results %A{other}"
            yield! SyscallRun.hygiene outcome
        ]
        |> fun failures -> verdict failures scenario
        |> Prop.classify (terminal > 0) "a terminal fault fired"
        |> Prop.classify (clients |> List.exists Result.isError) "the connect failed"

    /// A terminal fault under StreamReader/StreamWriter reaches the reads, drains and WaitClosedAsync as its documented
    /// exception; without one nothing throws and the echo is whole. The echo is always a prefix of what was written.
    let terminalFaultsUnderStreamsSurfaceAsTheirDocumentedException (scenario: SyscallScenario) : Property =
        let result, outcome =
            SyscallRun.run scenario.Plan noFaults (fun pair -> streamExchange pair scenario.Writes)

        let expected = scenario.Expected
        let faults = outcome.ClientFaults
        let terminal = SyscallRun.errorCount faults scenario.Plan.TerminalErrors

        [
            match result with
            | ConnectFailed e ->
                if terminal = 0 || not (SyscallRun.documented faults e) then
                    yield
                        $"the connect failed with {e.GetType().Name}: {e.Message}, with {terminal} terminal fault(s) injected"
            | Exchanged(echoed, errors) ->
                if not (SyscallRun.isPrefix echoed expected) then
                    yield "the echo is not a prefix of what was written"

                if terminal = 0 && not errors.IsEmpty then
                    yield
                        $"""no terminal fault, yet: {String.Join(" | ", errors |> List.map (fun e -> e.GetType().Name + ": " + e.Message))}"""

                if terminal = 0 && echoed <> expected then
                    yield $"no terminal fault, yet {echoed.Length} of {expected.Length} bytes echoed"

                if terminal > 0 && errors.IsEmpty then
                    yield $"{terminal} terminal fault(s) injected, and no read, drain or WaitClosedAsync threw"

                for e in errors do
                    if not (SyscallRun.documented faults e) then
                        yield $"undocumented {e.GetType().Name}: {e.Message}"
            yield! SyscallRun.hygiene outcome
        ]
        |> fun failures -> verdict failures scenario
        |> Prop.classify (terminal > 0) "a terminal fault fired"

    /// Transient faults under a server (its accepts, sends, receives and selector waits) are invisible to its clients:
    /// every client's echo comes back whole, nothing is reported, nothing is left open.
    let transientFaultsUnderAServerAreInvisible (scenario: SyscallScenario) (clients: int) : Property =
        let (results, servers), outcome =
            SyscallRun.run noFaults scenario.Plan (fun pair -> protocolExchange pair scenario.Writes clients)

        let expected = scenario.Expected

        [
            for result in results do
                match result with
                | Ok { Received = echoed; Error = null } when echoed = expected -> ()
                | other -> yield $"a client ended with %A{other}"
            if
                servers.Length <> clients
                || servers |> List.exists (fun s -> not (isNull s.Error))
            then
                yield $"the server's connections ended with %A{servers}"
            yield! SyscallRun.hygiene outcome
        ]
        |> fun failures -> verdict failures scenario
        |> Prop.classify (outcome.ServerFaults.FaultCount SyscallKind.Accept > 0) "accepts faulted"

    /// Faults under a server cost a client only through a connection error: each client ends, with a prefix of its echo;
    /// no more clients come short than connection errors were injected (failed accepts, even out of descriptors, cost
    /// none); the server reports only classified errors it was given.
    let serverFaultsCostAtMostOneClientEach (scenario: SyscallScenario) (clients: int) : Property =
        let (results, _), outcome =
            SyscallRun.run noFaults scenario.Plan (fun pair -> protocolExchange pair scenario.Writes clients)

        let expected = scenario.Expected

        let connectionErrors =
            SyscallRun.errorCount outcome.ServerFaults SyscallScenarios.serverConnectionErrors

        let short =
            results
            |> List.filter (fun result ->
                match result with
                | Ok { Received = echoed; Error = null } -> echoed <> expected
                | _ -> true)

        [
            for result in results do
                match result with
                | Ok { Received = echoed; Error = error } ->
                    if not (SyscallRun.isPrefix echoed expected) then
                        yield "an echo is not a prefix of what was written"

                    match error with
                    | null
                    | :? ConnectionResetException
                    | :? BrokenPipeException -> ()
                    | e -> yield $"a client was lost with {e.GetType().Name}: {e.Message}"
                | Error e -> yield $"a connect failed: {e.Message}"
            if short.Length > connectionErrors then
                yield $"{short.Length} client(s) came short with {connectionErrors} connection error(s) injected"
            yield! SyscallRun.hygiene outcome
        ]
        |> fun failures -> verdict failures scenario
        |> Prop.classify
            (SyscallRun.errorCount outcome.ServerFaults SyscallScenarios.serverAcceptErrors > 0)
            "accept errors"
        |> Prop.classify (connectionErrors > 0) "connection errors"

    /// A connect either succeeds and carries an echo, or fails with the documented exception of the error injected into
    /// its start or its outcome; exactly as many connects fail as errors were injected, and no socket is left open.
    let everyConnectSucceedsOrFailsAsDocumented (scenario: SyscallScenario) (connects: int) : Property =
        let expected = scenario.Expected

        let results, outcome =
            SyscallRun.run scenario.Plan noFaults (fun pair ->
                task {
                    let all = ResizeArray()

                    for _ in 1..connects do
                        let! result, _ = protocolExchange pair scenario.Writes 1
                        all.AddRange result

                    return List.ofSeq all
                })

        let faults = outcome.ClientFaults
        let terminal = SyscallRun.errorCount faults scenario.Plan.TerminalErrors
        let failed = results |> List.filter Result.isError

        [
            for result in results do
                match result with
                | Ok { Received = echoed; Error = null } when echoed = expected -> ()
                | Ok other -> yield $"a connected client ended with %A{other}"
                | Error e when SyscallRun.documented faults e -> ()
                | Error e -> yield $"a connect failed with undocumented {e.GetType().Name}: {e.Message}"
            if failed.Length <> terminal then
                yield $"{failed.Length} connect(s) failed with {terminal} error(s) injected"
            yield! SyscallRun.hygiene outcome
        ]
        |> fun failures -> verdict failures scenario
        |> Prop.classify (terminal > 0) "a connect failed"

    /// Datagrams under faults: each arrives whole, once, in order, unless its send failed, and then its sender's
    /// ErrorReceived says so; a failed receive is reported to its receiver and loses nothing.
    let datagramsArriveWholeOnceInOrderOrTheirSenderIsTold (scenario: FaultedDatagramScenario) : Property =
        let datagrams =
            scenario.Sizes
            |> List.mapi (fun i size -> Array.init size (fun j -> byte (i + j)) |> Array.append [| byte i |])

        let sendErrors = [ SocketError.NoBufferSpaceAvailable; SocketError.HostUnreachable ]

        let (received, senderErrors, receiverErrors), outcome =
            SyscallRun.run scenario.Plan noFaults (fun pair ->
                task {
                    let log = DatagramLog()
                    let receiver, receiverLost = log.Protocol(sender = false)
                    let sender, senderLost = log.Protocol(sender = true)

                    let! struct (receiving, _) =
                        pair.Client.CreateDatagramEndpointAsync(
                            Func<IDatagramProtocol>(fun () -> receiver),
                            IPEndPoint(IPAddress.Loopback, 0)
                        )

                    let address =
                        match receiving.GetExtraInfo "sockname" with
                        | :? EndPoint as bound -> bound
                        | other -> failwith $"unexpected datagram address {other}"

                    let! struct (sending, _) =
                        if scenario.Connected then
                            pair.Client.CreateDatagramEndpointAsync(
                                Func<IDatagramProtocol>(fun () -> sender),
                                remoteEndPoint = address
                            )
                        else
                            pair.Client.CreateDatagramEndpointAsync(
                                Func<IDatagramProtocol>(fun () -> sender),
                                IPEndPoint(IPAddress.Loopback, 0)
                            )

                    for datagram in datagrams do
                        if scenario.Connected then
                            sending.SendTo(ReadOnlySpan datagram)
                        else
                            sending.SendTo(ReadOnlySpan datagram, address)

                    // Every datagram has either arrived or been reported lost to its sender.
                    do! log.WaitUntil(fun () -> log.Datagrams.Count + log.SenderErrors.Count >= datagrams.Length)
                    sending.Close()
                    receiving.Close()
                    do! Task.WhenAll(senderLost, receiverLost)
                    return List.ofSeq log.Datagrams, List.ofSeq log.SenderErrors, List.ofSeq log.ReceiverErrors
                })

        let faults = outcome.ClientFaults
        let indices = received |> List.map (fun d -> int d[0])

        [
            if indices <> List.sort (List.distinct indices) then
                yield $"datagrams out of order or repeated: %A{indices}"
            for d in received do
                if d <> datagrams[int d[0]] then
                    yield $"datagram {d[0]} arrived changed ({d.Length} bytes)"
            if senderErrors.Length <> SyscallRun.errorCount faults sendErrors then
                yield
                    $"{senderErrors.Length} send error(s) reported for {SyscallRun.errorCount faults sendErrors} injected"
            if receiverErrors.Length <> faults.ErrorCount SocketError.ConnectionRefused then
                yield
                    $"{receiverErrors.Length} receive error(s) reported for {faults.ErrorCount SocketError.ConnectionRefused} injected"
            if received.Length + senderErrors.Length <> datagrams.Length then
                yield $"{received.Length} arrived and {senderErrors.Length} were reported lost of {datagrams.Length}"
            for e in senderErrors @ receiverErrors do
                if not (SyscallRun.documented faults e) then
                    yield $"undocumented {e.GetType().Name}: {e.Message}"
            yield! SyscallRun.hygiene outcome
        ]
        |> fun failures -> verdict failures scenario
        |> Prop.classify (not senderErrors.IsEmpty) "sends failed"
        |> Prop.classify (not receiverErrors.IsEmpty) "receives failed"

    /// Interrupted selector waits lose no timer: every timer fires, none before its time, in order of due time.
    let interruptedWaitsLoseNoTimer (scenario: TimerScenario) : Property =
        let fired, outcome =
            SyscallRun.run scenario.Plan noFaults (fun pair ->
                task {
                    let loop = pair.Client
                    let start = loop.Time
                    let fired = ResizeArray<int * TimeSpan>()
                    let all = TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)

                    for i, delay in List.indexed scenario.Delays do
                        loop.CallLater(
                            TimeSpan.FromMilliseconds(float delay),
                            fun () ->
                                fired.Add((i, loop.Time - start))

                                if fired.Count = scenario.Delays.Length then
                                    all.SetResult()
                        )
                        |> ignore

                    do! all.Task
                    return List.ofSeq fired
                })

        let due =
            scenario.Delays
            |> List.indexed
            |> List.sortBy (fun (i, d) -> d, i)
            |> List.map fst

        [
            if List.map fst fired <> due then
                yield $"timers fired in the order %A{List.map fst fired}, not %A{due}"
            for i, at in fired do
                if
                    at <
                        TimeSpan.FromMilliseconds(float scenario.Delays[i])
                        - TimeSpan.FromMilliseconds 1.0
                then
                    yield $"timer {i} fired at {at.TotalMilliseconds} ms, before its {scenario.Delays[i]} ms"
            yield! SyscallRun.hygiene outcome
        ]
        |> fun failures -> verdict failures scenario
        |> Prop.classify (outcome.ClientFaults.FaultCount SyscallKind.SelectorWait > 0) "waits interrupted"
