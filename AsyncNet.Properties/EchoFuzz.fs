namespace AsyncNet.Properties

// Fuzzing a framed echo server over a real connection (issue 7's `asyncnet fuzz`): FsCheck generates frames of the
// server's format, the bytes go out cut at random boundaries with random pauses, and every echoed frame is checked.
// A failing case is shrunk greedily (fewer frames, shorter payloads, one write, no pauses) to the smallest case that
// still fails, so the report names the bug's trigger and not a random 2 KiB blob.
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
open AsyncNet.Streams.Framing
open AsyncNet.Streams.Framing.Codec

/// One fuzz case: frames, the sizes of the writes their bytes go out in (used in turn, cycling; the last write
/// takes what is left), and the pauses after each write in milliseconds (cycling; none when empty).
type EchoFuzzCase =
    {
        Frames: FrameSpec list
        Writes: int list
        PausesMs: int list
    }

    /// A short description: frame count, payload sizes and types, write sizes and pauses.
    override this.ToString() =
        let frames =
            this.Frames
            |> List.map (fun f -> $"type {f.Type}, {f.Payload.Length} B")
            |> String.concat "; "

        let ints (xs: int list) =
            xs |> List.map string |> String.concat ", "

        $"{this.Frames.Length} frame(s) [{frames}], writes of [{ints this.Writes}] bytes, pauses [{ints this.PausesMs}] ms"

/// Where to fuzz and how much.
type EchoFuzzOptions =
    {
        /// The framed echo server.
        EndPoint: EndPoint
        /// The server's wire format. It must round-trip through an echo: a format that strips header bytes cannot.
        Format: LengthFieldFormat
        /// At most this many cases (each on a new connection).
        MaxCases: int
        /// Stop starting new cases after this long (a case in flight and its shrinking finish).
        TimeBudget: TimeSpan
        /// At most this many frames per case.
        MaxFrames: int
        /// The seed, so a run can be repeated exactly.
        Seed: uint64
        /// How long one case may wait for its echo before it counts as failed.
        CaseTimeout: TimeSpan
    }

/// A failing case after shrinking.
type EchoFuzzFailure =
    {
        /// The case as first generated.
        Original: EchoFuzzCase
        /// The smallest case found that still fails.
        Smallest: EchoFuzzCase
        /// Why the smallest case fails.
        Reason: string
        /// How many smaller failing cases shrinking stepped through.
        Shrinks: int
    }

/// What a fuzz run did.
type EchoFuzzReport =
    {
        Cases: int
        FramesVerified: int64
        BytesVerified: int64
        Elapsed: TimeSpan
        Failure: EchoFuzzFailure option
    }

