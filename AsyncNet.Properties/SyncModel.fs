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

/// How a waiting operation stands once the loop has gone idle after a step.
type OpState =
    | Pending
    | Got of int
    | PutDone
    | Acquired
    | Joined
    | Cancelled
    | ShutDown

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

/// A command on a lock or semaphore. `CancelAcquire k` cancels the k-th most recent acquire (modulo those started).
type PermitCommand =
    | Acquire
    | TryAcquire
    | Release
    | CancelAcquire of int

/// Which permit primitive a scenario drives.
type PermitKind =
    | Lock
    | Semaphore of initial: int
    | BoundedSemaphore of bound: int

/// A lock or semaphore scenario, in steps as for queues.
type PermitScenario =
    {
        Kind: PermitKind
        Steps: PermitCommand list list
    }

/// What a permit step shows: results of TryAcquire/Release, every acquire's state, and the permits available.
type PermitObservation =
    {
        Results: string list
        Ops: OpState list
        Available: int
    }

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

/// Helpers shared by the sync models.
[<RequireQualifiedAccess>]
module private Harness =

    /// Turns after a step: every wake-up, pass-on and cancellation chain ends within this many iterations.
    let turns (ops: int) = 2 * ops + 6

    /// How a finished operation's task ended.
    let stateOf (isGet: bool) (ok: OpState) (t: Task) : OpState =
        if not t.IsCompleted then
            Pending
        elif t.IsCanceled then
            Cancelled
        elif t.IsFaulted then
            match t.Exception with
            | null -> failwith "a faulted task without an exception"
            | e ->
                match e.InnerException with
                | :? QueueShutDownException -> ShutDown
                | inner -> raise (InvalidOperationException("unexpected failure of an operation", inner))
        elif isGet then
            Got((t :?> Task<int>).Result)
        else
            ok

    /// The index of the k-th most recent of `count` operations.
    let recent (count: int) (k: int) = count - 1 - (k % count)

    /// Mostly the last few operations (the interesting races), sometimes any.
    let cancelTarget = Gen.frequency [ 3, Gen.choose (0, 2); 1, Gen.choose (0, 40) ]

    /// Smaller step lists: without one step, or without one command of a step.
    let shrinkSteps (steps: 'C list list) : seq<'C list list> =
        let without i list =
            list |> List.indexed |> List.filter (fun (j, _) -> j <> i) |> List.map snd

        seq {
            for i in 0 .. steps.Length - 1 do
                yield without i steps

            for i in 0 .. steps.Length - 1 do
                let step = steps[i]

                if step.Length > 1 then
                    for j in 0 .. step.Length - 1 do
                        yield List.updateAt i (without j step) steps
        }

    /// Runs `body` on a fresh loop with a watchdog that turns a hang into a failure.
    let onLoop (body: EventLoop -> Task) =
        use loop = new EventLoop()
        let watchdog = loop.CallLater(TimeSpan.FromSeconds 30.0, Action(loop.Stop))
        loop.RunUntilComplete(Func<Task>(fun () -> body loop))
        watchdog.Cancel()

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
                let op = Harness.recent ops.Count k

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
                    4, Gen.map Cancel Harness.cancelTarget
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
                    for steps in Harness.shrinkSteps s.Steps do
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

        Harness.onLoop (fun loop ->
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
                                let _, cts, _ = ops[Harness.recent ops.Count k]
                                cts.Cancel()
                        | TaskDone ->
                            try
                                queue.TaskDone()
                                results.Add "TaskDone"
                            with :? InvalidOperationException ->
                                results.Add "TaskDone throws"
                        | Shutdown immediate -> queue.Shutdown immediate

                    for _ in 1 .. Harness.turns ops.Count do
                        do! Task.Yield()

                    let states =
                        [
                            for kind, _, t in ops ->
                                match kind with
                                | KPut _ -> Harness.stateOf false PutDone t
                                | KGet -> Harness.stateOf true PutDone t
                                | KJoin -> Harness.stateOf false Joined t
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

/// The lock and semaphore model: a count of free permits, a FIFO of waiters, and hand-over at release; a
/// waiter woken and cancelled in the same step passes its permit on when the loop runs.
[<RequireQualifiedAccess>]
module PermitModel =

    type private Model(kind: PermitKind) =
        let mutable count =
            match kind with
            | Lock -> 1
            | Semaphore n
            | BoundedSemaphore n -> n

        let queued = ResizeArray<int>()
        let settleQueue = Queue<int * bool>()
        let cancelled = HashSet<int>()
        let ops = ResizeArray<OpState>()

        let rec handOver () =
            if queued.Count = 0 then
                count <- count + 1
            else
                let op = queued[0]
                queued.RemoveAt 0

                if cancelled.Contains op then
                    settleQueue.Enqueue((op, false))
                    handOver ()
                else
                    settleQueue.Enqueue((op, true))

        member _.Acquire() =
            let op = ops.Count
            ops.Add Pending

            if count > 0 then
                count <- count - 1
                ops[op] <- Acquired
            else
                queued.Add op

        member _.TryAcquire() =
            if count > 0 then
                count <- count - 1
                "TryAcquire true"
            else
                "TryAcquire false"

        member _.Release() =
            let refused =
                match kind with
                // A lock being handed to a woken waiter is held by nobody: releasing it is refused too.
                | Lock -> count >= 1 || settleQueue |> Seq.exists snd
                | Semaphore _ -> false
                | BoundedSemaphore bound -> count >= bound

            if refused then
                "Release throws"
            else
                handOver ()
                "Release"

        member _.Cancel(k: int) =
            if ops.Count > 0 then
                let op = Harness.recent ops.Count k

                if ops[op] = Pending then
                    cancelled.Add op |> ignore

        member _.Settle() =
            for op in cancelled do
                if ops[op] = Pending && queued.Remove op then
                    ops[op] <- Cancelled

            while settleQueue.Count > 0 do
                let op, granted = settleQueue.Dequeue()

                if cancelled.Contains op then
                    if granted then
                        handOver ()

                    ops[op] <- Cancelled
                else
                    ops[op] <- Acquired

        member _.Observe(results: string list) : PermitObservation =
            {
                Results = results
                Ops = List.ofSeq ops
                Available = count
            }

    /// Scenarios on a lock, a semaphore of 0 to 3 permits, or a bounded semaphore of 1 to 3.
    let scenario: Gen<PermitScenario> =
        let command =
            Gen.frequency
                [
                    5, Gen.constant Acquire
                    2, Gen.constant TryAcquire
                    5, Gen.constant Release
                    4, Gen.map CancelAcquire Harness.cancelTarget
                ]

        gen {
            let! kind =
                Gen.oneof
                    [
                        Gen.constant Lock
                        Gen.map Semaphore (Gen.choose (0, 3))
                        Gen.map BoundedSemaphore (Gen.choose (1, 3))
                    ]

            let! count = Gen.choose (1, 14)

            let! steps =
                Gen.listOfLength count (Gen.choose (1, 3) |> Gen.bind (fun n -> Gen.listOfLength n command))

            return { Kind = kind; Steps = steps }
        }

    /// Scenarios that shrink by dropping steps and commands.
    let arbitrary: Arbitrary<PermitScenario> =
        Arb.fromGenShrink (
            scenario,
            fun s ->
                seq {
                    for steps in Harness.shrinkSteps s.Steps do
                        if not steps.IsEmpty then
                            yield { s with Steps = steps }
                }
        )

    /// What the model says each step shows.
    let expected (scenario: PermitScenario) : PermitObservation list =
        let model = Model(scenario.Kind)

        [
            for step in scenario.Steps do
                let results = ResizeArray<string>()

                for command in step do
                    match command with
                    | Acquire -> model.Acquire()
                    | TryAcquire -> results.Add(model.TryAcquire())
                    | Release -> results.Add(model.Release())
                    | CancelAcquire k -> model.Cancel k

                model.Settle()
                yield model.Observe(List.ofSeq results)
        ]

    /// Runs the scenario on a real AsyncLock, AsyncSemaphore or AsyncBoundedSemaphore.
    let actual (scenario: PermitScenario) : PermitObservation list =
        let observations = ResizeArray<PermitObservation>()

        Harness.onLoop (fun loop ->
            let acquire, tryAcquire, release, available =
                match scenario.Kind with
                | Lock ->
                    let gate = AsyncLock(loop)

                    (fun (ct: CancellationToken) -> gate.AcquireAsync(ct).AsTask() :> Task),
                    (fun () -> fst (gate.TryAcquire())),
                    (fun () -> gate.Release()),
                    (fun () -> if gate.IsLocked then 0 else 1)
                | Semaphore n ->
                    let semaphore = AsyncSemaphore(loop, n)

                    (fun ct -> semaphore.AcquireAsync(ct).AsTask()),
                    semaphore.TryAcquire,
                    semaphore.Release,
                    (fun () -> semaphore.CurrentCount)
                | BoundedSemaphore n ->
                    let semaphore = AsyncBoundedSemaphore(loop, n)

                    (fun ct -> semaphore.AcquireAsync(ct).AsTask()),
                    semaphore.TryAcquire,
                    semaphore.Release,
                    (fun () -> semaphore.CurrentCount)

            let ops = ResizeArray<CancellationTokenSource * Task>()

            task {
                for step in scenario.Steps do
                    let results = ResizeArray<string>()

                    for command in step do
                        match command with
                        | Acquire ->
                            let cts = new CancellationTokenSource()
                            ops.Add((cts, acquire cts.Token))
                        | TryAcquire ->
                            results.Add(
                                if tryAcquire () then
                                    "TryAcquire true"
                                else
                                    "TryAcquire false"
                            )
                        | Release ->
                            try
                                release ()
                                results.Add "Release"
                            with
                            | :? InvalidOperationException
                            | :? SemaphoreFullException -> results.Add "Release throws"
                        | CancelAcquire k ->
                            if ops.Count > 0 then
                                let cts, _ = ops[Harness.recent ops.Count k]
                                cts.Cancel()

                    for _ in 1 .. Harness.turns ops.Count do
                        do! Task.Yield()

                    observations.Add
                        {
                            Results = List.ofSeq results
                            Ops = [ for _, t in ops -> Harness.stateOf false Acquired t ]
                            Available = available ()
                        }
            }
            :> Task)

        List.ofSeq observations

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

    /// The items put (sorted) and the items received (sorted), after the producers finished, every item was
    /// marked done, and the queue was shut down.
    let run (scenario: DualScenario) : int list * int list =
        let received = ConcurrentBag<int>()

        Harness.onLoop (fun loop ->
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
                        for _ in 1 .. scenario.ThreadConsumers ->
                            onThread (fun () ->
                                try
                                    while true do
                                        received.Add(queue.SyncSide.Get())
                                        queue.SyncSide.TaskDone()
                                with :? QueueShutDownException ->
                                    ())
                    ]

                let taskConsumers =
                    [
                        for _ in 1 .. scenario.TaskConsumers ->
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
                                        received.Add item
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

        let put =
            scenario.ThreadProducers @ scenario.TaskProducers |> List.concat |> List.sort

        put, received |> Seq.sort |> List.ofSeq
