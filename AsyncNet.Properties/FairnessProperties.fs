namespace AsyncNet.Properties

// Fairness of the loop's sync primitives: whoever asks first is served first, however the contenders interleave.
// Tasks on one loop contend with random yields before asking and while holding; the order of the requests that
// had to wait is the order they are granted in.

open System
open System.Collections.Generic
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Sync

/// One contender's rounds: for each, how many loop turns it yields before asking, and how many while holding.
type Contender = { Rounds: (int * int) list }

/// Contenders for a lock, or for a semaphore of `Permits` permits.
type ContentionScenario =
    {
        Permits: int
        Contenders: Contender list
    }

/// Waiters on a condition and the notifications that wake them: `Notify k` after `Turns` loop turns.
type NotifyScenario =
    {
        Waiters: int
        Notifications: (int * int) list
    }

[<RequireQualifiedAccess>]
module FairnessGen =

    /// 2 to 6 contenders of 1 to 5 rounds, yielding 0 to 3 turns before asking and 0 to 3 while holding; 1 to 3
    /// permits.
    let contention: Gen<ContentionScenario> =
        gen {
            let! permits = Gen.choose (1, 3)
            let round = Gen.zip (Gen.choose (0, 3)) (Gen.choose (0, 3))

            let! contenders =
                Gen.choose (2, 6)
                |> Gen.bind (fun n ->
                    Gen.listOfLength n (Gen.choose (1, 5) |> Gen.bind (fun r -> Gen.listOfLength r round)))

            return
                {
                    Permits = permits
                    Contenders = contenders |> List.map (fun rounds -> { Rounds = rounds })
                }
        }

    /// 1 to 8 waiters, and notifications of 1 to 3 each after 0 to 2 turns, enough to wake them all.
    let notify: Gen<NotifyScenario> =
        gen {
            let! waiters = Gen.choose (1, 8)

            let! notifications =
                Gen.listOfLength waiters (Gen.zip (Gen.choose (1, 3)) (Gen.choose (0, 2)))

            return
                {
                    Waiters = waiters
                    Notifications = notifications
                }
        }

[<RequireQualifiedAccess>]
module FairnessProperties =

    let private turns (loop: EventLoop) (count: int) : Task =
        task {
            for _ in 1..count do
                do! loop.SleepAsync TimeSpan.Zero
        }

    let private onLoop (work: EventLoop -> Task<'T>) : 'T =
        use loop = new EventLoop()
        let watchdog = loop.CallLater(TimeSpan.FromSeconds 20.0, Action(loop.Stop))
        let result = loop.RunUntilComplete(Func<Task<'T>>(fun () -> work loop))
        watchdog.Cancel()
        result

    /// Runs the contenders against `acquire`/`release`; returns the requests that had to wait (their acquire did not
    /// complete at once), in asking order, the same requests in granting order, and the most holders seen at once.
    let private contend
        (scenario: ContentionScenario)
        (acquire: unit -> Task)
        (release: unit -> unit)
        (loop: EventLoop)
        =
        task {
            let waited = List<int * int>()
            let granted = List<int * int>()
            let mutable holders = 0
            let mutable most = 0

            let run (id: int) (contender: Contender) : Task =
                task {
                    for index, (before, holding) in List.indexed contender.Rounds do
                        do! turns loop before
                        let acquiring = acquire ()
                        let mustWait = not acquiring.IsCompleted

                        if mustWait then
                            waited.Add((id, index))

                        do! acquiring

                        if mustWait then
                            granted.Add((id, index))

                        holders <- holders + 1
                        most <- max most holders
                        do! turns loop holding
                        holders <- holders - 1
                        release ()
                }

            do! Task.WhenAll(scenario.Contenders |> List.mapi run)
            return List.ofSeq waited, List.ofSeq granted, most
        }

    let private fairness
        (name: string)
        (permits: int)
        (waited: (int * int) list, granted: (int * int) list, most: int)
        =
        (waited = granted && most <= permits)
        |> Prop.label $"{name} of {permits}: waited %A{waited}, granted %A{granted}, at most {most} holders"
        |> Prop.classify (waited.Length > 2) "three or more waited"

    /// The law: the lock is granted in the order its waiters asked, and to one holder at a time.
    let lockIsFifo (scenario: ContentionScenario) : Property =
        let result =
            onLoop (fun loop ->
                let gate = AsyncLock(loop)

                contend scenario (fun () -> gate.AcquireAsync().AsTask()) gate.Release loop)

        fairness "lock" 1 result

    /// The law: a semaphore's permits go to its waiters in the order they asked (no late-comer takes a permit while
    /// others wait), and never to more holders than it has permits.
    let semaphoreIsFifo (scenario: ContentionScenario) : Property =
        let result =
            onLoop (fun loop ->
                let semaphore = AsyncSemaphore(loop, scenario.Permits)
                contend scenario (fun () -> semaphore.AcquireAsync().AsTask()) semaphore.Release loop)

        fairness "semaphore" scenario.Permits result

    /// The law: a condition's waiters wake in the order they began waiting, `Notify k` waking exactly the next k.
    let conditionWakesInWaitOrder (scenario: NotifyScenario) : Property =
        let woken, expected =
            onLoop (fun loop ->
                task {
                    let condition = AsyncCondition(loop)
                    let woken = List<int>()
                    let expected = List<int list>()

                    let waiter (id: int) : Task =
                        task {
                            let! _ = condition.AcquireAsync()
                            do! condition.WaitAsync()
                            woken.Add id
                            condition.Release()
                        }

                    let waiters = [ for id in 0 .. scenario.Waiters - 1 -> waiter id ]
                    do! turns loop 2
                    let mutable next = 0
                    let rounds = List<int list * int list>()

                    for count, pause in scenario.Notifications do
                        do! turns loop pause
                        let before = woken.Count
                        let! _ = condition.AcquireAsync()
                        condition.Notify count
                        condition.Release()
                        do! turns loop (4 * count + 4)
                        let wake = [ next .. min (scenario.Waiters - 1) (next + count - 1) ]
                        next <- next + wake.Length
                        expected.Add wake
                        rounds.Add((List.ofSeq woken |> List.skip before, wake))

                    let! _ = condition.AcquireAsync()
                    condition.NotifyAll()
                    condition.Release()
                    do! Task.WhenAll waiters
                    return List.ofSeq rounds, List.ofSeq expected
                })

        let mismatches = woken |> List.filter (fun (actual, wanted) -> actual <> wanted)

        List.isEmpty mismatches
        |> Prop.label $"%A{scenario}: each Notify woke (actual, expected) %A{woken}"
        |> Prop.classify (expected |> List.exists (fun w -> w.Length > 1)) "Notify of several"
