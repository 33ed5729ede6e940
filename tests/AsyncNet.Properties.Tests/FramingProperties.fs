module AsyncNet.Properties.Tests.FramingProperties

open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties
open AsyncNet.Streams.Framing
open AsyncNet.Streams.Framing.Codec

[<ScaledProperty(500)>]
let ``decode after encode is identity for any format, any payloads and any chunking`` () =
    Soak.forAll (Arb.fromGen FramingGen.scenario) FramingProperties.decodeAfterEncodeIsIdentity

[<ScaledProperty(300)>]
let ``the encoder writes header, payload and trailer exactly as the format defines them`` () =
    Soak.forAll (Arb.fromGen FramingGen.scenario) FramingProperties.encoderWritesTheFormatsLayout

[<ScaledProperty(500)>]
let ``the decoder never consumes or waits for a byte past a frame's end, whatever follows`` () =
    Soak.forAll (Arb.fromGen (Gen.zip FramingGen.scenario (Generators.bytes 24))) (fun (scenario, tail) ->
        FramingProperties.decoderNeverReadsPastAFramesEnd scenario tail)

[<ScaledProperty(600)>]
let ``oversized, negative, too-short and damaged frames give their own exception after every earlier frame`` () =
    Soak.forAll (Arb.fromGen FramingGen.faultScenario) FramingProperties.faultComesAfterEarlierFrames

[<ScaledProperty(100)>]
let ``a fixed format of a user's own: 1-byte type then 4-byte length counting itself, CRC-32C`` () =
    let format =
        LengthFieldFormat(
            typeFieldSize = 1,
            lengthFieldOffset = 1,
            lengthAdjustment = -4,
            checksum = ChecksumAlgorithm.Crc32C,
            maxFrameLength = 400L
        )

    Soak.bounded (fun () -> FramingProperties.roundTripFor format .&. FramingProperties.faultsFor format)

[<ScaledProperty(150)>]
let ``frames through a real loopback connection with random partial writes arrive intact`` () =
    Soak.forAll (Arb.fromGen FramingLoopbackGen.scenario) FramingLoopbackProperties.framesArriveIntact

[<ScaledProperty(30)>]
let ``a user's format over loopback: varint length after a 2-byte type, CRC-32 of the payload`` () =
    let format =
        LengthFieldFormat(
            typeFieldSize = 2,
            lengthFieldOffset = 2,
            lengthFieldSize = LengthFieldFormat.Varint,
            checksum = ChecksumAlgorithm.Crc32,
            checksumCoverage = ChecksumCoverage.Payload
        )

    Soak.bounded (fun () -> FramingLoopbackProperties.loopbackRoundTripFor format)
