namespace AsyncNet.Properties

// The rig of the syscall-fault properties: a server loop on its own thread and a client loop on the caller's, each
// with a fault plan injected into the calls made on its thread, and everything a law needs afterwards (what reached
// each loop's exception handler, what each injection counted, the sockets left open).

open System
open System.Collections.Concurrent
open System.Collections.Generic
open System.IO
open System.Net
open System.Threading.Tasks
open AsyncNet.Errors
open AsyncNet.Loop
open AsyncNet.Testing.Syscalls
open AsyncNet.Transports

/// The two loops of a run and the injections on them.
type LoopPair =
    {
        /// Runs on the caller's thread; its calls get the client plan.
        Client: EventLoop
        /// Runs on a thread of its own; its calls get the server plan.
        Server: EventLoop
        ClientFaults: SyscallInjection
        ServerFaults: SyscallInjection
    }

/// What a run left behind, besides its result.
type RunOutcome =
    {
        ClientReports: LoopExceptionContext list
        ServerReports: LoopExceptionContext list
        ClientFaults: SyscallInjection
        ServerFaults: SyscallInjection
        /// Sockets either injection saw that are still open once both loops are done.
        OpenSockets: Sockets.Socket list
        /// Sockets open in the process beyond those open before the run (/proc/self/fd).
        Leaked: IReadOnlyDictionary<int, string>
    }

/// How one end of a stream connection ended: what it received, and the error it was lost with (null: a clean end).
type ConnectionEnd =
    {
        Received: byte array
        Error: exn | null
    }

/// A protocol-level echo: writes back what it receives (from inside DataReceived: the gathered path), closes after the
/// peer's EOF, and reports how it ended.
type internal EchoServerProtocol(ended: ConcurrentQueue<ConnectionEnd>) =
    let received = new MemoryStream()
    let mutable transport: IStreamTransport | null = null

    interface IProtocol with
        member _.ConnectionMade t = transport <- (t :?> IStreamTransport)

        member _.DataReceived data =
            received.Write data
            (nonNull transport).Write data

        member _.EofReceived() = false

        member _.ConnectionLost error =
            ended.Enqueue
                {
                    Received = received.ToArray()
                    Error = error
                }

/// A protocol-level client that keeps what it receives and completes `Lost` with its connection-lost error.
type internal CollectingClient() =
    let received = new MemoryStream()

    let lost =
        TaskCompletionSource<exn | null>(TaskCreationOptions.RunContinuationsAsynchronously)

    member _.Ended =
        task {
            let! error = lost.Task

            return
                {
                    Received = received.ToArray()
                    Error = error
                }
        }

    interface IProtocol with
        member _.ConnectionMade _ = ()
        member _.DataReceived data = received.Write data
        member _.EofReceived() = false
        member _.ConnectionLost error = lost.TrySetResult error |> ignore

/// What two datagram endpoints saw: the datagrams that arrived and the errors each was told of; a test can wait for a
/// condition on them, checked whenever something arrives.
type internal DatagramLog() =
    let datagrams = ResizeArray<byte array>()
    let senderErrors = ResizeArray<exn>()
    let receiverErrors = ResizeArray<exn>()
    let mutable waiter: ((unit -> bool) * TaskCompletionSource) option = None

    let check () =
        match waiter with
        | Some(condition, source) when condition () ->
            waiter <- None
            source.SetResult()
        | _ -> ()

    member _.Datagrams = datagrams
    member _.SenderErrors = senderErrors
    member _.ReceiverErrors = receiverErrors

    /// Completes once `condition` holds (checked now and after each datagram or error).
    member _.WaitUntil(condition: unit -> bool) : Task =
        let source =
            TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)

        waiter <- Some(condition, source)
        check ()
        source.Task

    /// The protocol of one endpoint: the sender's errors and the receiver's datagrams and errors go to this log.
    member this.Protocol(sender: bool) : IDatagramProtocol * Task =
        let lost = TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)

        { new IDatagramProtocol with
            member _.ConnectionMade _ = ()
            member _.ConnectionLost _ = lost.TrySetResult() |> ignore

            member _.DatagramReceived(data, _) =
                datagrams.Add(data.ToArray())
                check ()

            member _.ErrorReceived error =
                (if sender then senderErrors else receiverErrors).Add error
                check ()

            member _.PauseWriting() = ()
            member _.ResumeWriting() = ()
        },
        lost.Task

