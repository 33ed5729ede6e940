namespace AsyncNet.Properties

// Fault plans for AsyncNet's syscall seam (AsyncNet.Testing.Syscalls): lists of rules that FsCheck generates and
// shrinks, turned into a SyscallSchedule only when a run starts.

open System
open System.Net.Sockets
open FsCheck
open FsCheck.FSharp
open AsyncNet.Testing.Syscalls

/// One rule of a fault plan: the calls numbered `First` to `First + Count - 1` of each of `Kinds` get `Fault`.
type FaultRule =
    {
        Kinds: SyscallKind
        First: int
        Count: int
        Fault: SyscallFault
    }

    override this.ToString() =
        let calls =
            if this.Count = 1 then $"#{this.First}"
            elif this.Count = Int32.MaxValue then $"#{this.First}.."
            else $"#{this.First}..#{this.First + this.Count - 1}"

        $"{this.Kinds} {calls}: {this.Fault}"

/// Rules in order (for each call the first that names a fault wins).
type FaultPlan =
    {
        Rules: FaultRule list
    }

    /// The schedule to inject.
    member this.Schedule: SyscallSchedule =
        SyscallSchedule.Combine(
            this.Rules
            |> List.map (fun r -> SyscallSchedule.Calls(r.Kinds, r.First, r.Count, r.Fault))
            |> Array.ofList
        )

    /// The errors of its rules that end an operation (not EINTR or EAGAIN).
    member this.TerminalErrors =
        this.Rules
        |> List.filter (fun r -> not r.Fault.IsTransient)
        |> List.map (fun r -> r.Fault.Error)
        |> List.distinct

    override this.ToString() =
        if this.Rules.IsEmpty then
            "no faults"
        else
            String.Join("; ", this.Rules)

/// Generators and shrinkers of fault plans. Public, so users can put the same plans under their own protocols.
[<RequireQualifiedAccess>]
module SyscallGen =

    /// Where a run of faults starts: early, where every run has calls. Accepts and connects are few per run (one per
    /// connection), so those start among the first three; transfers and waits sometimes much later.
    let private firstCall (kind: SyscallKind) : Gen<int> =
        if
            kind = SyscallKind.Accept
            || kind = SyscallKind.Connect
            || kind = SyscallKind.ConnectResult
        then
            Gen.choose (1, 3)
        else
            Gen.frequency [ 4, Gen.choose (1, 4); 2, Gen.choose (5, 30); 1, Gen.choose (31, 100) ]

    let private rule kinds first count fault =
        {
            Kinds = kinds
            First = first
            Count = count
            Fault = fault
        }

    /// Byte limits of a partial transfer: single bytes most often (the worst case), odd sizes, a full-ish buffer.
    let byteLimit: Gen<SyscallFault> =
        Gen.frequency
            [
                3, Gen.constant 1
                2, Gen.elements [ 2; 3; 7 ]
                1, Gen.elements [ 100; 1000; 4096 ]
            ]
        |> Gen.map SyscallFault.AtMost

    /// A short run (or a storm) of EINTR or EAGAIN on some of `kinds`' calls: never an endless one, which would stop the
    /// caller for good.
    let transientRun (kinds: SyscallKind list) : Gen<FaultRule> =
        gen {
            let! kind = Gen.elements kinds
            let! first = firstCall kind
            let! count = Gen.frequency [ 4, Gen.choose (1, 4); 1, Gen.choose (5, 60) ]

            let! fault =
                if kind = SyscallKind.SelectorWait then
                    Gen.constant SyscallFault.Interrupted
                else
                    Gen.elements [ SyscallFault.Interrupted; SyscallFault.WouldBlock ]

            return rule kind first count fault
        }

    /// Every send, every receive, or both, cut to a byte limit from the first call on.
    let partialTransfers: Gen<FaultRule> =
        gen {
            let! kinds =
                Gen.elements
                    [
                        SyscallKind.Send
                        SyscallKind.Receive
                        SyscallKind.Send ||| SyscallKind.Receive
                    ]

            let! limit = byteLimit
            return rule kinds 1 Int32.MaxValue limit
        }

    /// Plans of transient faults only (EINTR, EAGAIN storms, partial transfers) on calls of `kinds`: under them a correct
    /// program behaves exactly as without them.
    let transientPlan (kinds: SyscallKind list) : Gen<FaultPlan> =
        gen {
            let! runs =
                Gen.choose (0, 5) |> Gen.bind (fun n -> Gen.listOfLength n (transientRun kinds))

            let! partial =
                if List.exists (fun k -> k = SyscallKind.Send || k = SyscallKind.Receive) kinds then
                    Gen.frequency [ 1, Gen.constant []; 2, partialTransfers |> Gen.map List.singleton ]
                else
                    Gen.constant []

            // Runs first: a would-block on a call also cut to a byte limit is still a would-block.
            return { Rules = runs @ partial }
        }

    /// One error that ends an operation, on one call of one of `errors`' kinds, within its first `within` calls (most
    /// often among the first few, which every run makes).
    let terminalRule (within: int) (errors: (SyscallKind * SocketError list) list) : Gen<FaultRule> =
        gen {
            let! kind, choices = Gen.elements errors
            let! error = Gen.elements choices

            let! first =
                Gen.frequency [ 3, Gen.choose (1, min 3 within); 1, Gen.choose (1, within) ]

            return rule kind first 1 (SyscallFault.Fail error)
        }

    /// A transient plan plus one or two errors from `errors` among the first `within` calls of their kind.
    let terminalPlan
        (kinds: SyscallKind list)
        (within: int)
        (errors: (SyscallKind * SocketError list) list)
        : Gen<FaultPlan> =
        gen {
            let! transient = transientPlan kinds

            let! terminal =
                Gen.choose (1, 2)
                |> Gen.bind (fun n -> Gen.listOfLength n (terminalRule within errors))

            return { Rules = terminal @ transient.Rules }
        }

    /// Smaller plans: one rule fewer, or a rule over fewer calls, starting sooner, or with a larger byte limit.
    let shrinkPlan (plan: FaultPlan) : FaultPlan seq =
        seq {
            for i in 0 .. plan.Rules.Length - 1 do
                yield { Rules = List.removeAt i plan.Rules }

            for i, r in List.indexed plan.Rules do
                let replace r' =
                    {
                        Rules = List.updateAt i r' plan.Rules
                    }

                if r.Count > 1 && r.Count < Int32.MaxValue then
                    yield replace { r with Count = r.Count / 2 }

                if r.First > 1 then
                    yield replace { r with First = r.First / 2 }

                if r.Fault.Error = SocketError.Success && r.Fault.MaxBytes < 4096 then
                    yield
                        replace
                            { r with
                                Fault = SyscallFault.AtMost(r.Fault.MaxBytes * 2)
                            }
        }
