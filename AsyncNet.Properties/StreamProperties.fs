namespace AsyncNet.Properties

// Laws of AsyncNet.Streams' StreamReader and StreamWriter (issue 4), checked against a simple list model of the stream
// over an in-memory transport whose every segment and every partial send is scripted, and over real loopback sockets
// with a tiny send buffer.

open System
open System.Net
open System.Threading
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Streams
open AsyncNet.Testing
open AsyncNet.Transports

/// What a read returned or threw, as the model and the real reader are compared.
[<RequireQualifiedAccess>]
type ReadResult =
    | Data of bytes: byte array
    | Incomplete of partial: byte array * expected: int option
    | Overrun of consumed: int64
    | Cancelled
    | Failed of error: string

/// The list model of a reader: the whole stream as one array and a position in it. asyncio's rules (as the reader's
/// docs state them), stated over the bytes that will ever arrive, so the chunking cannot matter; where the real reader's
/// answer depends on how much had arrived (how many bytes a `Read` returns, how far a limit overrun looked), the model
/// gives the range of right answers.
[<RequireQualifiedAccess>]
module StreamModel =

    let private newline = [| byte '\n' |]

    /// The first index at or after `start` where `separator` occurs in `data`, or -1.
    let indexOf (data: byte array) (start: int) (separator: byte array) : int =
        let last = data.Length - separator.Length
        let mutable i = start
        let mutable found = -1

        while found < 0 && i <= last do
            if Array.sub data i separator.Length = separator then found <- i
            i <- i + 1

        found

    /// What a waiting call needs buffered in all: the bound the reader's flow control must respect.
    let need (limit: int) (op: ReadOp) : int64 =
        match op with
        | ReadOp.Read _
        | ReadOp.ReadInto _ -> 1L
        | ReadOp.ReadExactly n -> int64 n
        | ReadOp.ReadUntil separator -> int64 limit + int64 separator.Length
        | ReadOp.ReadLine -> int64 limit + 1L

    /// Checks each actual result against the model in turn; returns the bytes the model says are still unread, or
    /// the first disagreement.
    let check (limit: int) (stream: byte array) (ops: ReadOp list) (actual: ReadResult list) : Result<byte array, string> =
        let mutable pos = 0
        let mutable discarding = false
        let mutable error = None
        let rest () = stream[pos..]
        let fail (op: ReadOp) (result: ReadResult) why =
            error <- Some $"%A{op} at offset {pos} gave %A{result}: {why}"

        let skipDiscarded () =
            if discarding then
                let i = indexOf stream pos newline
                pos <- if i >= 0 then i + 1 else stream.Length
                discarding <- false

        for op, result in List.zip ops actual do
            if error.IsNone then
                match result with
                | ReadResult.Cancelled -> ()
                | ReadResult.Failed why -> fail op result why
                | _ ->
                    skipDiscarded ()
                    let remaining = stream.Length - pos

                    match op, result with
                    | (ReadOp.Read _ | ReadOp.ReadInto _), ReadResult.Data b when remaining = 0 ->
                        if b.Length <> 0 then fail op result "expected EOF (empty)"
                    | (ReadOp.Read n | ReadOp.ReadInto n), ReadResult.Data b ->
                        if b.Length < 1 || b.Length > n || b <> stream[pos .. pos + b.Length - 1] then
                            fail op result "expected 1 to n bytes from the front"
                        else
                            pos <- pos + b.Length
                    | ReadOp.ReadExactly n, ReadResult.Data b ->
                        if remaining < n || b <> stream[pos .. pos + n - 1] then
                            fail op result "expected exactly the next n bytes"
                        else
                            pos <- pos + n
                    | ReadOp.ReadExactly n, ReadResult.Incomplete(partial, expected) ->
                        if remaining >= n || expected <> Some n || partial <> rest () then
                            fail op result "expected IncompleteRead only when fewer remain, with all of them"
                        else
                            pos <- stream.Length
                    | ReadOp.ReadUntil separator, ReadResult.Data b ->
                        let i = indexOf stream pos separator

                        if i < 0 || i - pos > limit || b <> stream[pos .. i + separator.Length - 1] then
                            fail op result "expected the bytes through the first separator, within the limit"
                        else
                            pos <- i + separator.Length
                    | ReadOp.ReadUntil separator, ReadResult.Overrun consumed ->
                        // Kept: the position does not move. Consumed lies past the limit, before any separator.
                        let i = indexOf stream pos separator
                        let most = if i >= 0 then int64 (i - pos) else int64 (remaining + 1 - separator.Length)

                        if consumed <= int64 limit || consumed > most then
                            fail op result $"expected LimitOverrun with consumed in ({limit}, {most}]"
                    | ReadOp.ReadUntil separator, ReadResult.Incomplete(partial, expected) ->
                        if indexOf stream pos separator >= 0
                           || remaining + 1 - separator.Length > limit
                           || expected.IsSome
                           || partial <> rest () then
                            fail op result "expected IncompleteRead only at EOF without a separator, with the whole rest"
                        else
                            pos <- stream.Length
                    | ReadOp.ReadLine, ReadResult.Data b ->
                        let i = indexOf stream pos newline

                        if i >= 0 then
                            if i - pos > limit || b <> stream[pos..i] then
                                fail op result "expected the line through its newline"
                            else
                                pos <- i + 1
                        elif remaining > limit || b <> rest () then
                            fail op result "expected the partial last line"
                        else
                            pos <- stream.Length
                    | ReadOp.ReadLine, ReadResult.Overrun consumed ->
                        // The line is discarded: at once through its newline, or what had arrived and the rest later.
                        let i = indexOf stream pos newline
                        let lineLength = if i >= 0 then i - pos else remaining

                        if i >= 0 && consumed = int64 (lineLength + 1) && lineLength > limit then
                            pos <- i + 1
                        elif consumed > int64 limit && consumed <= int64 lineLength then
                            pos <- pos + int consumed
                            discarding <- true
                        else
                            fail op result $"expected LimitOverrun discarding a line of {lineLength} bytes"
                    | _ -> fail op result "not a possible outcome of this call"

        match error with
        | Some why -> Result.Error why
        | None ->
            skipDiscarded ()
            Result.Ok(rest ())

