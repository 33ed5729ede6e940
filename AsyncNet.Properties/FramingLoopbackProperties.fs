namespace AsyncNet.Properties

// Framing over real sockets (issue 5): frames of any format written by a client in pieces of random sizes with random
// pauses, through a tiny kernel send buffer, to a server that reads them with FrameReader and a small reader limit, so
// frames arrive split at any byte, several to a segment, and longer than the limit. The law is the codec's round trip
// (FramingProperties.decodeAfterEncodeIsIdentity) with a real connection in the middle.
//
// Users can run it on their own formats: `FramingLoopbackProperties.loopbackRoundTripFor myFormat` is an FsCheck
// property.

open System
open System.Buffers
open System.Net
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Streams
open AsyncNet.Streams.Framing
open AsyncNet.Streams.Framing.Codec
open AsyncNet.Transports

/// What the client does after one write.
[<RequireQualifiedAccess>]
type WritePause =
    /// Writes on at once.
    | None
    /// Lets the loop run one iteration (the server may read what has arrived).
    | Yield
    /// Sleeps this many milliseconds (the bytes so far surely arrive apart from the next ones).
    | Sleep of milliseconds: int

/// How the client puts the frames on the wire.
[<RequireQualifiedAccess>]
type FrameSending =
    /// The encoded bytes of all frames, cut by this chunking into writes.
    | Chunked of Chunking
    /// One `FrameWriter.Write` per frame (header, payload and trailer gathered into one write).
    | WholeFrames

/// Frames of a format, sent over a loopback connection as `Sending` says, with a pause after each write.
type LoopbackFramingScenario =
    {
        Format: LengthFieldFormat
        Frames: FrameSpec list
        Sending: FrameSending
        /// One pause per write, reused cyclically when there are more writes than pauses.
        Pauses: WritePause list
        /// The server reader's limit: small ones make frames outgrow it, so reads must resume reading to finish.
        Limit: int
        /// Whether the server reads in batches: after each awaited frame, every frame `TryReadFrame` finds buffered.
        Batched: bool
    }

/// Generators of loopback framing scenarios. Public, so users can drive their own framing over sockets with them.
[<RequireQualifiedAccess>]
module FramingLoopbackGen =

    /// Pauses: mostly none, often one loop iteration, rarely a millisecond or two (they cost real time).
    let pause: Gen<WritePause> =
        Gen.frequency
            [
                6, Gen.constant WritePause.None
                3, Gen.constant WritePause.Yield
                1, Gen.choose (1, 2) |> Gen.map WritePause.Sleep
            ]

    /// A scenario for the given format: up to 12 frames, sent chunked (mostly) or whole, with pauses and a limit
    /// from tiny to the default.
    let scenarioFor (format: LengthFieldFormat) : Gen<LoopbackFramingScenario> =
        gen {
            let! frames = FramingGen.frames 12 format

            let length = frames |> List.sumBy (fun f -> (FrameLayout.wire format f).Length)

            let! sending =
                Gen.frequency
                    [
                        3, Generators.chunking length |> Gen.map FrameSending.Chunked
                        1, Gen.constant FrameSending.WholeFrames
                    ]

            let! pauseCount = Gen.choose (1, 40)
            let! pauses = Gen.listOfLength pauseCount pause
            let! limit = Gen.elements [ 1; 7; 64; 1024; StreamOptions.DefaultLimit ]
            let! batched = Gen.elements [ false; true ]

            return
                {
                    Format = format
                    Frames = frames
                    Sending = sending
                    Pauses = pauses
                    Limit = limit
                    Batched = batched
                }
        }

    /// A scenario of any format `FramingGen.format` makes.
    let scenario: Gen<LoopbackFramingScenario> =
        FramingGen.format |> Gen.bind scenarioFor

