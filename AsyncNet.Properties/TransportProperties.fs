namespace AsyncNet.Properties

// Properties of stream transports: writes, partial sends and reader pauses (issue 3), run over real loopback
// sockets with a tiny send buffer so the kernel takes writes in pieces and the transport must queue the rest.

open System
open System.IO
open System.Net
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Transports

/// One write of a writer's schedule: the bytes, and whether the writer then yields to the loop (so the transport
/// may flush before the next write arrives).
type StreamWrite = { Data: byte array; YieldAfter: bool }

/// One pause of a reader: once it has received `AfterBytes` bytes in all, it stops reading for `Millis` ms.
type ReaderPause = { AfterBytes: int; Millis: int }

/// Which protocol interface the reader uses.
type ReaderKind =
    /// `IProtocol`: data arrives as spans of the loop's read buffer.
    | Plain
    /// `IBufferedProtocol` lending a buffer of this many bytes.
    | Buffered of bufferSize: int

/// A whole scenario: what the writer writes, how the reader pauses, and how it reads.
type StreamScenario =
    {
        Writes: StreamWrite list
        Pauses: ReaderPause list
        Reader: ReaderKind
    }

    /// The bytes the reader must receive: every write, concatenated.
    member this.Expected = this.Writes |> Seq.collect (fun w -> w.Data) |> Array.ofSeq

/// Generators for stream-transport scenarios. Public, so users can drive their own protocols with them.
[<RequireQualifiedAccess>]
module TransportGen =

    /// Lists of up to `maxWrites` writes: mostly small (the edges of framing), some empty (which must do nothing),
    /// and some far larger than a tiny send buffer (up to `maxWriteBytes`), so partial sends are certain.
    let writes (maxWrites: int) (maxWriteBytes: int) : Gen<StreamWrite list> =
        let data =
            Gen.frequency
                [
                    6, Generators.bytes 64
                    3, Generators.bytes 4096
                    1, Generators.bytes maxWriteBytes
                    1, Gen.constant [||]
                ]

        let write =
            gen {
                let! bytes = data
                let! yieldAfter = Gen.frequency [ 3, Gen.constant false; 1, Gen.constant true ]

                return
                    {
                        Data = bytes
                        YieldAfter = yieldAfter
                    }
            }

        Gen.sized (fun size ->
            gen {
                let! count = Gen.choose (0, min maxWrites (size + 1))
                return! Gen.listOfLength count write
            })

    /// Up to `maxPauses` reader pauses of 0 to `maxMillis` ms, at points within the first `totalBytes` bytes.
    let readerPauses (maxPauses: int) (maxMillis: int) (totalBytes: int) : Gen<ReaderPause list> =
        let pause =
            gen {
                let! after = Gen.choose (0, max 0 totalBytes)
                let! millis = Gen.choose (0, maxMillis)
                return { AfterBytes = after; Millis = millis }
            }

        gen {
            let! count = Gen.choose (0, maxPauses)
            let! pauses = Gen.listOfLength count pause
            return pauses |> List.sortBy (fun p -> p.AfterBytes)
        }

    /// Plain readers mostly; buffered ones with buffers from 1 byte up.
    let readerKind: Gen<ReaderKind> =
        Gen.frequency
            [
                2, Gen.constant Plain
                1, Gen.elements [ 1; 7; 512; 65536 ] |> Gen.map Buffered
            ]

    /// Whole scenarios: up to 24 writes of up to 192 KiB each, up to 4 pauses of up to 10 ms.
    let scenario: Gen<StreamScenario> =
        gen {
            let! writes = writes 24 (192 * 1024)
            let total = writes |> List.sumBy (fun w -> w.Data.Length)
            let! pauses = readerPauses 4 10 total
            let! reader = readerKind

            return
                {
                    Writes = writes
                    Pauses = pauses
                    Reader = reader
                }
        }

/// The client's state: collects what arrives, pauses reading as its schedule says, and tracks pause-writing.
type private ClientCore(loop: EventLoop, pauses: ReaderPause list, received: TaskCompletionSource<byte array>) =
    let bytes = new MemoryStream()
    let mutable pending = pauses
    let mutable transport: IStreamTransport = Unchecked.defaultof<_>
    let mutable resumed: TaskCompletionSource | null = null

    let resume () =
        if not transport.IsClosing then
            transport.ResumeReading()

    /// Pauses for every scheduled point now reached, all at once, for their summed time.
    let maybePause () =
        let reached, later =
            pending |> List.partition (fun p -> int64 p.AfterBytes <= bytes.Length)

        pending <- later

        if not reached.IsEmpty then
            transport.PauseReading()

            loop.CallLater(TimeSpan.FromMilliseconds(float (reached |> List.sumBy (fun p -> p.Millis))), Action resume)
            |> ignore

    /// Completes at once unless writing is paused; then when it resumes.
    member _.WhenWritable: Task =
        match resumed with
        | null -> Task.CompletedTask
        | source -> source.Task

    member _.Made(t: ITransport) =
        transport <- t :?> IStreamTransport
        maybePause ()

    member _.Received(data: ReadOnlySpan<byte>) =
        bytes.Write data
        maybePause ()

    member _.Lost(error: exn | null) =
        match error with
        | null -> received.TrySetResult(bytes.ToArray()) |> ignore
        | e -> received.TrySetException e |> ignore

    member _.PauseWriting() = resumed <- TaskCompletionSource()

    member _.ResumeWriting() =
        match resumed with
        | null -> ()
        | source ->
            resumed <- null
            source.SetResult()

