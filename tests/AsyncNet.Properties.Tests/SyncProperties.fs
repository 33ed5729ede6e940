module AsyncNet.Properties.Tests.SyncProperties

open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties

/// Labels a step-by-step comparison with the first step that differs.
let private agree (expected: 'T list) (actual: 'T list) =
    let firstDifference =
        List.zip expected actual |> List.tryFindIndex (fun (e, a) -> e <> a)

    match firstDifference with
    | None when expected.Length = actual.Length -> Prop.ofTestable true
    | None ->
        false
        |> Prop.label $"{expected.Length} steps expected, {actual.Length} observed"
    | Some i -> false |> Prop.label $"step {i}: model %A{expected[i]}, queue %A{actual[i]}"

[<ScaledProperty(1000)>]
let ``any sequence of put, get, try, cancel, task-done and shutdown on a queue matches the sequential model`` () =
    Soak.forAll QueueModel.arbitrary (fun scenario ->
        agree (QueueModel.expected scenario) (QueueModel.actual scenario)
        |> Prop.label $"%A{scenario}")

[<ScaledProperty(400)>]
let ``any sequence of acquire, release and cancel on a lock or semaphore matches the sequential model`` () =
    Soak.forAll PermitModel.arbitrary (fun scenario ->
        agree (PermitModel.expected scenario) (PermitModel.actual scenario)
        |> Prop.label $"%A{scenario}")

[<ScaledProperty(150)>]
let ``the dual queue with N threads and M loop tasks delivers exactly the multiset put in`` () =
    Soak.forAll DualQueueModel.arbitrary (fun scenario ->
        let put, received = DualQueueModel.run scenario

        put = received
        |> Prop.label $"put {put.Length} items, received {received.Length}: %A{scenario}")

[<ScaledProperty(100)>]
let ``each consumer of the dual queue receives each producer's items in the order they were put`` () =
    Soak.forAll (Arb.fromGen DualQueueModel.orderedScenario) DualQueueModel.eachConsumerSeesEachProducersOrder
