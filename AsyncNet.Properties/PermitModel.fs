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
                let op = SyncHarness.recent ops.Count k

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
                    4, Gen.map CancelAcquire SyncHarness.cancelTarget
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
                    for steps in SyncHarness.shrinkSteps s.Steps do
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

        SyncHarness.onLoop (fun loop ->
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
                                let cts, _ = ops[SyncHarness.recent ops.Count k]
                                cts.Cancel()

                    for _ in 1 .. SyncHarness.turns ops.Count do
                        do! Task.Yield()

                    observations.Add
                        {
                            Results = List.ofSeq results
                            Ops = [ for _, t in ops -> SyncHarness.stateOf false Acquired t ]
                            Available = available ()
                        }
            }
            :> Task)

        List.ofSeq observations
