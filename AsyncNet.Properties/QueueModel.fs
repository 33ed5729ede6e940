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

/// One command on a loop queue. Put, Get and Join start an operation that may wait; `Cancel k` cancels the
/// token of the k-th most recent operation (k modulo the number started). A pending operation must then end
/// cancelled and give back anything it was handed.
type QueueCommand =
    | Put of int
    | Get
    | TryPut of int
    | TryGet
    | Cancel of int
    | TaskDone
    | Join
    | Shutdown of immediate: bool

/// The queue's item order.
type QueueOrder =
    | Fifo
    | Lifo
    | Priority

/// A queue scenario: commands grouped into steps. The commands of one step run back to back in one loop
/// callback, so a wake-up and a cancellation can meet before the woken waiter resumes; the loop then runs
/// until idle before the next step.
type QueueScenario =
    {
        Order: QueueOrder
        MaxSize: int
        Steps: QueueCommand list list
    }

/// What a step shows: the results of its non-waiting commands, the state of every operation started so
/// far, and the queue's counters.
type QueueObservation =
    {
        Results: string list
        Ops: OpState list
        Count: int
        Unfinished: int
        IsFull: bool
        IsShutDown: bool
    }

/// The queue model: a multiset of (item, sequence) taken by the order's key, FIFO waiter lists, and the
/// slot rule of AsyncQueue: an item handed to a woken getter, or a slot promised to a woken putter, keeps its
/// slot until the waiter resumes at the end of the step; a waiter cancelled by then gives it back.
[<RequireQualifiedAccess>]
module QueueModel =

    type private Wake =
        | WGet of item: int * seq: int64
        | WPut of item: int
        | WJoin
        | WError
        | WNothing

    type private Kind =
        | KPut of int
        | KGet
        | KJoin

    /// The sequential model of one queue.
    type private Model(order: QueueOrder, maxSize: int) =
        let buffer = ResizeArray<int * int64>()
        let queuedGetters = ResizeArray<int>()
        let queuedPutters = ResizeArray<int * int>()
        let joiners = ResizeArray<int>()
        let wokenGetters = ResizeArray<int>()
        let wokenPutters = ResizeArray<int>()
        let wakes = Dictionary<int, Wake>()
        let settleQueue = Queue<int>()
        let cancelled = HashSet<int>()
        let ops = ResizeArray<OpState>()
        let mutable unfinished = 0
        let mutable shutdown = false
        let mutable nextSeq = 0L

        let occupied () =
            buffer.Count + wokenGetters.Count + wokenPutters.Count

        let isFull () = maxSize > 0 && occupied () >= maxSize

        let wake op w =
            wakes[op] <- w
            settleQueue.Enqueue op

        let take () =
            let key (item: int, seq: int64) =
                match order with
                | Fifo -> (0, seq)
                | Lifo -> (0, -seq)
                | Priority -> (item, seq)

            let best = buffer |> Seq.minBy key
            buffer.Remove best |> ignore
            fst best

        let deliver (item: int) (seq: int64) =
            let mutable delivered = false

            while not delivered && queuedGetters.Count > 0 do
                let op = queuedGetters[0]
                queuedGetters.RemoveAt 0

                if cancelled.Contains op then
                    wake op WNothing
                else
                    wokenGetters.Add op
                    wake op (WGet(item, seq))
                    delivered <- true

            if not delivered then
                buffer.Add((item, seq))

        let commit item =
            unfinished <- unfinished + 1
            deliver item nextSeq
            nextSeq <- nextSeq + 1L

        let grantPutters () =
            while not (isFull ()) && queuedPutters.Count > 0 do
                let op, item = queuedPutters[0]
                queuedPutters.RemoveAt 0

                if cancelled.Contains op then
                    wake op WNothing
                else
                    wokenPutters.Add op
                    wake op (WPut item)

        let allTasksDone () =
            for op in joiners do
                wake op WJoin

            joiners.Clear()

        member _.Ops = List.ofSeq ops

        member _.Observe(results: string list) : QueueObservation =
            {
                Results = results
                Ops = List.ofSeq ops
                Count = buffer.Count
                Unfinished = unfinished
                IsFull = isFull ()
                IsShutDown = shutdown
            }

        member _.Put(item: int) =
            let op = ops.Count
            ops.Add Pending

            if shutdown then
                ops[op] <- ShutDown
            elif isFull () then
                queuedPutters.Add((op, item))
            else
                commit item
                ops[op] <- PutDone

        member _.Get() =
            let op = ops.Count
            ops.Add Pending

            if buffer.Count > 0 then
                ops[op] <- Got(take ())
                grantPutters ()
            elif shutdown then
                ops[op] <- ShutDown
            else
                queuedGetters.Add op

        member _.Join() =
            let op = ops.Count
            ops.Add Pending
            if unfinished = 0 then ops[op] <- Joined else joiners.Add op

        member _.TryPut(item: int) =
            if shutdown || isFull () then
                "TryPut false"
            else
                commit item
                "TryPut true"

        member _.TryGet() =
            if buffer.Count > 0 then
                let item = take ()
                grantPutters ()
                $"TryGet {item}"
            else
                "TryGet none"

        member _.Cancel(k: int) =
            if ops.Count > 0 then
                let op = SyncHarness.recent ops.Count k

                if ops[op] = Pending then
                    cancelled.Add op |> ignore

        member _.TaskDone() =
            if unfinished = 0 then
                "TaskDone throws"
            else
                unfinished <- unfinished - 1

                if unfinished = 0 then
                    allTasksDone ()

                "TaskDone"

        member _.Shutdown(immediate: bool) =
            shutdown <- true

            if immediate then
                let mutable drained = buffer.Count
                buffer.Clear()

                for op in wokenGetters do
                    wakes[op] <- WError
                    drained <- drained + 1

                wokenGetters.Clear()

                if drained > 0 then
                    unfinished <- max 0 (unfinished - drained)

                    if unfinished = 0 then
                        allTasksDone ()

            for op in queuedGetters do
                wake op WError

            queuedGetters.Clear()

            for op, _ in queuedPutters do
                wake op WError

            queuedPutters.Clear()

            for op in wokenPutters do
                wakes[op] <- WError

            wokenPutters.Clear()

        /// Runs the loop until idle: queued cancelled waiters leave, then woken waiters resume in wake order.
        member _.Settle() =
            for op in cancelled do
                if ops[op] = Pending then
                    if queuedGetters.Remove op || joiners.Remove op then
                        ops[op] <- Cancelled

                    match queuedPutters |> Seq.tryFindIndex (fun (o, _) -> o = op) with
                    | Some i ->
                        queuedPutters.RemoveAt i
                        ops[op] <- Cancelled
                    | None -> ()

            while settleQueue.Count > 0 do
                let op = settleQueue.Dequeue()
                let isCancelled = cancelled.Contains op

                ops[op] <-
                    match wakes[op] with
                    | WNothing -> Cancelled
                    | WError -> if isCancelled then Cancelled else ShutDown
                    | WJoin -> if isCancelled then Cancelled else Joined
                    | WGet(item, seq) ->
                        wokenGetters.Remove op |> ignore

                        if isCancelled then
                            deliver item seq
                            grantPutters ()
                            Cancelled
                        else
                            grantPutters ()
                            Got item
                    | WPut item ->
                        wokenPutters.Remove op |> ignore

                        if isCancelled then
                            grantPutters ()
                            Cancelled
                        else
                            commit item
                            grantPutters ()
                            PutDone

    /// Scenarios with small items (so priority ties happen), bounds 0 to 3, and up to 12 steps of 1 to 4 commands.
    let scenario: Gen<QueueScenario> =
        let item = Gen.choose (0, 9)

        let command =
            Gen.frequency
                [
                    5, Gen.map Put item
                    5, Gen.constant Get
                    2, Gen.map TryPut item
                    2, Gen.constant TryGet
                    4, Gen.map Cancel SyncHarness.cancelTarget
                    2, Gen.constant TaskDone
                    1, Gen.constant Join
                    1, Gen.map Shutdown (Gen.elements [ false; true ])
                ]

        gen {
            let! order = Gen.elements [ Fifo; Lifo; Priority ]
            let! maxSize = Gen.choose (0, 3)
            let! count = Gen.choose (1, 12)

            let! steps =
                Gen.listOfLength count (Gen.choose (1, 4) |> Gen.bind (fun n -> Gen.listOfLength n command))

            return
                {
                    Order = order
                    MaxSize = maxSize
                    Steps = steps
                }
        }

    /// Scenarios that shrink by dropping steps and commands, then by lowering the bound.
    let arbitrary: Arbitrary<QueueScenario> =
        Arb.fromGenShrink (
            scenario,
            fun s ->
                seq {
                    for steps in SyncHarness.shrinkSteps s.Steps do
                        if not steps.IsEmpty then
                            yield { s with Steps = steps }

                    if s.MaxSize > 0 then
                        yield { s with MaxSize = s.MaxSize - 1 }
                }
        )

    /// A last step that takes every item left, so the final order is compared too.
    let private withDrain (scenario: QueueScenario) =
        scenario.Steps @ [ List.replicate 64 TryGet ]

    /// What the model says each step shows.
    let expected (scenario: QueueScenario) : QueueObservation list =
        let model = Model(scenario.Order, scenario.MaxSize)

        [
            for step in withDrain scenario do
                let results = ResizeArray<string>()

                for command in step do
                    match command with
                    | Put v -> model.Put v
                    | Get -> model.Get()
                    | Join -> model.Join()
                    | TryPut v -> results.Add(model.TryPut v)
                    | TryGet -> results.Add(model.TryGet())
                    | Cancel k -> model.Cancel k
                    | TaskDone -> results.Add(model.TaskDone())
                    | Shutdown immediate -> model.Shutdown immediate

                model.Settle()
                yield model.Observe(List.ofSeq results)
        ]

    /// Runs the scenario on a real AsyncQueue and reports what each step showed.
    let actual (scenario: QueueScenario) : QueueObservation list =
        let observations = ResizeArray<QueueObservation>()

        SyncHarness.onLoop (fun loop ->
            let queue: AsyncQueue<int> =
                match scenario.Order with
                | Fifo -> AsyncQueue<int>(loop, scenario.MaxSize)
                | Lifo -> AsyncLifoQueue<int>(loop, scenario.MaxSize)
                | Priority -> AsyncPriorityQueue<int>(loop, scenario.MaxSize)

            let ops = ResizeArray<Kind * CancellationTokenSource * Task>()

            let start kind (run: CancellationToken -> Task) =
                let cts = new CancellationTokenSource()
                ops.Add((kind, cts, run cts.Token))

            task {
                for step in withDrain scenario do
                    let results = ResizeArray<string>()

                    for command in step do
                        match command with
                        | Put v -> start (KPut v) (fun ct -> queue.PutAsync(v, ct).AsTask())
                        | Get -> start KGet (fun ct -> queue.GetAsync(ct).AsTask() :> Task)
                        | Join -> start KJoin (fun ct -> queue.JoinAsync(ct).AsTask())
                        | TryPut v -> results.Add(if queue.TryPut v then "TryPut true" else "TryPut false")
                        | TryGet ->
                            match queue.TryGet() with
                            | true, v -> results.Add $"TryGet {v}"
                            | _ -> results.Add "TryGet none"
                        | Cancel k ->
                            if ops.Count > 0 then
                                let _, cts, _ = ops[SyncHarness.recent ops.Count k]
                                cts.Cancel()
                        | TaskDone ->
                            try
                                queue.TaskDone()
                                results.Add "TaskDone"
                            with :? InvalidOperationException ->
                                results.Add "TaskDone throws"
                        | Shutdown immediate -> queue.Shutdown immediate

                    for _ in 1 .. SyncHarness.turns ops.Count do
                        do! Task.Yield()

                    let states =
                        [
                            for kind, _, t in ops ->
                                match kind with
                                | KPut _ -> SyncHarness.stateOf false PutDone t
                                | KGet -> SyncHarness.stateOf true PutDone t
                                | KJoin -> SyncHarness.stateOf false Joined t
                        ]

                    observations.Add
                        {
                            Results = List.ofSeq results
                            Ops = states
                            Count = queue.Count
                            Unfinished = queue.UnfinishedTasks
                            IsFull = queue.IsFull
                            IsShutDown = queue.IsShutDown
                        }
            }
            :> Task)

        List.ofSeq observations
