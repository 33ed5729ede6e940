module AsyncNet.Properties.Tests.WireLawProperties

// The wire laws run on AsyncNet's own framing (PushFrameDecoder behind IWireDecoder), one property per law over any
// format FramingGen makes: the laws users run on their formats hold for ours.

open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties

let private onAnyFormat (law: WireFormat<FrameSpec> -> FsCheck.Property) =
    Soak.forAll (Arb.fromGen FramingGen.format) (fun format -> law (FrameWire.format format))

[<ScaledProperty(200)>]
let ``wire law RoundTrip holds for the push frame decoder on any format`` () = onAnyFormat WireLaws.roundTrip

[<ScaledProperty(200)>]
let ``wire law Consumption holds for the push frame decoder: it keeps exactly the incomplete frame`` () =
    onAnyFormat WireLaws.consumption

[<ScaledProperty(200)>]
let ``wire law Bounded holds for the push frame decoder: it never keeps a whole maximum frame`` () =
    onAnyFormat WireLaws.bounded

[<ScaledProperty(200)>]
let ``wire law FaultOrder holds for the push frame decoder on every bad frame a format can express`` () =
    onAnyFormat WireLaws.faultOrder

[<ScaledProperty(200)>]
let ``wire law Truncation holds for the push frame decoder: a cut frame ends Incomplete`` () =
    onAnyFormat WireLaws.truncation
