namespace AsyncNet.Properties

// Runs a decoder over a stream as the wire laws do, and records what it did after every chunk; shows cases and
// bytes in reports. Internal: the laws and the runner read it; users see its results only as law failures.

open System
open System.Collections.Generic
open System.Text

/// One chunk fed: where it lies in the stream, the messages it completed, what the decoder then said it buffered
/// (-1 after a fault), and the fault it threw, if any.
type internal WireStep<'T> =
    {
        Start: int
        Size: int
        Returned: 'T list
        Buffered: int64
        Fault: exn option
    }

    /// The bytes fed once this chunk is in.
    member this.Fed = this.Start + this.Size

/// Everything a decoder did with one stream: the chunks fed (until a fault), and how it saw the end, if asked.
type internal WireTrace<'T> =
    {
        Steps: WireStep<'T> list
        Ending: WireEnd option
        EndingFault: exn option
    }

    /// The first fault, with the chunk that provoked it.
    member this.Fault = this.Steps |> List.tryFind (fun s -> s.Fault.IsSome)

    /// Every message returned, in order.
    member this.Returned = this.Steps |> List.collect (fun s -> s.Returned)

[<RequireQualifiedAccess>]
module internal WireRun =

    /// Feeds one chunk and records it: the messages it completed, then what the decoder buffers (-1 after a fault).
    let step (decoder: IWireDecoder<'T>) (start: int) (chunk: ReadOnlyMemory<byte>) : WireStep<'T> =
        let output = List<'T>()

        let fault =
            try
                decoder.Feed(chunk, output)
                None
            with e ->
                Some e

        {
            Start = start
            Size = chunk.Length
            Returned = List.ofSeq output
            Buffered = if fault.IsSome then -1L else decoder.BufferedBytes
            Fault = fault
        }

    /// Feeds `bytes` to a fresh decoder in the chunks the plan cuts, stopping at a fault; then, if `finish` and no
    /// fault, tells it the stream ended. A decoder that is IDisposable is disposed.
    let run (format: WireFormat<'T>) (bytes: byte array) (plan: int list) (finish: bool) : WireTrace<'T> =
        let decoder = format.CreateDecoder.Invoke()

        try
            let steps = ResizeArray<WireStep<'T>>()

            for offset, size in WireGen.cut plan bytes.Length do
                if steps.Count = 0 || steps[steps.Count - 1].Fault.IsNone then
                    steps.Add(step decoder offset (ReadOnlyMemory(bytes, offset, size)))

            let faulted = steps.Count > 0 && steps[steps.Count - 1].Fault.IsSome

            let ending, endingFault =
                if finish && not faulted then
                    try
                        Some(decoder.EndOfStream()), None
                    with e ->
                        None, Some e
                else
                    None, None

            {
                Steps = List.ofSeq steps
                Ending = ending
                EndingFault = endingFault
            }
        finally
            match box decoder with
            | :? IDisposable as disposable -> disposable.Dispose()
            | _ -> ()

    /// Bytes as a quoted string: printable ASCII as is, \r \n \t \" \\, any other byte as \xHH.
    let showBytes (bytes: ReadOnlySpan<byte>) : string =
        let text = StringBuilder("\"")

        for b in bytes do
            match b with
            | 13uy -> text.Append "\\r" |> ignore
            | 10uy -> text.Append "\\n" |> ignore
            | 9uy -> text.Append "\\t" |> ignore
            | 34uy -> text.Append "\\\"" |> ignore
            | 92uy -> text.Append "\\\\" |> ignore
            | b when b >= 32uy && b < 127uy -> text.Append(char b) |> ignore
            | b -> text.Append($"\\x{b:X2}") |> ignore

        text.Append('"').ToString()

    /// The chunks a plan cuts `bytes` into.
    let chunks (plan: int list) (bytes: byte array) : byte array list =
        WireGen.cut plan bytes.Length
        |> List.map (fun (offset, size) -> Array.sub bytes offset size)

    /// The chunks as quoted strings, e.g. ["a\r", "\n"].
    let showChunks (plan: int list) (bytes: byte array) : string =
        chunks plan bytes
        |> List.map (fun c -> showBytes (ReadOnlySpan c))
        |> String.concat ", "
        |> sprintf "[%s]"

    /// Messages as the format shows them, e.g. [a; b].
    let showMessages (format: WireFormat<'T>) (messages: 'T seq) : string =
        messages
        |> Seq.map (fun m -> format.Show.Invoke m)
        |> String.concat "; "
        |> sprintf "[%s]"

    /// Whether two message lists are equal under the format's comparer.
    let sameMessages (format: WireFormat<'T>) (expected: 'T list) (actual: 'T list) : bool =
        expected.Length = actual.Length
        && List.forall2 (fun a b -> format.Comparer.Equals(a, b)) expected actual

    /// A fault as "Type: message".
    let showFault (e: exn) = $"{e.GetType().Name}: {e.Message}"

    /// The encoding of some messages, concatenated.
    let encodeAll (format: WireFormat<'T>) (messages: 'T list) : byte array =
        messages |> List.map format.Encode.Invoke |> Array.concat
