// A framed echo server on an event loop of its own thread; a framed echo round trip against it from another loop,
// every payload checked; then AsyncNet.Properties' EchoFuzz (FsCheck) runs a few generated cases against it.
open System
open System.Buffers
open System.Net
open System.Threading
open System.Threading.Tasks
open AsyncNet.Loop
open AsyncNet.Properties
open AsyncNet.Streams
open AsyncNet.Streams.Framing
open AsyncNet.Streams.Framing.Codec

let format = LengthFieldFormat.Default

let echo (connection: FramedConnection) : Task =
    task {
        let! first = connection.Reader.ReadFrameAsync()
        let mutable frame = first
        while frame.HasValue do
            do! connection.Writer.WriteAsync(frame.Value)
            let! next = connection.Reader.ReadFrameAsync()
            frame <- next
    }

let listening = new TaskCompletionSource<int>()
let server =
    Thread(
        (fun () ->
            use loop = new EventLoop()
            let start () = loop.StartFramedServerAsync(Func<FramedConnection, Task>(echo), "127.0.0.1", 0, format)
            let streamServer = loop.RunUntilComplete(Func<Task<StreamServer>>(start))
            listening.SetResult((streamServer.Sockets[0].LocalEndPoint :?> IPEndPoint).Port)
            loop.RunForever()),
        IsBackground = true)
server.Start()
let port = listening.Task.Result

let payloads = [ "hello"B; [||]; Array.init 70_000 (fun i -> byte (i * 31)) ]
let clientLoop = new EventLoop()
let roundTrip () : Task<int> =
    task {
        let! client = clientLoop.OpenFramedConnectionAsync("127.0.0.1", port, format)
        let mutable bytes = 0
        for payload in payloads do
            do! client.Writer.WriteAsync(0u, ReadOnlyMemory payload)
            let! echoed = client.Reader.ReadFrameAsync()
            if not echoed.HasValue || echoed.Value.Payload.ToArray() <> payload then
                failwithf "A %d-byte payload came back different." payload.Length
            bytes <- bytes + payload.Length
        do! client.DisposeAsync()
        return bytes
    }

let bytes = clientLoop.RunUntilComplete(Func<Task<int>>(roundTrip))
printfn "fsharp echo OK: %d frames, %d bytes" payloads.Length bytes

let options = { EchoFuzz.defaults (IPEndPoint(IPAddress.Loopback, port)) with MaxCases = 10 }
let report = EchoFuzz.run (EchoFuzz.frames format 8) options null CancellationToken.None
if report.Failure.IsSome then failwithf "EchoFuzz failed: %A" report.Failure
printfn "fsharp fuzz OK: %d cases" report.Cases