/// Fuzzes a framed echo server; see the file's comment.
[<RequireQualifiedAccess>]
module EchoFuzz =

    /// Options with 500 cases, 30 s, 8 frames a case, a 5 s case timeout and a random seed.
    let defaults (endPoint: EndPoint) (format: LengthFieldFormat) : EchoFuzzOptions =
        {
            EndPoint = endPoint
            Format = format
            MaxCases = 500
            TimeBudget = TimeSpan.FromSeconds 30.0
            MaxFrames = 8
            Seed = uint64 (Random.Shared.NextInt64())
            CaseTimeout = TimeSpan.FromSeconds 5.0
        }

    /// Cases of a format: its frames (FramingGen.frames), writes mostly tiny, sometimes large, pauses mostly none.
    let caseFor (format: LengthFieldFormat) (maxFrames: int) : Gen<EchoFuzzCase> =
        gen {
            let! frames = FramingGen.frames maxFrames format

            let! writes =
                Gen.nonEmptyListOf (Gen.frequency [ 4, Gen.choose (1, 8); 2, Gen.choose (1, 512); 1, Gen.constant 1 ])

            let! pauses = Gen.listOf (Gen.frequency [ 6, Gen.constant 0; 1, Gen.choose (1, 3) ])

            return
                {
                    Frames = frames
                    Writes = writes
                    PausesMs = pauses
                }
        }

    /// Smaller cases, most promising first: without a frame, with a payload halved or one byte shorter, in one
    /// write, without pauses.
    let shrink (format: LengthFieldFormat) (case: EchoFuzzCase) : EchoFuzzCase seq =
        let frames = case.Frames |> List.toArray

        let withFrame i (frame: FrameSpec) =
            { case with
                Frames = frames |> Array.updateAt i frame |> List.ofArray
            }

        seq {
            for i in 0 .. frames.Length - 1 do
                yield
                    { case with
                        Frames = frames |> Array.removeAt i |> List.ofArray
                    }

            for i in 0 .. frames.Length - 1 do
                let p = frames[i].Payload

                if p.Length > 0 then
                    yield
                        withFrame
                            i
                            { frames[i] with
                                Payload = p[.. p.Length / 2 - 1]
                            }

                    yield
                        withFrame
                            i
                            { frames[i] with
                                Payload = p[.. p.Length - 2]
                            }

                    yield withFrame i { frames[i] with Payload = p[1..] }

                if frames[i].Type <> 0u then
                    yield withFrame i { frames[i] with Type = 0u }

            if case.Writes <> [ Int32.MaxValue ] then
                yield
                    { case with
                        Writes = [ Int32.MaxValue ]
                    }

            if not case.PausesMs.IsEmpty then
                yield { case with PausesMs = [] }
        }
        // A shrunk payload may no longer fit the format (a minimum length): such candidates are not cases.
        |> Seq.filter (fun c ->
            c.Frames
            |> List.forall (fun f -> FrameLayout.fits format (int64 f.Payload.Length)))

    let private wireOf (format: LengthFieldFormat) (case: EchoFuzzCase) : byte array =
        case.Frames |> List.map (FrameLayout.wire format) |> Array.concat

    let private sendAll (socket: Socket) (wire: byte array) (case: EchoFuzzCase) =
        let writes = List.toArray case.Writes
        let pauses = List.toArray case.PausesMs
        let mutable offset = 0
        let mutable i = 0

        while offset < wire.Length do
            let size = min (wire.Length - offset) writes[i % writes.Length]
            socket.Send(ReadOnlySpan(wire, offset, size)) |> ignore
            offset <- offset + size

            if pauses.Length > 0 && pauses[i % pauses.Length] > 0 then
                Thread.Sleep pauses[i % pauses.Length]

            i <- i + 1

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

    /// Runs one case on a new connection: None when every frame came back intact, else what went wrong.
    let runCase (options: EchoFuzzOptions) (case: EchoFuzzCase) : string option =
        let format = options.Format
        let wire = wireOf format case

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
                            sendAll socket wire case
                        with
                        | :? SocketException
                        | :? ObjectDisposedException -> ()), // the receiving side reports the broken connection
                    IsBackground = true,
                    Name = "echo-fuzz-sender"
                )

            sender.Start()
            let echo, problem = receiveEcho socket wire.Length options.CaseTimeout
            sender.Join(options.CaseTimeout) |> ignore

            match problem with
            | Some p -> Some p
            | None ->
                let outcome =
                    FrameFeed.decode
                        format
                        {
                            Cuts = if echo.Length = 0 then [] else [ echo.Length ]
                        }
                        echo

                let expected = case.Frames |> List.map (FrameLayout.decoded format)

                let firstDifference =
                    Seq.zip outcome.Frames expected
                    |> Seq.tryFindIndex (fun (got, want) -> got.Type <> want.Type || got.Payload <> want.Payload)

                match outcome.Fault, firstDifference with
                | Some fault, _ ->
                    Some $"the echo is not valid framing after {outcome.Frames.Length} frame(s): {fault.Message}"
                | None, Some i ->
                    let got, want = outcome.Frames[i], expected[i]

                    let at = Seq.zip got.Payload want.Payload |> Seq.tryFindIndex (fun (a, b) -> a <> b)

                    let detail =
                        match at with
                        | _ when got.Type <> want.Type -> $"type {got.Type} instead of {want.Type}"
                        | Some j -> $"payload byte {j} is 0x{got.Payload[j]:X2} instead of 0x{want.Payload[j]:X2}"
                        | None -> $"payload of {got.Payload.Length} B instead of {want.Payload.Length} B"

                    Some $"echoed frame {i} differs: {detail}"
                | None, None when outcome.Frames.Length <> expected.Length || outcome.Unconsumed <> 0L ->
                    Some
                        $"the server closed after echoing {outcome.Frames.Length} of {expected.Length} frame(s) ({echo.Length} of {wire.Length} bytes)"
                | None, None -> None
        with :? SocketException as e ->
            Some $"could not talk to {options.EndPoint}: {e.SocketErrorCode} ({e.Message})"

    /// Shrinks a failing case greedily: takes the first smaller case that still fails, until none does.
    let private shrinkFailure (options: EchoFuzzOptions) (case: EchoFuzzCase) (reason: string) : EchoFuzzFailure =
        let mutable smallest = case
        let mutable why = reason
        let mutable shrinks = 0
        let mutable progress = true

        while progress do
            progress <- false

            let failing =
                shrink options.Format smallest
                |> Seq.tryPick (fun candidate -> runCase options candidate |> Option.map (fun r -> candidate, r))

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
            Reason = why
            Shrinks = shrinks
        }

    /// Runs cases until one fails (then shrinks it), MaxCases pass, the time budget is spent or the token is
    /// cancelled (between cases). `progress` (may be null) is told the number of cases run so far after each one.
    let run
        (options: EchoFuzzOptions)
        (progress: Action<int> | null)
        (cancellationToken: CancellationToken)
        : EchoFuzzReport =
        if options.MaxCases < 1 then
            invalidArg (nameof options) $"MaxCases must be at least 1 (got {options.MaxCases})."

        if options.Format.InitialBytesToStrip.HasValue then
            invalidArg
                (nameof options)
                $"The format {options.Format} strips header bytes, so frames cannot round-trip through an echo."

        let clock = Stopwatch.StartNew()
        let generator = caseFor options.Format options.MaxFrames
        let mutable cases = 0
        let mutable frames = 0L
        let mutable bytes = 0L
        let mutable failure = None

        while failure.IsNone
              && cases < options.MaxCases
              && clock.Elapsed < options.TimeBudget
              && not cancellationToken.IsCancellationRequested do
            // Sizes grow with the case number, as FsCheck's runner does: small cases first.
            let size = min 100 (cases / 2 + 5)
            // Each case has its own seed derived from the run's, so a case can be regenerated from (seed, number).
            let caseSeed = Rnd(options.Seed + uint64 cases * 0x9E3779B97F4A7C15UL)
            let case = Gen.sampleWithSeed caseSeed size 1 generator |> Array.head
            cases <- cases + 1

            match runCase options case with
            | None ->
                frames <- frames + int64 case.Frames.Length
                bytes <- bytes + int64 (wireOf options.Format case).Length
            | Some reason -> failure <- Some(shrinkFailure options case reason)

            match progress with
            | null -> ()
            | report -> report.Invoke cases

        {
            Cases = cases
            FramesVerified = frames
            BytesVerified = bytes
            Elapsed = clock.Elapsed
            Failure = failure
        }
