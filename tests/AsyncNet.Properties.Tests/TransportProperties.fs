module AsyncNet.Properties.Tests.TransportProperties

open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties

[<ScaledProperty(60)>]
let ``for any writes and any reader pauses the peer receives exactly their concatenation`` () =
    Soak.forAll (Arb.fromGen TransportGen.scenario) TransportProperties.peerReceivesConcatenation

[<ScaledProperty(15)>]
let ``the any-thread entry points called at once from many threads each complete correctly whatever the interleaving`` () =
    Soak.forAll (Arb.fromGen CrossThreadGen.scenario) CrossThreadProperties.everyCallCompletesCorrectlyWhateverTheInterleaving
