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

/// Helpers shared by the sync models (QueueModel, PermitModel, DualQueueModel).
[<RequireQualifiedAccess>]
module internal SyncHarness =

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