/// The loopback framing law.
[<RequireQualifiedAccess>]
module FramingLoopbackProperties =

    /// The kernel send buffer the client asks for: tiny, so the client's writes leave in pieces of the kernel's choosing too.
    [<Literal>]
    let TinySendBuffer = 4096

    /// What the server read: every frame (copied) until the end of the stream, and the error that stopped it, if any.
    type private Received =
        {
            Frames: FrameSpec list
            Error: exn option
        }

    let private readAll (batched: bool) (frames: FrameReader) : Task<Received> =
        task {
            let received = ResizeArray<FrameSpec>()
            let mutable error = None
            let mutable reading = true

            let keep (frame: Frame) =
                received.Add
                    {
                        Type = frame.Type
                        Payload = frame.Payload.ToArray()
                    }

            while reading do
                try
                    let! frame = frames.ReadFrameAsync()

                    if frame.HasValue then
                        keep frame.Value

                        if batched then
                            let mutable next = Unchecked.defaultof<Frame>

                            while frames.TryReadFrame(&next) do
                                keep next
                    else
                        reading <- false
                with e ->
                    error <- Some e
                    reading <- false

            return
                {
                    Frames = List.ofSeq received
                    Error = error
                }
        }

    let private pauseAfter (loop: EventLoop) (pause: WritePause) : Task =
        match pause with
        | WritePause.None -> Task.CompletedTask
        | WritePause.Yield -> loop.SleepAsync TimeSpan.Zero
        | WritePause.Sleep ms -> loop.SleepAsync(TimeSpan.FromMilliseconds(float ms))

    /// Runs `scenario` on a fresh loop over loopback TCP and returns what the server's FrameReader read.
    let private send (scenario: LoopbackFramingScenario) : Received =
        use loop = new EventLoop()
        let received = TaskCompletionSource<Received>()
        let format = scenario.Format

        let handler (reader: StreamReader) (writer: StreamWriter) : Task =
            task {
                let! result = readAll scenario.Batched (FrameReader(reader, format))
                received.SetResult result
                writer.Close()
            }

        let work () : Task<Received> =
            task {
                let! server =
                    loop.StartServerAsync(
                        Func<StreamReader, StreamWriter, Task>(handler),
                        "127.0.0.1",
                        0,
                        StreamOptions(Limit = scenario.Limit)
                    )

                let port =
                    match server.Sockets[0].LocalEndPoint with
                    | :? IPEndPoint as endPoint -> endPoint.Port
                    | other -> failwith $"unexpected server address {other}"

                let options = ConnectionOptions(SendBufferSize = Nullable TinySendBuffer)

                let! struct (_, writer) =
                    loop.OpenConnectionAsync("127.0.0.1", port, connectionOptions = options)

                let pauses = List.toArray scenario.Pauses
                let mutable writes = 0

                let afterWrite () : Task =
                    task {
                        writes <- writes + 1
                        do! writer.DrainAsync()
                        do! pauseAfter loop pauses[writes % pauses.Length]
                    }

                match scenario.Sending with
                | FrameSending.Chunked chunking ->
                    let encoder = FrameEncoder(format)

                    let bytes =
                        scenario.Frames
                        |> List.map (fun f -> encoder.Encode(f.Type, ReadOnlySpan f.Payload))
                        |> Array.concat

                    let mutable offset = 0

                    for cut in chunking.Cuts do
                        writer.Write(ReadOnlySpan(bytes, offset, cut))
                        offset <- offset + cut
                        do! afterWrite ()
                | FrameSending.WholeFrames ->
                    let frames = FrameWriter(writer, format)

                    for f in scenario.Frames do
                        frames.Write(f.Type, ReadOnlyMemory f.Payload)
                        do! afterWrite ()

                writer.WriteEof()
                let! result = received.Task
                writer.Close()
                do! server.ShutdownAsync()
                return result
            }

        // Bounded: a stuck run stops the loop, and RunUntilComplete then fails instead of hanging the suite.
        let guard = loop.CallLater(TimeSpan.FromSeconds 30.0, Action loop.Stop)
        let result = loop.RunUntilComplete(loop.CreateTask(Func<Task<Received>> work))
        guard.Cancel()
        result

    /// The law: whatever the format, the payloads, the cuts, the pauses and the reader's limit, the server's
    /// FrameReader returns exactly the frames sent (as the format defines what a decoder returns), in order, then a
    /// clean end of stream.
    let framesArriveIntact (scenario: LoopbackFramingScenario) : Property =
        let format = scenario.Format
        let expected = scenario.Frames |> List.map (FrameLayout.decoded format)
        let received = send scenario

        let describe (frames: FrameSpec list) =
            frames
            |> List.map (fun f -> $"{f.Type}:{f.Payload.Length}B")
            |> String.concat "; "

        let largest =
            scenario.Frames
            |> List.map (fun f -> (FrameLayout.wire format f).Length)
            |> List.fold max 0

        (received.Error.IsNone |> Prop.label $"the reader failed: {received.Error}")
        .&. (received.Frames = expected
             |> Prop.label $"expected [{describe expected}], read [{describe received.Frames}]")
        |> Prop.label $"format {format}; limit {scenario.Limit}; sending {scenario.Sending}"
        |> Prop.classify (largest > scenario.Limit) "frames longer than the reader's limit"
        |> Prop.classify (scenario.Sending = FrameSending.WholeFrames) "written with FrameWriter"

    /// The law for a format of the user's.
    let loopbackRoundTripFor (format: LengthFieldFormat) : Property =
        Prop.forAll (Arb.fromGen (FramingLoopbackGen.scenarioFor format)) framesArriveIntact
