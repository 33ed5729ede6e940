module AsyncNet.Properties.Tests.PushFrameProperties

open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties

[<ScaledProperty(500)>]
let ``the push decoder returns what the sequence decoder returns for any format and any chunking, empty chunks included``
    ()
    =
    Soak.forAll (Arb.fromGen PushFramingGen.scenario) PushFrameProperties.agreesWithTheSequenceDecoder

[<ScaledProperty(500)>]
let ``the push decoder faults as the sequence decoder does, after every earlier frame, and resyncs past a skipped frame``
    ()
    =
    Soak.forAll (Arb.fromGen PushFramingGen.faultScenario) PushFrameProperties.agreesWithTheSequenceDecoder
