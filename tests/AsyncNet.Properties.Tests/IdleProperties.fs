module AsyncNet.Properties.Tests.IdleProperties

open FsCheck.FSharp
open AsyncNet.Properties

[<ScaledProperty(60)>]
let ``read, write and all-idle reports on a manual clock come exactly when, and as, the idle rule says`` () =
    Soak.forAll (Arb.fromGen IdleModel.scenario) IdleModel.reportsMatchTheModel

[<ScaledProperty(40)>]
let ``a heartbeat on a manual clock pings after each quiet interval and closes exactly at the deadline`` () =
    Soak.forAll (Arb.fromGen HeartbeatModel.scenario) HeartbeatModel.pingsAndDeadlineMatchTheModel
