namespace AsyncNet.Properties

// AsyncNet's own length-field framing as a wire format for the wire laws: PushFrameDecoder behind IWireDecoder,
// FrameLayout's encoding, FramingGen's frames and bad frames. So the laws that users run on their formats run on ours.

open System
open System.Buffers
open System.Collections.Generic
open FsCheck
open FsCheck.FSharp
open AsyncNet.Streams.Framing.Codec

/// PushFrameDecoder as a wire decoder. Frames are copied out: their payloads are valid only until the next Feed.
[<Sealed>]
type PushFrameWireDecoder(format: LengthFieldFormat) =
    let decoder = new PushFrameDecoder(format)

    interface IWireDecoder<FrameSpec> with
        member _.Feed(chunk: ReadOnlyMemory<byte>, output: ICollection<FrameSpec>) =
            decoder.Feed chunk
            let mutable frame = Unchecked.defaultof<Frame>

            while decoder.TryReadFrame(&frame) do
                output.Add
                    {
                        Type = frame.Type
                        Payload = frame.Payload.ToArray()
                    }

        member _.BufferedBytes = decoder.BufferedBytes

        member _.EndOfStream() =
            if decoder.IsAtFrameBoundary then
                WireEnd.Clean
            else
                WireEnd.Incomplete

    interface IDisposable with
        member _.Dispose() = decoder.Dispose()

/// Length-field formats as wire formats.
[<RequireQualifiedAccess>]
module FrameWire =

    /// A copy of a format that strips exactly the header, so a decoded frame is the frame sent.
    let private strippingTheHeader (f: LengthFieldFormat) : LengthFieldFormat =
        LengthFieldFormat(
            lengthFieldOffset = f.LengthFieldOffset,
            lengthFieldSize = f.LengthFieldSize,
            byteOrder = f.ByteOrder,
            lengthAdjustment = f.LengthAdjustment,
            initialBytesToStrip = Nullable(),
            maxFrameLength = f.MaxFrameLength,
            typeFieldOffset = f.TypeFieldOffset,
            typeFieldSize = f.TypeFieldSize,
            checksum = f.Checksum,
            checksumCoverage = f.ChecksumCoverage,
            discardOversizedFrames = f.DiscardOversizedFrames
        )

    /// The bad frames the format can express (see FramingGen.faultScenarioFor), or null when it can express none.
    let private badFrames (format: LengthFieldFormat) : Gen<byte array> | null =
        let scenarios = FramingGen.faultScenarioFor format

        if Gen.sampleWithSeed (FsCheck.Rnd(17UL)) 10 40 scenarios |> Array.forall Option.isNone then
            null
        else
            scenarios |> Gen.filter Option.isSome |> Gen.map (fun s -> s.Value.Bad)

    /// The wire format of `format` (made to strip exactly the header), decoded by PushFrameDecoder: frames that fit it,
    /// the bad frames it can express, and a bound just under its largest frame (or header).
    let format (format: LengthFieldFormat) : WireFormat<FrameSpec> =
        let format = strippingTheHeader format

        WireFormat<FrameSpec>(
            $"length-field frames ({format})",
            Func<FrameSpec, byte array>(FrameLayout.wire format),
            Func<IWireDecoder<FrameSpec>>(fun () -> new PushFrameWireDecoder(format)),
            FramingGen.frame format,
            Invalid = badFrames format,
            MaxBufferedBytes = max format.MaxFrameLength (int64 format.MaxHeaderLength) - 1L,
            MaxMessages = 6,
            Show = Func<FrameSpec, string>(fun f -> $"{f.Type}:{Convert.ToHexString f.Payload}"),
            ShrinkMessage =
                Func<FrameSpec, IEnumerable<FrameSpec>>(fun f ->
                    seq {
                        if f.Payload.Length > 0 then
                            yield { f with Payload = f.Payload[.. f.Payload.Length / 2 - 1] }
                            yield { f with Payload = f.Payload[.. f.Payload.Length - 2] }

                        if f.Type <> 0u then
                            yield { f with Type = 0u }
                    }
                    |> Seq.filter (fun s -> FrameLayout.fits format (int64 s.Payload.Length)))
        )
