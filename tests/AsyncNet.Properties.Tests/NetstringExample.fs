module AsyncNet.Properties.Tests.NetstringExample

// How an F# user checks a wire format of their own with the wire laws: netstrings ("5:hello,") with a length limit,
// decoded by a push decoder written as a user would. The correct decoder satisfies every law; a decoder with a planted
// bug (it returns a message before its closing comma arrives) is caught, and shrunk to the smallest case.

open System
open System.Collections.Generic
open System.IO
open System.Text
open FsCheck
open FsCheck.FSharp
open global.Xunit
open FsCheck.Xunit
open AsyncNet.Properties

let private maxLength = 20

/// "len:payload," with len in decimal, at most `maxLength`.
let private encode (text: string) : byte array =
    Encoding.ASCII.GetBytes($"{text.Length}:{text},")

type private NetstringDecoder(returnsBeforeTheComma: bool) =
    let buffer = List<byte>()
    // The planted bug's state: a message was returned and its comma is still to come.
    let mutable commaOwed = false

    let digits = string maxLength |> String.length

    interface IWireDecoder<string> with
        member _.Feed(chunk, output) =
            buffer.AddRange(chunk.ToArray())
            let mutable go = true

            while go do
                if commaOwed && buffer.Count > 0 then
                    if buffer[0] <> byte ',' then
                        raise (InvalidDataException "a netstring does not end with ','")

                    buffer.RemoveAt 0
                    commaOwed <- false

                let colon = buffer.IndexOf(byte ':')
                let header = if colon < 0 then buffer.Count else colon

                if header > digits || colon = 0 then
                    raise (InvalidDataException "a netstring's length is missing or too long")

                if Seq.take header buffer |> Seq.exists (fun b -> b < byte '0' || b > byte '9') then
                    raise (InvalidDataException "a netstring's length is not decimal")

                if colon < 0 then
                    go <- false
                else
                    let length = Int32.Parse(Encoding.ASCII.GetString(buffer.GetRange(0, colon).ToArray()))

                    if length > maxLength then
                        raise (InvalidDataException $"a netstring of {length} bytes is over the limit of {maxLength}")

                    let whole = colon + 1 + length + 1
                    let needed = if returnsBeforeTheComma then whole - 1 else whole

                    if buffer.Count < needed then
                        go <- false
                    else
                        if not returnsBeforeTheComma && buffer[whole - 1] <> byte ',' then
                            raise (InvalidDataException "a netstring does not end with ','")

                        output.Add(Encoding.ASCII.GetString(buffer.GetRange(colon + 1, length).ToArray()))
                        buffer.RemoveRange(0, needed)
                        commaOwed <- returnsBeforeTheComma

        member _.BufferedBytes = int64 buffer.Count

        member _.EndOfStream() =
            if buffer.Count = 0 && not commaOwed then
                WireEnd.Clean
            else
                WireEnd.Incomplete

let private format (buggy: bool) =
    let letters = Gen.elements [ 'a' .. 'z' ]

    WireFormat<string>(
        (if buggy then "netstrings (returned before the comma)" else "netstrings"),
        Func<string, byte array>(encode),
        Func<IWireDecoder<string>>(fun () -> NetstringDecoder(buggy)),
        gen {
            let! length = Gen.choose (0, maxLength)
            let! chars = Gen.arrayOfLength length letters
            return String(chars)
        },
        Invalid =
            Gen.oneof
                [
                    Gen.choose (maxLength + 1, 999) |> Gen.map (fun n -> Encoding.ASCII.GetBytes($"{n}:"))
                    Gen.constant (Encoding.ASCII.GetBytes "1:ab")
                    Gen.constant (Encoding.ASCII.GetBytes "x")
                ],
        MaxBufferedBytes = int64 (string maxLength).Length + 1L + int64 maxLength,
        ShrinkMessage =
            Func<string, IEnumerable<string>>(fun s ->
                if s.Length = 0 then Seq.empty else seq { s.Substring(0, s.Length / 2); s.Substring 1 })
    )

[<ScaledProperty(300)>]
let ``an F# user's netstring decoder satisfies every wire law`` () = WireLaws.all (format false)

[<Fact>]
let ``a netstring decoder that returns a message before its comma is caught and shrunk to one empty message cut before the comma``
    ()
    =
    let report = WireLawRunner.Check(format true, WireLawOptions(Seed = Nullable 7UL))

    let failure =
        match report.Failure with
        | null -> failwith "the planted bug went unnoticed"
        | f -> f

    Assert.Equal(WireLaw.Consumption, failure.Law)
    Assert.Equal<string>([ "" ], failure.Messages)
    Assert.Equal<string>([ "0:"; "," ], failure.Chunks |> Seq.map Encoding.ASCII.GetString)
    Assert.Contains("\"0:\", \",\"", report.Report)
    Assert.Contains("returned 1 messages, but only 0 had arrived whole", report.Report)

[<Fact>]
let ``the correct netstring decoder passes the runner too`` () =
    let report = WireLawRunner.Check(format false, WireLawOptions(Seed = Nullable 7UL))
    Assert.True(report.Passed, report.Report)
    Assert.True(report.Tests >= 5 * 200, $"{report.Tests} cases")
