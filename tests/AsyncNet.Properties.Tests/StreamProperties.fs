module AsyncNet.Properties.Tests.StreamProperties

open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties

[<ScaledProperty(200)>]
let ``every Read call agrees with the list model for any chunking and reader pauses, consumer on the loop`` () =
    Soak.forAll (Arb.fromGen (StreamGen.readScenario false)) (StreamProperties.readsMatchModel true)

[<ScaledProperty(40)>]
let ``every Read call agrees with the list model for any chunking, consumer on the thread pool`` () =
    Soak.forAll (Arb.fromGen (StreamGen.readScenario false)) (StreamProperties.readsMatchModel false)

[<ScaledProperty(200)>]
let ``unread inbound bytes never exceed max(limit, what a waiting read needs) plus one segment`` () =
    Soak.forAll (Arb.fromGen (StreamGen.readScenario false)) StreamProperties.unreadStaysWithinLimitPlusOneSegment

[<ScaledProperty(200)>]
let ``cancellation at any point loses no bytes`` () =
    Soak.forAll (Arb.fromGen (StreamGen.readScenario true)) StreamProperties.cancellationLosesNoBytes

[<ScaledProperty(150)>]
let ``no byte lost, duplicated or reordered for any partial-write schedule over a scripted transport`` () =
    Soak.forAll (Arb.fromGen (StreamGen.partialWrites 20000)) StreamProperties.partialWritesLoseNothing

[<ScaledProperty(300)>]
let ``drain completes iff the write buffer has been at or below the low mark since it started`` () =
    Soak.forAll (Arb.fromGen StreamGen.drainScenario) StreamProperties.drainCompletesIffAtOrBelowLowMark

[<ScaledProperty(15)>]
let ``no byte lost over real loopback sockets with a tiny send buffer and a small reader limit`` () =
    let readSizes = Gen.listOf (Gen.choose (1, 9000))

    Soak.forAll (Arb.fromGen (Gen.zip (StreamGen.partialWrites 200000) readSizes)) (fun (scenario, sizes) ->
        StreamProperties.loopbackDeliversConcatenation scenario sizes)

[<ScaledProperty(200)>]
let ``a lent read shows the next bytes in place and gives back exactly what it consumed, for any chunking, consumer on the loop`` () =
    Prop.forAll (Arb.fromGen StreamGen.lentScenario) (LentReadProperties.lentReadsMatchTheStream true)

[<ScaledProperty(40)>]
let ``a lent read shows the next bytes in place and gives back exactly what it consumed, for any chunking, consumer on the thread pool`` () =
    Prop.forAll (Arb.fromGen StreamGen.lentScenario) (LentReadProperties.lentReadsMatchTheStream false)
