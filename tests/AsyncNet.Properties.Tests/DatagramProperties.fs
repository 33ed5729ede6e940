module AsyncNet.Properties.Tests.DatagramProperties

open FsCheck.FSharp
open AsyncNet.Properties

[<ScaledProperty(40)>]
let ``a burst of datagrams arrives whole and in order, all of it after Close and a prefix after Abort`` () =
    Soak.forAll (Arb.fromGen DatagramGen.scenario) DatagramProperties.burstArrivesWholeAndInOrder

[<ScaledProperty(20)>]
let ``every datagram names the sender's bound address as its source`` () =
    Soak.forAll (Arb.fromGen DatagramGen.scenario) DatagramProperties.everyDatagramNamesItsSender
