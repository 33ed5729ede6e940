namespace AsyncNet.Properties

open System
open System.Threading
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop

/// A clock that moves only when told: give it to a loop (EventLoopOptions.TimeProvider) to run timers
/// without sleeping.
type ManualClock() =
    inherit TimeProvider()
    let mutable ticks = 0L
    override _.TimestampFrequency = TimeSpan.TicksPerSecond
    override _.GetTimestamp() = Interlocked.Read &ticks

    /// Moves the clock forward.
    member _.Advance(by: TimeSpan) =
        Interlocked.Add(&ticks, by.Ticks) |> ignore

/// One timer of a schedule: when it is due (ms from now), whether it is cancelled before the loop runs,
/// and which other timers (by index) it cancels when it fires.
type TimerSpec =
    {
        DueMs: int
        CancelledUpFront: bool
        CancelsWhenFired: int list
    }

/// A model of the loop's timer rules: due time first, then scheduling order; a cancelled timer never runs.
[<RequireQualifiedAccess>]
module TimerModel =

    /// Schedules of up to `maxTimers` timers with due times in a small range, so equal times are common.
    let schedule (maxTimers: int) : Gen<TimerSpec list> =
        Gen.sized (fun size ->
            gen {
                let! count = Gen.choose (0, min maxTimers (size + 1))

                let timer =
                    gen {
                        let! due = Gen.choose (0, 5)
                        let! cancelled = Gen.frequency [ 4, Gen.constant false; 1, Gen.constant true ]

                        let! cancels =
                            if count = 0 then
                                Gen.constant []
                            else
                                Gen.frequency [ 3, Gen.constant []; 1, Gen.listOf (Gen.choose (0, count - 1)) ]

                        return
                            {
                                DueMs = due
                                CancelledUpFront = cancelled
                                CancelsWhenFired = cancels
                            }
                    }

                return! Gen.listOfLength count timer
            })

    /// The indices of the timers that fire, in firing order, according to the rules.
    let expectedFirings (timers: TimerSpec list) : int list =
        let order = timers |> List.indexed |> List.sortBy (fun (i, t) -> t.DueMs, i)
        let cancelled = Collections.Generic.HashSet<int>()

        timers
        |> List.iteri (fun i t ->
            if t.CancelledUpFront then
                cancelled.Add i |> ignore)

        [
            for i, t in order do
                if not (cancelled.Contains i) then
                    yield i

                    for j in t.CancelsWhenFired do
                        cancelled.Add j |> ignore
        ]

    /// Runs the schedule on a real EventLoop with a manual clock and returns the firing order.
    let actualFirings (timers: TimerSpec list) : int list =
        let clock = ManualClock()
        use loop = new EventLoop(EventLoopOptions(TimeProvider = clock))
        let fired = Collections.Generic.List<int>()
        let handles = Array.zeroCreate<TimerHandle>(List.length timers)

        timers
        |> List.iteri (fun i t ->
            handles[i] <-
                loop.CallLater(
                    TimeSpan.FromMilliseconds(float t.DueMs),
                    (fun () ->
                        fired.Add i

                        for j in t.CancelsWhenFired do
                            handles[j].Cancel())
                ))

        timers
        |> List.iteri (fun i t ->
            if t.CancelledUpFront then
                handles[i].Cancel())
        // Scheduled last and due last, so it runs after every timer of the schedule, in the same iteration.
        loop.CallLater(TimeSpan.FromMilliseconds 6.0, Action(loop.Stop)) |> ignore
        clock.Advance(TimeSpan.FromMilliseconds 10.0)
        loop.RunForever()
        List.ofSeq fired

    /// The law: the loop fires exactly the model's timers, in the model's order.
    let firesInModelOrder (timers: TimerSpec list) : bool =
        actualFirings timers = expectedFirings timers
