namespace AsyncNet.Properties

// Fuzzing an echo server over a real connection (`asyncnet fuzz`): FsCheck generates messages of any wire format (a
// WireFormat: length-field frames, lines, the user's own), their bytes go out cut into writes of random sizes with
// random pauses, and the echo must be exactly the bytes sent. A failing case is shrunk greedily (fewer messages, smaller
// ones, one write, no pauses) to the smallest case that still fails, so the report names the bug's trigger and not a
// random 2 KiB blob; the smallest case is also given as the writes it sent, which replay sends again byte for byte.
//
// The client is a plain blocking .NET Socket on its own thread, deliberately independent of AsyncNet's loop: the
// fuzzer must not share the bugs of the code it checks.

open System
open System.Diagnostics
open System.Net
open System.Net.Sockets
open System.Threading
open FsCheck
open FsCheck.FSharp
open AsyncNet.Streams.Framing.Codec

/// One fuzz case: messages, the sizes of the writes their bytes go out in (used in turn, cycling; the last write takes
/// what is left), and the pauses after each write in milliseconds (cycling; none when empty).
type EchoFuzzCase<'T> =
    {
        Messages: 'T list
        Writes: int list
        PausesMs: int list
    }

/// One write of a case as it goes out: the bytes, then a pause in milliseconds (0 for none).
type EchoFuzzWrite = { Bytes: byte array; PauseMs: int }

/// Where to fuzz and how much.
type EchoFuzzOptions =
    {
        /// The echo server (TCP or a Unix socket).
        EndPoint: EndPoint
        /// At most this many cases (each on a new connection).
        MaxCases: int
        /// Stop starting new cases after this long (a case in flight and its shrinking finish).
        TimeBudget: TimeSpan
        /// The seed, so a run can be repeated exactly.
        Seed: uint64
        /// How long one case may wait for its echo before it counts as failed.
        CaseTimeout: TimeSpan
    }

/// A failing case after shrinking.
type EchoFuzzFailure<'T> =
    {
        /// The case as first generated.
        Original: EchoFuzzCase<'T>
        /// The smallest case found that still fails.
        Smallest: EchoFuzzCase<'T>
        /// The smallest case as it was sent, write by write: what EchoFuzz.replay sends again.
        Writes: EchoFuzzWrite list
        /// Why the smallest case fails.
        Reason: string
        /// How many smaller failing cases shrinking stepped through.
        Shrinks: int
    }

/// What a fuzz run did.
type EchoFuzzReport<'T> =
    {
        /// How many cases ran (the failing one included).
        Cases: int
        /// Messages echoed intact.
        MessagesVerified: int64
        /// Bytes echoed intact.
        BytesVerified: int64
        Elapsed: TimeSpan
        Failure: EchoFuzzFailure<'T> option
    }