[<RequireQualifiedAccess>]
module internal SyscallRun =

    /// A stuck run is stopped after this long and fails instead of hanging the suite.
    let within = TimeSpan.FromSeconds 20.0

    /// How long sockets closed by finalizers or late callbacks get before the process count says "leak".
    let private settle = TimeSpan.FromSeconds 2.0

    let private collect (loop: EventLoop) =
        let reports = ConcurrentQueue<LoopExceptionContext>()
        loop.ExceptionHandler <- Action<EventLoop, LoopExceptionContext>(fun _ context -> reports.Enqueue context)
        reports

    /// Runs `work` on a fresh client loop (on this thread) beside a fresh server loop (on its own), with `clientPlan`
    /// injected into the client loop's calls and `serverPlan` into the server loop's; closes both, then looks for leaks.
    let run (clientPlan: FaultPlan) (serverPlan: FaultPlan) (work: LoopPair -> Task<'T>) : 'T * RunOutcome =
        let before = SocketDescriptors.Open()
        let server = EventLoop.StartOnNewThread(threadName = "syscall-fault server")
        let serverReports = collect server
        let client = new EventLoop()
        let clientReports = collect client
        let clientFaults = SyscallFaults.Inject(client, clientPlan.Schedule)
        let serverFaults = SyscallFaults.Inject(server, serverPlan.Schedule)

        let result =
            try
                let guard = client.CallLater(within, Action client.Stop)

                let pair =
                    {
                        Client = client
                        Server = server
                        ClientFaults = clientFaults
                        ServerFaults = serverFaults
                    }

                let result =
                    client.RunUntilComplete(client.CreateTask(Func<Task<'T>>(fun () -> work pair)))

                guard.Cancel()
                result
            finally
                clientFaults.Dispose()
                serverFaults.Dispose()
                server.DisposeAsync().AsTask().Wait within |> ignore
                client.Close()

        result,
        {
            ClientReports = List.ofSeq clientReports
            ServerReports = List.ofSeq serverReports
            ClientFaults = clientFaults
            ServerFaults = serverFaults
            OpenSockets =
                List.ofSeq (clientFaults.OpenSockets())
                @ List.ofSeq (serverFaults.OpenSockets())
            Leaked = SocketDescriptors.LeakedSince(before, settle)
        }

    /// The port a server on 127.0.0.1 listens on.
    let port (listener: Sockets.Socket) =
        match listener.LocalEndPoint with
        | :? IPEndPoint as endPoint -> endPoint.Port
        | other -> failwith $"unexpected server address {other}"

    /// Whether `error` is what AsyncNet documents for an error `faults` injected: the exception SocketErrors.Classify
    /// makes of it (ConnectionResetException for ECONNRESET, BrokenPipeException for EPIPE, ...), or a stream's
    /// "connection lost" ConnectionResetException around one.
    let rec documented (faults: SyscallInjection) (error: exn) =
        match error with
        | :? NetworkException as e when faults.ErrorCount e.SocketError > 0 ->
            e.GetType() = SocketErrors.Classify(e.SocketError, "-", null).GetType()
        | :? ConnectionResetException as e ->
            match e.InnerException with
            | null -> false
            | inner -> documented faults inner
        | _ -> false

    /// How many calls `faults` failed with one of `errors`.
    let errorCount (faults: SyscallInjection) (errors: Sockets.SocketError list) =
        errors |> List.sumBy faults.ErrorCount

    /// Whether `part` is a prefix of `whole`.
    let isPrefix (part: byte array) (whole: byte array) =
        part.Length <= whole.Length
        && ReadOnlySpan(whole, 0, part.Length).SequenceEqual(ReadOnlySpan part)

    /// The checks every run must pass whatever its faults: each report in a loop's handler carries an error that loop's
    /// injection made (a classified NetworkException: an accept pause, ENOBUFS on a stream), no socket either injection
    /// saw is open, and the process has no more sockets than before. Returns the failed checks.
    let hygiene (outcome: RunOutcome) : string list =
        let reportsOk (faults: SyscallInjection) (reports: LoopExceptionContext list) =
            reports
            |> List.forall (fun r ->
                match r.Exception with
                | :? NetworkException as e -> faults.ErrorCount e.SocketError > 0
                | _ -> false)

        [
            if not (reportsOk outcome.ClientFaults outcome.ClientReports) then
                yield $"""unexpected reports on the client loop: {String.Join(" | ", outcome.ClientReports)}"""
            if not (reportsOk outcome.ServerFaults outcome.ServerReports) then
                yield $"""unexpected reports on the server loop: {String.Join(" | ", outcome.ServerReports)}"""
            if not outcome.OpenSockets.IsEmpty then
                yield $"{outcome.OpenSockets.Length} socket(s) still open"
            if outcome.Leaked.Count > 0 then
                yield $"""{outcome.Leaked.Count} socket descriptor(s) leaked: {String.Join(", ", outcome.Leaked)}"""
        ]