/// What one run of a read scenario produced.
type ReadRun =
    { Results: ReadResult list
      /// What `ReadToEndAsync` returned after the last step.
      Rest: byte array
      /// Deliveries made while unread bytes exceeded max(limit, what the waiting call needs).
      FlowViolations: string list
      /// The most unread bytes seen right after a delivery.
      MaxUnread: int64
      /// How many deliveries went straight into a waiting `ReadInto`'s buffer.
      DirectReceives: int64 }

/// Laws of StreamReader and StreamWriter.
[<RequireQualifiedAccess>]
module StreamProperties =

    let private deliver (transport: ScriptedTransport) (chunk: byte array) (offset: int) =
        transport.Deliver(ReadOnlySpan(chunk, offset, chunk.Length - offset))

    let private write (writer: StreamWriter) (bytes: byte array) = writer.Write(ReadOnlySpan bytes)

    /// Runs `work` on `loop` until it completes; a stuck run stops after `seconds` and fails instead of hanging.
    let internal runWithin (seconds: float) (loop: EventLoop) (work: unit -> Task<'T>) : 'T =
        let guard = loop.CallLater(TimeSpan.FromSeconds seconds, Action loop.Stop)
        let result = loop.RunUntilComplete(loop.CreateTask(Func<Task<'T>> work))
        guard.Cancel()
        result

    /// In-memory runs take milliseconds: 10 s means stuck.
    let internal runBounded loop work = runWithin 10.0 loop work

    /// Makes one call on `reader`, turning its outcome into a `ReadResult`.
    let private call (loop: EventLoop) (reader: StreamReader) (step: ReadStep) : Task<ReadResult> =
        // Not disposed: a cancellation scheduled for later may still fire after the call finished.
        let cts = new CancellationTokenSource()

        let rec cancelAfter iterations (fromPool: bool) () =
            if iterations > 0 then
                loop.CallSoonThreadSafe(Action(cancelAfter (iterations - 1) fromPool)) |> ignore
            elif fromPool then
                Task.Run(fun () -> cts.Cancel()) |> ignore
            else
                cts.Cancel()

        match step.Cancel with
        | Cancellation.Never -> ()
        | Cancellation.Before -> cts.Cancel()
        | Cancellation.AfterIterations k -> loop.CallSoonThreadSafe(Action(cancelAfter k false)) |> ignore
        | Cancellation.FromThreadPool k -> loop.CallSoonThreadSafe(Action(cancelAfter k true)) |> ignore

        // A read that is never cancelled gets no cancellable token, as most callers pass none.
        let token = if step.Cancel = Cancellation.Never then CancellationToken.None else cts.Token

        task {
            try
                match step.Op with
                | ReadOp.Read n ->
                    let! bytes = reader.ReadAsync(n, token)
                    return ReadResult.Data bytes
                | ReadOp.ReadInto length ->
                    let buffer = Array.zeroCreate<byte> length
                    let! n = reader.ReadAsync(Memory buffer, token)
                    return ReadResult.Data buffer[.. n - 1]
                | ReadOp.ReadExactly n ->
                    let! bytes = reader.ReadExactlyAsync(n, token)
                    return ReadResult.Data bytes
                | ReadOp.ReadUntil separator ->
                    let! bytes = reader.ReadUntilAsync(ReadOnlyMemory separator, token)
                    return ReadResult.Data bytes
                | ReadOp.ReadLine ->
                    let! bytes = reader.ReadLineAsync(token)
                    return ReadResult.Data bytes
            with
            | :? IncompleteReadException as e -> return ReadResult.Incomplete(e.Partial, Option.ofNullable e.Expected)
            | :? LimitOverrunException as e -> return ReadResult.Overrun e.Consumed
            | :? OperationCanceledException -> return ReadResult.Cancelled
            | e -> return ReadResult.Failed(e.ToString())
        }

    /// Runs `scenario` on a fresh loop over a scripted transport: one segment of the chunking is delivered per loop
    /// iteration while the transport reads; the reader makes its calls on the loop thread (`onLoop`) or on the
    /// thread pool, pausing as scheduled, then reads to the end.
    let runReads (scenario: ReadScenario) (onLoop: bool) : ReadRun =
        use loop = new EventLoop()
        let protocol = StreamProtocol(loop, StreamOptions(Limit = scenario.Limit, CompactSegments = scenario.CompactSegments))
        let transport = ScriptedTransport(loop, protocol, StreamGen.readIntoDirectLength)
        let reader = protocol.Reader
        let violations = ResizeArray<string>()
        let currentNeed = ref 0L
        let maxUnread = ref 0L
        let limit = int64 scenario.Limit

        // A consumer on the pool learns of a pause a moment late: allow it the segment in flight.
        let slack = if onLoop then 0L else int64 (List.fold max 0 scenario.Chunking.Cuts)

        let consume () : Task<ReadResult list * byte array> =
            task {
                let results = ResizeArray<ReadResult>()

                for step in scenario.Steps do
                    for _ in 1 .. step.PauseBefore do
                        if onLoop then do! loop.SleepAsync TimeSpan.Zero else do! Task.Delay 1

                    Volatile.Write(&currentNeed.contents, StreamModel.need scenario.Limit step.Op)
                    let! result = call loop reader step
                    Volatile.Write(&currentNeed.contents, 0L)
                    results.Add result

                Volatile.Write(&currentNeed.contents, Int64.MaxValue)
                let! rest = reader.ReadToEndAsync()
                return List.ofSeq results, rest
            }

        let produce () : Task =
            task {
                for chunk in Generators.split scenario.Chunking scenario.Stream do
                    let mutable offset = 0

                    while offset < chunk.Length do
                        if transport.IsReading then
                            let unread = reader.BufferedBytes
                            let need = Volatile.Read(&currentNeed.contents)

                            if unread > max limit need + slack then
                                violations.Add $"read while {unread} bytes were unread (limit {limit}, need {need})"

                            offset <- offset + deliver transport chunk offset
                            maxUnread.Value <- max maxUnread.Value reader.BufferedBytes

                        do! loop.SleepAsync TimeSpan.Zero

                transport.DeliverEof()
            }

        let work () : Task<ReadRun> =
            task {
                transport.Start()
                let consumer = if onLoop then consume () else Task.Run<ReadResult list * byte array>(consume)
                do! produce ()
                let! results, rest = consumer

                return
                    { Results = results
                      Rest = rest
                      FlowViolations = List.ofSeq violations
                      MaxUnread = maxUnread.Value
                      DirectReceives = reader.DirectReceives }
            }

        runBounded loop work

    /// The law: for any stream, any chunking (separators split across segments included), any reader pauses and any
    /// calls, every Read* call agrees with the list model, and reading to the end returns exactly what the model says
    /// is left: no byte lost, duplicated or reordered.
    let readsMatchModel (onLoop: bool) (scenario: ReadScenario) : Property =
        let run = runReads scenario onLoop
        let ops = scenario.Steps |> List.map (fun s -> s.Op)

        match StreamModel.check scenario.Limit scenario.Stream ops run.Results with
        | Result.Error why -> false |> Prop.label why
        | Result.Ok rest ->
            (run.Rest = rest)
            |> Prop.label $"reading to the end gave {run.Rest.Length} bytes; the model has {rest.Length} left"
            |> Prop.classify (run.Results |> List.exists (fun r -> r.IsOverrun)) "limit overrun"
            |> Prop.classify (run.Results |> List.exists (fun r -> r.IsIncomplete)) "incomplete read"
            |> Prop.classify (not scenario.CompactSegments) "segments kept apart"
            |> Prop.classify (run.DirectReceives > 0L) "received straight into a read's buffer"

    /// The law: reading is never done while the unread bytes exceed max(limit, what the waiting call needs), so they
    /// never exceed that plus one segment; and reading always resumes when a call needs more (the run finishes).
    let unreadStaysWithinLimitPlusOneSegment (scenario: ReadScenario) : Property =
        let run = runReads scenario true
        let largest = List.fold max 0 scenario.Chunking.Cuts

        List.isEmpty run.FlowViolations
        |> Prop.label (String.Join("; ", run.FlowViolations))
        |> Prop.classify (run.MaxUnread > int64 scenario.Limit) "went past the limit (a call needed more)"
        |> Prop.classify (largest > scenario.Limit) "segments larger than the limit"

    /// The law: a cancelled call consumes nothing, wherever the cancellation lands (before the call, while it waits,
    /// from the loop or another thread): the results agree with the model where cancelled calls do nothing, and the
    /// rest of the stream is intact.
    let cancellationLosesNoBytes (scenario: ReadScenario) : Property =
        let run = runReads scenario true
        let ops = scenario.Steps |> List.map (fun s -> s.Op)
        let cancelled = run.Results |> List.filter (fun r -> r.IsCancelled) |> List.length

        match StreamModel.check scenario.Limit scenario.Stream ops run.Results with
        | Result.Error why -> false |> Prop.label why
        | Result.Ok rest ->
            (run.Rest = rest)
            |> Prop.label $"after {cancelled} cancelled calls, reading to the end gave {run.Rest.Length} bytes; the model has {rest.Length} left"
            |> Prop.classify (cancelled > 0) "some calls cancelled"

    /// Runs a partial-write scenario over a scripted transport: the writer writes (draining where told), then sends
    /// EOF; the kernel takes what the schedule says each time the loop offers the queue. Returns what was sent.
    let sendOverScriptedTransport (scenario: PartialWriteScenario) : byte array =
        use loop = new EventLoop()
        let protocol = StreamProtocol(loop)
        let transport = ScriptedTransport(loop, protocol)

        for amount in scenario.Sends do
            transport.SendSchedule.Enqueue amount

        let writeAll (writer: StreamWriter) () : Task =
            task {
                for bytes, drain in List.zip scenario.Writes scenario.DrainAfter do
                    write writer bytes

                    if drain then
                        do! writer.DrainAsync()

                writer.WriteEof()
            }

        let work () : Task<byte array> =
            task {
                transport.Start()
                transport.SetWriteBufferLimits(scenario.High, scenario.Low)
                let writer = protocol.Writer
                let writing = if scenario.FromThreadPool then Task.Run(writeAll writer) else writeAll writer ()

                // The socket turns writable once per loop iteration until the writer is done and EOF went out.
                while not (writing.IsCompleted && transport.EofSent) do
                    transport.Pump() |> ignore
                    do! loop.SleepAsync TimeSpan.Zero

                do! writing
                return transport.Sent
            }

        runBounded loop work

    /// The law: for any writes and any schedule of partial sends, the bytes sent are exactly the writes concatenated.
    let partialWritesLoseNothing (scenario: PartialWriteScenario) : Property =
        let expected = scenario.Expected
        let sent = sendOverScriptedTransport scenario

        (sent = expected)
        |> Prop.label $"wrote {expected.Length} bytes, sent {sent.Length}"
        |> Prop.classify scenario.FromThreadPool "writer on the thread pool"
        |> Prop.classify (scenario.Sends |> List.exists ((=) 0)) "kernel would block"

    /// The law, on a transport that sends only when told: after every step, each drain started so far has completed
    /// exactly when the write buffer has been at or below the low mark at some moment since it started (at once, and
    /// synchronously, if it already was).
    let drainCompletesIffAtOrBelowLowMark (high: int, low: int, commands: DrainCommand list) : Property =
        use loop = new EventLoop()
        let protocol = StreamProtocol(loop)
        let transport = ScriptedTransport(loop, protocol)

        let work () : Task<string list> =
            task {
                transport.Start()
                transport.SetWriteBufferLimits(high, low)
                let writer = protocol.Writer
                let drains = ResizeArray<Task * bool ref>()
                let errors = ResizeArray<string>()

                let checkAll step =
                    for drain, reached in drains do
                        reached.Value <- reached.Value || transport.WriteBufferSize <= low

                        if drain.IsCompleted <> reached.Value then
                            let saw = if reached.Value then "saw" else "never saw"
                            let state = if drain.IsCompleted then "complete" else "pending"
                            errors.Add $"after %A{step}: buffer {transport.WriteBufferSize}, low {low}; a drain that {saw} the low mark is {state}"

                for command in commands do
                    transport.SendSchedule.Clear()

                    match command with
                    | DrainCommand.Write n ->
                        transport.SendSchedule.Enqueue 0
                        write writer (Array.zeroCreate n)
                    | DrainCommand.Send n ->
                        transport.SendSchedule.Enqueue n
                        transport.Pump() |> ignore
                    | DrainCommand.Drain ->
                        let drain = writer.DrainAsync().AsTask()
                        drains.Add((drain, ref false))

                    checkAll command

                // While a drain waits the writer arms the low mark (high reads low); with none waiting the user's mark is back.
                if drains |> Seq.forall (fun (drain, _) -> drain.IsCompleted) && transport.WriteBufferHighWaterMark <> high then
                    errors.Add $"the high mark reads {transport.WriteBufferHighWaterMark} with no drain waiting, not {high}"

                return List.ofSeq errors
            }

        let errors = runBounded loop work

        List.isEmpty errors
        |> Prop.label (String.Join("; ", errors))
        |> Prop.classify (commands |> List.contains DrainCommand.Drain) "with drains"

    /// Writes `scenario` from a client to a server over real loopback TCP, the client's kernel send buffer tiny (so most
    /// writes are taken in part) and the server's reader limit small (so it pauses reading); the server reads with
    /// reads of varied sizes and pauses. Returns what the server received.
    let sendOverLoopback (scenario: PartialWriteScenario) (readSizes: int list) : byte array =
        use loop = new EventLoop()
        let received = TaskCompletionSource<byte array>()
        let sizes = if readSizes.IsEmpty then [ 4096 ] else readSizes

        let handler (reader: StreamReader) (_: StreamWriter) : Task =
            task {
                let all = new IO.MemoryStream()
                let mutable i = 0
                let mutable ended = false

                while not ended do
                    let! bytes = reader.ReadAsync(sizes[i % sizes.Length])
                    i <- i + 1

                    if bytes.Length = 0 then
                        ended <- true
                    else
                        all.Write(bytes, 0, bytes.Length)

                        if i % 7 = 0 then
                            do! loop.SleepAsync(TimeSpan.FromMilliseconds 1.0)

                received.SetResult(all.ToArray())
            }

        let work () : Task<byte array> =
            task {
                let! server =
                    loop.StartServerAsync(
                        Func<StreamReader, StreamWriter, Task>(handler),
                        "127.0.0.1",
                        0,
                        StreamOptions(Limit = 2048)
                    )

                let port =
                    match server.Sockets[0].LocalEndPoint with
                    | :? IPEndPoint as endPoint -> endPoint.Port
                    | other -> failwith $"unexpected server address {other}"

                let options =
                    ConnectionOptions(SendBufferSize = Nullable 4096, WriteBufferHighWaterMark = Nullable(max 1 scenario.High))

                let! struct (_, writer) = loop.OpenConnectionAsync("127.0.0.1", port, connectionOptions = options)

                let writeAll () : Task =
                    task {
                        for bytes, drain in List.zip scenario.Writes scenario.DrainAfter do
                            write writer bytes

                            if drain then
                                do! writer.DrainAsync()

                        do! writer.DrainAsync()
                        writer.WriteEof()
                    }

                do! (if scenario.FromThreadPool then Task.Run(writeAll) else writeAll ())
                let! bytes = received.Task
                writer.Close()
                do! server.ShutdownAsync()
                return bytes
            }

        runWithin 30.0 loop work

    /// The law, over real sockets: for any writes (taken in part by a tiny kernel buffer) and any reader with a small
    /// limit, the server receives exactly the concatenation.
    let loopbackDeliversConcatenation (scenario: PartialWriteScenario) (readSizes: int list) : Property =
        let expected = scenario.Expected
        let got = sendOverLoopback scenario readSizes

        (got = expected)
        |> Prop.label $"wrote {expected.Length} bytes, the server read {got.Length}"
        |> Prop.classify (expected.Length > 64 * 1024) "beyond the high-water mark"