/// Fuzzes an echo server with the messages of a wire format; see the file's comment.
[<RequireQualifiedAccess>]
module EchoFuzz =

    /// Options with 500 cases, 30 s, a 5 s case timeout and a random seed.
    let defaults (endPoint: EndPoint) : EchoFuzzOptions =
        {
            EndPoint = endPoint
            MaxCases = 500
            TimeBudget = TimeSpan.FromSeconds 30.0
            Seed = uint64 (Random.Shared.NextInt64())
            CaseTimeout = TimeSpan.FromSeconds 5.0
        }

    /// The frames of a length-field format (FrameWire.format), at most `maxFrames` to a case. Any format works, one
    /// that strips header bytes too: the echo is compared byte for byte, not decoded.
    let frames (format: LengthFieldFormat) (maxFrames: int) : WireFormat<FrameSpec> =
        let wire = FrameWire.format format
        wire.MaxMessages <- maxFrames
        wire

    /// Cases of a format: 1 to MaxMessages messages, writes mostly tiny, sometimes large, pauses mostly none.
    let cases (format: WireFormat<'T>) : Gen<EchoFuzzCase<'T>> =
        gen {
            let! count = Gen.choose (1, max 1 format.MaxMessages)
            let! messages = Gen.listOfLength count format.Messages

            let! writes =
                Gen.nonEmptyListOf (Gen.frequency [ 4, Gen.choose (1, 8); 2, Gen.choose (1, 512); 1, Gen.constant 1 ])

            let! pauses = Gen.listOf (Gen.frequency [ 6, Gen.constant 0; 1, Gen.choose (1, 3) ])

            return
                {
                    Messages = messages
                    Writes = writes
                    PausesMs = pauses
                }
        }

    /// Smaller cases, most promising first: without a message, with a message shrunk (the format's ShrinkMessage), in
    /// one write, without pauses. A case keeps at least one message.
    let shrink (format: WireFormat<'T>) (case: EchoFuzzCase<'T>) : EchoFuzzCase<'T> seq =
        let shrinkMessage =
            match format.ShrinkMessage with
            | null -> fun _ -> Seq.empty
            | f -> fun m -> f.Invoke m

        seq {
            for messages in WireGen.shrinkList shrinkMessage case.Messages do
                if not messages.IsEmpty then
                    yield { case with Messages = messages }

            if case.Writes <> [ Int32.MaxValue ] then
                yield
                    { case with
                        Writes = [ Int32.MaxValue ]
                    }

            if not case.PausesMs.IsEmpty then
                yield { case with PausesMs = [] }
        }

    /// The case's bytes as they go out: cut by its write sizes, each write with its pause.
    let writes (format: WireFormat<'T>) (case: EchoFuzzCase<'T>) : EchoFuzzWrite list =
        let wire = WireRun.encodeAll format case.Messages
        let sizes = List.toArray case.Writes
        let pauses = List.toArray case.PausesMs

        let out = ResizeArray<EchoFuzzWrite>()
        let mutable offset = 0
        let mutable i = 0

        while offset < wire.Length do
            let size = min (wire.Length - offset) sizes[i % sizes.Length]
            let pause = if pauses.Length > 0 then pauses[i % pauses.Length] else 0

            out.Add
                {
                    Bytes = Array.sub wire offset size
                    PauseMs = pause
                }

            offset <- offset + size
            i <- i + 1

        List.ofSeq out

    /// A short description: the messages as the format shows them (long ones cut), the write sizes and the pauses.
    let describe (format: WireFormat<'T>) (case: EchoFuzzCase<'T>) : string =
        let show (m: 'T) =
            let text = format.Show.Invoke m
            let size = (format.Encode.Invoke m).Length
            let text = if text.Length > 60 then text[..56] + "..." else text
            $"{text} ({size} B)"

        let ints (xs: int list) =
            xs |> List.map string |> String.concat ", "

        let messages = case.Messages |> List.map show |> String.concat "; "
        $"{case.Messages.Length} message(s) [{messages}], writes of [{ints case.Writes}] bytes, pauses [{ints case.PausesMs}] ms"

    let private sendAll (socket: Socket) (writes: EchoFuzzWrite list) =
        for write in writes do
            socket.Send(write.Bytes) |> ignore

            if write.PauseMs > 0 then
                Thread.Sleep write.PauseMs

        socket.Shutdown SocketShutdown.Send

    /// Reads until the peer closes, `expected` bytes are exceeded, or the deadline passes.
    let private receiveEcho (socket: Socket) (expected: int) (timeout: TimeSpan) : byte array * string option =
        let buffer = Array.zeroCreate (expected + 4096)
        let mutable received = 0
        let mutable problem = None
        let mutable fin = false
        let clock = Stopwatch.StartNew()

        while not fin && problem.IsNone do
            let left = timeout - clock.Elapsed

            if left <= TimeSpan.Zero then
                problem <-
                    Some $"timed out after {timeout.TotalSeconds:F1} s with {received} of {expected} echoed bytes"
            elif socket.Poll(int (min left.TotalMicroseconds 100_000.0), SelectMode.SelectRead) then
                try
                    let n = socket.Receive(Span(buffer, received, buffer.Length - received))

                    if n = 0 then
                        fin <- true
                    else
                        received <- received + n

                        if received > expected then
                            problem <- Some $"the server echoed more than the {expected} bytes sent"
                with :? SocketException as e ->
                    problem <-
                        Some
                            $"the connection failed after {received} of {expected} echoed bytes: {e.SocketErrorCode} ({e.Message})"

        buffer[.. received - 1], problem

    /// Sends the writes on a new connection, half-closes, and checks that the echo is exactly the bytes sent.
    /// `locate` names where a byte offset of the stream falls (a message and a byte of it), or "" to say nothing.
    let private exchange
        (options: EchoFuzzOptions)
        (writes: EchoFuzzWrite list)
        (locate: int -> string)
        : string option =
        let sent = writes |> List.map _.Bytes |> Array.concat

        use socket =
            new Socket(options.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Unspecified)

        try
            socket.Connect options.EndPoint

            if options.EndPoint.AddressFamily <> AddressFamily.Unix then
                socket.NoDelay <- true

            // Send on another thread so a server that echoes while it reads never deadlocks against our reading. A
            // thread of its own, not the thread pool: a starved pool (a busy test host) would delay the send past the
            // case timeout and report the server for it.
            let sender =
                Thread(
                    (fun () ->
                        try
                            sendAll socket writes
                        with
                        | :? SocketException
                        | :? ObjectDisposedException -> ()), // the receiving side reports the broken connection
                    IsBackground = true,
                    Name = "echo-fuzz-sender"
                )

            sender.Start()
            let echo, problem = receiveEcho socket sent.Length options.CaseTimeout
            sender.Join(options.CaseTimeout) |> ignore

            // A wrong byte is the most telling report, even when the server also sent too much or stopped early.
            match Seq.zip echo sent |> Seq.tryFindIndex (fun (a, b) -> a <> b), problem with
            | Some k, _ -> Some $"echoed byte {k}{locate k} is 0x{echo[k]:X2} instead of 0x{sent[k]:X2}"
            | None, Some p -> Some p
            | None, None when echo.Length < sent.Length ->
                Some
                    $"the server closed after echoing {echo.Length} of the {sent.Length} bytes sent{locate echo.Length}"
            | None, None -> None
        with :? SocketException as e ->
            Some $"could not talk to {options.EndPoint}: {e.SocketErrorCode} ({e.Message})"

    /// Sends recorded writes again on a new connection (a failure's Writes, or bytes a user wrote down): None when the
    /// echo is exactly the bytes sent, else what went wrong.
    let replay (options: EchoFuzzOptions) (writes: EchoFuzzWrite seq) : string option =
        exchange options (List.ofSeq writes) (fun _ -> "")

    /// Runs one case on a new connection: None when every byte came back intact, else what went wrong, naming the
    /// message where the echo first went wrong.
    let runCase (format: WireFormat<'T>) (options: EchoFuzzOptions) (case: EchoFuzzCase<'T>) : string option =
        let sizes =
            case.Messages
            |> List.map (fun m -> (format.Encode.Invoke m).Length)
            |> List.toArray

        let locate offset =
            let mutable start = 0
            let mutable i = 0

            while i < sizes.Length && offset >= start + sizes[i] do
                start <- start + sizes[i]
                i <- i + 1

            if i < sizes.Length then
                $" (message {i}, byte {offset - start} of its {sizes[i]})"
            else
                ""

        exchange options (writes format case) locate

    /// Shrinks a failing case greedily: takes the first smaller case that still fails, until none does.
    let private shrinkFailure
        (format: WireFormat<'T>)
        (options: EchoFuzzOptions)
        (case: EchoFuzzCase<'T>)
        (reason: string)
        : EchoFuzzFailure<'T> =
        let mutable smallest = case
        let mutable why = reason
        let mutable shrinks = 0
        let mutable progress = true

        while progress do
            progress <- false

            let failing =
                shrink format smallest
                |> Seq.tryPick (fun candidate -> runCase format options candidate |> Option.map (fun r -> candidate, r))

            match failing with
            | Some(candidate, r) ->
                smallest <- candidate
                why <- r
                shrinks <- shrinks + 1
                progress <- true
            | None -> ()

        {
            Original = case
            Smallest = smallest
            Writes = writes format smallest
            Reason = why
            Shrinks = shrinks
        }

    /// Runs cases of `format` until one fails (then shrinks it), MaxCases pass, the time budget is spent or the token
    /// is cancelled (between cases). `progress` (may be null) is told the number of cases run so far after each one.
    let run
        (format: WireFormat<'T>)
        (options: EchoFuzzOptions)
        (progress: Action<int> | null)
        (cancellationToken: CancellationToken)
        : EchoFuzzReport<'T> =
        ArgumentNullException.ThrowIfNull(format, nameof format)

        if options.MaxCases < 1 then
            invalidArg (nameof options) $"MaxCases must be at least 1 (got {options.MaxCases})."

        let clock = Stopwatch.StartNew()
        let generator = cases format
        let mutable count = 0
        let mutable messages = 0L
        let mutable bytes = 0L
        let mutable failure = None

        while failure.IsNone
              && count < options.MaxCases
              && clock.Elapsed < options.TimeBudget
              && not cancellationToken.IsCancellationRequested do
            // Sizes grow with the case number, as FsCheck's runner does: small cases first.
            let size = min 100 (count / 2 + 5)
            // Each case has its own seed derived from the run's, so a case can be regenerated from (seed, number).
            let caseSeed = Rnd(options.Seed + uint64 count * 0x9E3779B97F4A7C15UL)
            let case = Gen.sampleWithSeed caseSeed size 1 generator |> Array.head
            count <- count + 1

            match runCase format options case with
            | None ->
                messages <- messages + int64 case.Messages.Length
                bytes <- bytes + int64 (WireRun.encodeAll format case.Messages).Length
            | Some reason -> failure <- Some(shrinkFailure format options case reason)

            match progress with
            | null -> ()
            | report -> report.Invoke count

        {
            Cases = count
            MessagesVerified = messages
            BytesVerified = bytes
            Elapsed = clock.Elapsed
            Failure = failure
        }