/// The client as an `IProtocol`.
type private PlainClient(core: ClientCore) =
    member _.Core = core

    interface IProtocol with
        member _.ConnectionMade t = core.Made t
        member _.ConnectionLost error = core.Lost error
        member _.DataReceived data = core.Received data
        member _.EofReceived() = false
        member _.PauseWriting() = core.PauseWriting()
        member _.ResumeWriting() = core.ResumeWriting()

/// The client as an `IBufferedProtocol` lending a buffer of `size` bytes.
type private BufferedClient(core: ClientCore, size: int) =
    let buffer = Array.zeroCreate<byte> size

    member _.Core = core

    interface IBufferedProtocol with
        member _.ConnectionMade t = core.Made t
        member _.ConnectionLost error = core.Lost error
        member _.GetBuffer _ = Memory buffer

        member _.BufferUpdated count =
            core.Received(ReadOnlySpan(buffer, 0, count))

        member _.EofReceived() = false
        member _.PauseWriting() = core.PauseWriting()
        member _.ResumeWriting() = core.ResumeWriting()

/// The peer: echoes every byte from inside DataReceived (the transport's gathered, zero-copy path), records what
/// it received, and stops reading while its own write buffer is over the high mark (classic backpressure).
type private EchoPeer() =
    let bytes = new MemoryStream()
    let mutable transport: IStreamTransport = Unchecked.defaultof<_>

    member _.Received = bytes.ToArray()

    interface IProtocol with
        member _.ConnectionMade t = transport <- t :?> IStreamTransport
        member _.ConnectionLost _ = ()

        member _.DataReceived data =
            bytes.Write data
            transport.Write data

        member _.EofReceived() = false
        member _.PauseWriting() = transport.PauseReading()
        member _.ResumeWriting() = transport.ResumeReading()

/// Laws of stream transports, run on real sockets.
[<RequireQualifiedAccess>]
module TransportProperties =

    /// The kernel send buffer both sides ask for: tiny, so most writes are taken only in part. (Receive buffers keep
    /// their default: with a tiny window too, loopback TCP stalls on its 200 ms persist timer.)
    [<Literal>]
    let TinyBuffer = 4096

    let private writeBytes (transport: IStreamTransport) (data: byte array) = transport.Write(ReadOnlySpan data)

    /// Runs `scenario` on a fresh loop over a loopback TCP connection to an echo peer, both sides with a tiny send
    /// buffer: the client writes, yielding and honouring pause-writing as told, then sends EOF; the client reads the
    /// echo, pausing as scheduled. Returns what the peer received and what came back.
    let deliver (scenario: StreamScenario) : byte array * byte array =
        use loop = new EventLoop()
        let echoed = TaskCompletionSource<byte array>()
        let peers = Collections.Generic.List<EchoPeer>()
        let tiny = Nullable TinyBuffer

        let peerFactory () =
            let peer = EchoPeer()
            peers.Add peer
            peer

        let clientFactory () : IBaseProtocol =
            let core = ClientCore(loop, scenario.Pauses, echoed)

            match scenario.Reader with
            | Plain -> PlainClient core
            | Buffered size -> BufferedClient(core, size)

        let core (protocol: IBaseProtocol) =
            match protocol with
            | :? PlainClient as p -> p.Core
            | :? BufferedClient as b -> b.Core
            | _ -> failwith "unknown client"

        let work () : Task<byte array * byte array> =
            task {
                let! server =
                    loop.CreateServerAsync(
                        Func<EchoPeer>(peerFactory),
                        "127.0.0.1",
                        0,
                        ServerOptions(SendBufferSize = tiny, WriteBufferHighWaterMark = Nullable(32 * 1024))
                    )

                let port = Loopback.portOf server

                let options =
                    ConnectionOptions(SendBufferSize = tiny, WriteBufferHighWaterMark = Nullable(16 * 1024))

                let! struct (transport, client) =
                    loop.CreateConnectionAsync(Func<IBaseProtocol>(clientFactory), "127.0.0.1", port, options)

                let client = core client

                for write in scenario.Writes do
                    do! client.WhenWritable
                    writeBytes transport write.Data

                    if write.YieldAfter then
                        do! loop.SleepAsync TimeSpan.Zero

                transport.WriteEof()
                let! back = echoed.Task
                server.Close()
                do! server.WaitClosedAsync()
                return peers[0].Received, back
            }

        // Bounded: a stuck run stops the loop, and RunUntilComplete then fails instead of hanging the suite.
        let guard = loop.CallLater(TimeSpan.FromSeconds 30.0, Action loop.Stop)

        let result =
            loop.RunUntilComplete(loop.CreateTask(Func<Task<byte array * byte array>> work))

        guard.Cancel()
        result

    /// The law: for any list of writes and any schedule of reader pauses, the peer receives exactly their
    /// concatenation — nothing lost, duplicated or reordered by partial sends, queueing or flow control — and so
    /// does the client, reading the peer's echo (which exercises writes gathered inside DataReceived).
    let peerReceivesConcatenation (scenario: StreamScenario) : Property =
        let expected = scenario.Expected
        let atPeer, echoed = deliver scenario

        (atPeer = expected && echoed = expected)
        |> Prop.label
            $"expected {expected.Length} bytes; the peer received {atPeer.Length}, the echo brought back {echoed.Length}"
        |> Prop.classify (expected.Length > 64 * 1024) "beyond the high-water mark"
        |> Prop.classify (not scenario.Pauses.IsEmpty) "with reader pauses"
