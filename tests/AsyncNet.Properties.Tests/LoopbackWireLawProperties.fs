module AsyncNet.Properties.Tests.LoopbackWireLawProperties

// The loopback wire laws on a framed echo server written as a user would (FrameReader and FrameWriter in a stream
// handler), with the push frame decoder reading the replies.

open System
open System.Buffers
open System.Threading.Tasks
open FsCheck.Xunit
open AsyncNet.Properties
open AsyncNet.Streams
open AsyncNet.Streams.Framing
open AsyncNet.Streams.Framing.Codec

let private format =
    LengthFieldFormat(lengthFieldSize = 2, maxFrameLength = 200L, checksum = ChecksumAlgorithm.Crc32C)

let private echo (reader: StreamReader) (writer: StreamWriter) : Task =
    task {
        let frames = FrameReader(reader, format)
        let out = FrameWriter(writer, format)
        let mutable reading = true

        while reading do
            let! frame = frames.ReadFrameAsync()

            if frame.HasValue then
                out.Write(frame.Value.Type, frame.Value.Payload.ToArray() |> ReadOnlyMemory)
                do! writer.DrainAsync()
            else
                reading <- false

        writer.Close()
    }

let private wire =
    let frames = FrameWire.format format

    LoopbackWire<FrameSpec, FrameSpec>(
        frames,
        frames,
        Func<_, _>(fun requests -> requests),
        Handler = Func<StreamReader, StreamWriter, Task>(echo)
    )

[<ScaledProperty(40)>]
let ``loopback: a framed echo server answers every frame in order and closes cleanly, whatever the writes`` () =
    LoopbackWireLaws.roundTrip wire

[<ScaledProperty(30)>]
let ``loopback: after a bad frame the echo server answers every earlier frame and closes`` () =
    LoopbackWireLaws.faultOrder wire

[<ScaledProperty(30)>]
let ``loopback: a frame cut short by the client's end of stream is not answered`` () =
    LoopbackWireLaws.truncation wire

/// Echoes only the first frame, then reads the rest and closes: the loopback law must catch it.
let private echoesOnlyTheFirst (reader: StreamReader) (writer: StreamWriter) : Task =
    task {
        let frames = FrameReader(reader, format)
        let out = FrameWriter(writer, format)
        let mutable first = true
        let mutable reading = true

        while reading do
            let! frame = frames.ReadFrameAsync()

            if not frame.HasValue then
                reading <- false
            elif first then
                first <- false
                out.Write(frame.Value.Type, frame.Value.Payload.ToArray() |> ReadOnlyMemory)

        writer.Close()
    }

[<Xunit.Fact>]
let ``loopback: a server that drops replies is caught with what it sent`` () =
    let frames = FrameWire.format format

    let lossy =
        LoopbackWire<FrameSpec, FrameSpec>(
            frames,
            frames,
            Func<_, _>(fun requests -> requests),
            Handler = Func<StreamReader, StreamWriter, Task>(echoesOnlyTheFirst)
        )

    let case =
        {
            Requests = [ { Type = 0u; Payload = [| 1uy |] }; { Type = 0u; Payload = [| 2uy |] } ]
            Tail = LoopbackTail.Nothing
            Chunks = [ 1; 0; 1 ]
            Pauses = [ WritePause.Yield ]
        }

    match LoopbackWireLaws.verdict lossy case with
    | None -> failwith "the lossy server passed"
    | Some why -> Xunit.Assert.Contains("expected the replies [0:01; 0:02], received [0:01]", why)
