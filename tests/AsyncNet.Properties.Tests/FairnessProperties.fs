module AsyncNet.Properties.Tests.FairnessProperties

open FsCheck.FSharp
open AsyncNet.Properties

[<ScaledProperty(200)>]
let ``a lock is granted in the order its waiters asked, to one holder at a time`` () =
    Soak.forAll (Arb.fromGen FairnessGen.contention) FairnessProperties.lockIsFifo

[<ScaledProperty(200)>]
let ``a semaphore's permits go to its waiters in asking order, never to more holders than permits`` () =
    Soak.forAll (Arb.fromGen FairnessGen.contention) FairnessProperties.semaphoreIsFifo

[<ScaledProperty(150)>]
let ``a condition's waiters wake in the order they began waiting, Notify k waking exactly the next k`` () =
    Soak.forAll (Arb.fromGen FairnessGen.notify) FairnessProperties.conditionWakesInWaitOrder
