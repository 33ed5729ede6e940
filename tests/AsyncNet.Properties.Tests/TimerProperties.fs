module AsyncNet.Properties.Tests.TimerProperties

open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties

[<ScaledProperty(200)>]
let ``timers fire in (when, sequence) order for any schedule with any cancellations`` () =
    Soak.forAll (Arb.fromGen (TimerModel.schedule 40)) (fun timers ->
        let expected = TimerModel.expectedFirings timers
        let actual = TimerModel.actualFirings timers
        actual = expected |> Prop.label $"expected %A{expected}, fired %A{actual}")
