namespace AsyncNet.Properties

open System
open System.Collections.Concurrent
open System.Collections.Generic
open System.Threading
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Sync

/// Producers and consumers on both sides of a dual queue: each producer's items, how many consumers of each
/// kind, and how often a loop consumer's get is cancelled (0 for never).
type DualScenario =
    {
        MaxSize: int
        ThreadProducers: int list list
        TaskProducers: int list list
        ThreadConsumers: int
        TaskConsumers: int
        CancelEvery: int
    }

/// The dual queue under load: threads and loop tasks producing and consuming at once, loop gets cancelled
/// now and then (queued or just woken); every item put must come out exactly once.
[<RequireQualifiedAccess>]
module DualQueueModel =

    /// Scenarios of 1 to 3 producer threads and 0 to 2 producer tasks of up to 40 items each, and consumers
    /// of both kinds (at least one), with bounds 0 to 4. Items are distinct.
    let scenario: Gen<DualScenario> =
        gen {
            let! maxSize = Gen.choose (0, 4)
            let! threadProducers = Gen.choose (1, 3)
            let! taskProducers = Gen.choose (0, 2)
            let! sizes = Gen.listOfLength (threadProducers + taskProducers) (Gen.choose (0, 40))
            let! threadConsumers = Gen.choose (0, 2)
            let! taskConsumers = Gen.choose ((if threadConsumers = 0 then 1 else 0), 2)
            let! cancelEvery = Gen.elements [ 0; 2; 3; 5 ]
            let lists = sizes |> List.mapi (fun p n -> List.init n (fun i -> p * 1000 + i))

            return
                {
                    MaxSize = maxSize
                    ThreadProducers = List.take threadProducers lists
                    TaskProducers = List.skip threadProducers lists
                    ThreadConsumers = threadConsumers
                    TaskConsumers = taskConsumers
                    CancelEvery = cancelEvery
                }
        }

    /// Scenarios where the order law holds: a single consumer (its gets cancelled or not), or several whose gets are
    /// never cancelled. With several consumers, an item handed to a get that is then cancelled passes on to the next
    /// waiting get, which may already have received later items of the same producer: the multiset is kept, the order
    /// per consumer is not.
    let orderedScenario: Gen<DualScenario> =
        scenario
        |> Gen.map (fun s ->
            if s.ThreadConsumers + s.TaskConsumers > 1 then
                { s with CancelEvery = 0 }
            else
                s)

    /// Scenarios that shrink by halving producers' item lists and dropping consumers or cancellation.
    let arbitrary: Arbitrary<DualScenario> =
        let halve lists =
            lists |> List.map (fun l -> List.truncate (List.length l / 2) l)

        Arb.fromGenShrink (
            scenario,
            fun s ->
                seq {
                    if s.ThreadProducers @ s.TaskProducers |> List.exists (fun l -> l.Length > 1) then
                        yield
                            { s with
                                ThreadProducers = halve s.ThreadProducers
                                TaskProducers = halve s.TaskProducers
                            }

                    if s.CancelEvery > 0 then
                        yield { s with CancelEvery = 0 }

                    if s.ThreadConsumers + s.TaskConsumers > 1 then
                        if s.ThreadConsumers > 0 then
                            yield
                                { s with
                                    ThreadConsumers = s.ThreadConsumers - 1
                                }

                        if s.TaskConsumers > 0 then
                            yield
                                { s with
                                    TaskConsumers = s.TaskConsumers - 1
                                }
                }
        )

    let private onThread (body: unit -> unit) : Task =
        let done' = TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)

        let thread =
            Thread(
                (fun () ->
                    try
                        body ()
                        done'.SetResult()
                    with e ->
                        done'.SetException e),
                IsBackground = true
            )

        thread.Start()
        done'.Task

    /// What each consumer received, in its order (thread consumers first), after the producers finished, every item
    /// was marked done, and the queue was shut down.
    let private consume (scenario: DualScenario) : int list list =
        let consumers = scenario.ThreadConsumers + scenario.TaskConsumers
        let received = Array.init consumers (fun _ -> List<int>())

        SyncHarness.onLoop (fun loop ->
            let queue = DualQueue<int>(loop, scenario.MaxSize)

            task {
                let threadProducers =
                    [
                        for items in scenario.ThreadProducers ->
                            onThread (fun () ->
                                for i in items do
                                    queue.SyncSide.Put i)
                    ]

                let taskProducers =
                    [
                        for items in scenario.TaskProducers ->
                            task {
                                for i in items do
                                    do! queue.AsyncSide.PutAsync i
                            }
                            :> Task
                    ]

                let threadConsumers =
                    [
                        for consumer in 0 .. scenario.ThreadConsumers - 1 ->
                            onThread (fun () ->
                                try
                                    while true do
                                        received[consumer].Add(queue.SyncSide.Get())
                                        queue.SyncSide.TaskDone()
                                with :? QueueShutDownException ->
                                    ())
                    ]

                let taskConsumers =
                    [
                        for consumer in scenario.ThreadConsumers .. consumers - 1 ->
                            task {
                                let mutable running = true
                                let mutable gets = 0

                                while running do
                                    gets <- gets + 1
                                    // Not disposed: the cancel may run after the get is over.
                                    let cts = new CancellationTokenSource()

                                    if scenario.CancelEvery > 0 && gets % scenario.CancelEvery = 0 then
                                        loop.CallSoon(Action(cts.Cancel)) |> ignore

                                    try
                                        let! item = queue.AsyncSide.GetAsync(cts.Token)
                                        received[consumer].Add item
                                        queue.AsyncSide.TaskDone()
                                    with
                                    | :? OperationCanceledException -> ()
                                    | :? QueueShutDownException -> running <- false
                            }
                            :> Task
                    ]

                do! Task.WhenAll(threadProducers @ taskProducers)
                do! queue.AsyncSide.JoinAsync()
                queue.Shutdown()
                do! Task.WhenAll(threadConsumers @ taskConsumers)
            }
            :> Task)

        received |> Array.map List.ofSeq |> List.ofArray

    /// The items put (sorted) and the items received (sorted).
    let run (scenario: DualScenario) : int list * int list =
        let put =
            scenario.ThreadProducers @ scenario.TaskProducers |> List.concat |> List.sort

        put, consume scenario |> List.concat |> List.sort

    /// The law of a FIFO queue seen by its consumers (a sequential queue's order, whatever the interleaving): each
    /// consumer receives each producer's items in the order they were put, and every item exactly once. It holds for
    /// `orderedScenario`s (see there for the exception).
    let eachConsumerSeesEachProducersOrder (scenario: DualScenario) : Property =
        let received = consume scenario
        let producerOf (item: int) = item / 1000

        let outOfOrder =
            received
            |> List.indexed
            |> List.collect (fun (consumer, items) ->
                items
                |> List.groupBy producerOf
                |> List.filter (fun (_, mine) -> mine <> List.sort mine)
                |> List.map (fun (producer, mine) ->
                    $"consumer {consumer} got producer {producer}'s items as %A{mine}"))

        let put =
            scenario.ThreadProducers @ scenario.TaskProducers |> List.concat |> List.sort

        (List.isEmpty outOfOrder && (received |> List.concat |> List.sort) = put)
        |> Prop.label (String.Join("; ", outOfOrder) + $" (%A{scenario})")
        |> Prop.classify (scenario.ThreadConsumers + scenario.TaskConsumers > 1) "several consumers"
        |> Prop.classify (scenario.CancelEvery > 0) "with cancelled gets"
