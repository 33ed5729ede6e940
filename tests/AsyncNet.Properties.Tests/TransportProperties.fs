module AsyncNet.Properties.Tests.TransportProperties

open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties

[<Property(MaxTest = 60)>]
let ``for any writes and any reader pauses the peer receives exactly their concatenation`` () =
    Prop.forAll (Arb.fromGen TransportGen.scenario) TransportProperties.peerReceivesConcatenation

[<Property(MaxTest = 15)>]
let ``the any-thread entry points called at once from many threads each complete correctly whatever the interleaving`` () =
    Prop.forAll (Arb.fromGen CrossThreadGen.scenario) CrossThreadProperties.everyCallCompletesCorrectlyWhateverTheInterleaving
