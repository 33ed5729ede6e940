namespace AsyncNet.Properties

// The wire laws for C# tests (and for F# tests that want the shrunk case as data): runs each law's verdict over
// generated cases, shrinks the first failure greedily with the same shrinkers the FsCheck properties use, and returns
// a report object. No F# types in what a caller writes or reads: Func, IReadOnlyList, arrays, Nullable.

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open FsCheck
open FsCheck.FSharp

/// How much a WireLawRunner check tries.
[<Sealed>]
type WireLawOptions() =
    /// Cases per law. The default is 200.
    member val MaxTests = 200 with get, set

    /// At most this many smaller cases are tried while shrinking a failure. The default is 2,000.
    member val MaxShrinkAttempts = 2000 with get, set

    /// The seed, so a run can be repeated exactly; null for a random one. The default is null.
    member val Seed = Nullable<uint64>() with get, set

    /// The laws to check, in order; the first that fails is reported. The default is every law.
    member val Laws: IReadOnlyList<WireLaw> = Array.AsReadOnly(Enum.GetValues<WireLaw>()) with get, set

/// The smallest failing case found for one law, as bytes a test can replay.
[<Sealed>]
type WireLawFailure<'T>
    internal
    (
        law: WireLaw,
        reason: string,
        messages: IReadOnlyList<'T>,
        chunks: IReadOnlyList<byte array>,
        badBytes: byte array | null,
        test: int,
        shrinks: int,
        seed: uint64,
        report: string
    ) =
    /// The law that failed.
    member _.Law = law
    /// Why the smallest case fails, in words.
    member _.Reason = reason
    /// The valid messages of the smallest case, in stream order (for a truncated stream, the cut one last).
    member _.Messages = messages
    /// The chunks the smallest case was fed in, exactly (empty ones included).
    member _.Chunks = chunks
    /// The whole stream: the chunks concatenated.
    member _.Bytes: byte array = chunks |> Seq.concat |> Seq.toArray
    /// The invalid bytes in the stream, for a FaultOrder or Bounded failure with them; else null.
    member _.BadBytes = badBytes
    /// Which test (from 1) failed first.
    member _.Test = test
    /// How many smaller failing cases shrinking stepped through.
    member _.Shrinks = shrinks
    /// The seed the run used.
    member _.Seed = seed
    /// The whole report: the law, the reason, the messages, the chunks as text and as hex.
    override _.ToString() = report

/// Thrown by WireLawReport.ThrowIfFailed: a wire law does not hold; the message is the report.
type WireLawException(message: string) =
    inherit Exception(message)

/// What a WireLawRunner check found: every law held for every case tried, or the smallest failing case of the first
/// law that did not.
[<Sealed>]
type WireLawReport<'T> internal (format: string, tests: int, failure: WireLawFailure<'T> | null) =
    /// Whether every law held.
    member _.Passed = isNull failure
    /// The failure, or null when every law held.
    member _.Failure = failure
    /// How many cases were tried in all.
    member _.Tests = tests
    /// A readable report: what passed, or the failure with its shrunk case as bytes.
    member _.Report =
        match failure with
        | null -> $"Every wire law holds for {format} ({tests} cases)."
        | f -> string f
    /// Throws WireLawException with the report when a law failed.
    member this.ThrowIfFailed() =
        if not this.Passed then
            raise (WireLawException this.Report)
    /// The report.
    override this.ToString() = this.Report

/// Runs the wire laws over a user's format from C#: `WireLawRunner.Check(format).ThrowIfFailed()`.
[<AbstractClass; Sealed>]
type WireLawRunner =

    /// Runs one law: cases until one fails, then shrinks it. Returns the case, why, the test number and the shrinks.
    static member internal Search
        (
            generator: Gen<'Case>,
            shrink: 'Case -> seq<'Case>,
            verdict: 'Case -> string option,
            options: WireLawOptions,
            seed: uint64
        ) : ('Case * string * int * int) option * int =
        let mutable tests = 0
        let mutable found = None

        while found.IsNone && tests < options.MaxTests do
            // Sizes grow over the run, as FsCheck's runner does: small cases first.
            let size = tests * 100 / max 1 options.MaxTests
            let rnd = Rnd(seed + uint64 tests * 0x9E3779B97F4A7C15UL)
            let case = Gen.sampleWithSeed rnd size 1 generator |> Array.head
            tests <- tests + 1

            match verdict case with
            | None -> ()
            | Some why ->
                let mutable smallest = case
                let mutable reason = why
                let mutable shrinks = 0
                let mutable attempts = 0
                let mutable progress = true

                while progress && attempts < options.MaxShrinkAttempts do
                    progress <- false

                    let next =
                        shrink smallest
                        |> Seq.takeWhile (fun _ ->
                            attempts <- attempts + 1
                            attempts <= options.MaxShrinkAttempts)
                        |> Seq.tryPick (fun candidate -> verdict candidate |> Option.map (fun r -> candidate, r))

                    match next with
                    | Some(candidate, r) ->
                        smallest <- candidate
                        reason <- r
                        shrinks <- shrinks + 1
                        progress <- true
                    | None -> ()

                found <- Some(smallest, reason, tests, shrinks)

        found, tests

    static member private Failure
        (
            format: WireFormat<'T>,
            law: WireLaw,
            reason: string,
            messages: 'T list,
            bytes: byte array,
            plan: int list,
            bad: byte array | null,
            test: int,
            shrinks: int,
            seed: uint64
        ) =
        let chunks = WireRun.chunks plan bytes

        let hex =
            chunks
            |> List.map (fun c -> if c.Length = 0 then "(empty)" else Convert.ToHexString(c))
            |> String.concat " | "

        let badLine =
            match bad with
            | null -> ""
            | b -> $"{Environment.NewLine}  bad bytes: {WireRun.showBytes (ReadOnlySpan b)}"

        let report =
            String.concat
                Environment.NewLine
                [
                    $"Wire law {law} fails for {format.Name} (test {test}, seed {seed}, {shrinks} shrinks):"
                    $"  {reason}"
                    $"  messages: {WireRun.showMessages format messages}{badLine}"
                    $"  chunks:   {WireRun.showChunks plan bytes}"
                    $"  hex:      {hex}"
                ]

        WireLawFailure<'T>(
            law,
            reason,
            Array.AsReadOnly(List.toArray messages),
            Array.AsReadOnly(List.toArray chunks),
            bad,
            test,
            shrinks,
            seed,
            report
        )

    /// <summary>Checks the wire laws on a format, with the options given.</summary>
    /// <param name="format">The format: its encoder, its decoder, its messages and what the decoder promises.</param>
    /// <param name="options">How much to try; null for the defaults (200 cases per law, every law, a random seed).</param>
    /// <returns>The report: passed, or the smallest failing case of the first law that failed.</returns>
    static member Check
        (format: WireFormat<'T>, [<Optional; DefaultParameterValue(null: WireLawOptions | null)>] options: WireLawOptions | null)
        : WireLawReport<'T> =
        ArgumentNullException.ThrowIfNull(format, nameof format)

        let options =
            match options with
            | null -> WireLawOptions()
            | o -> o

        let seed =
            if options.Seed.HasValue then
                options.Seed.Value
            else
                uint64 (Random.Shared.NextInt64())

        let mutable tests = 0
        let mutable failure: WireLawFailure<'T> | null = null

        let valid law verdict =
            match WireLawRunner.Search(WireGen.case format, WireGen.shrinkCase format, verdict, options, seed) with
            | Some(case, why, test, shrinks), n ->
                tests <- tests + n
                let bytes = WireRun.encodeAll format case.Messages
                failure <- WireLawRunner.Failure(format, law, why, case.Messages, bytes, case.Chunks, null, test, shrinks, seed)
            | None, n -> tests <- tests + n

        let faulty law verdict =
            if not (isNull format.Invalid) then
                match
                    WireLawRunner.Search(WireGen.faultCase format, WireGen.shrinkFaultCase format, verdict, options, seed)
                with
                | Some(case, why, test, shrinks), n ->
                    tests <- tests + n

                    let bytes =
                        Array.concat
                            [
                                WireRun.encodeAll format case.Earlier
                                case.Bad
                                WireRun.encodeAll format case.Later
                            ]

                    failure <-
                        WireLawRunner.Failure(
                            format,
                            law,
                            why,
                            case.Earlier @ case.Later,
                            bytes,
                            case.Chunks,
                            case.Bad,
                            test,
                            shrinks,
                            seed
                        )
                | None, n -> tests <- tests + n

        for law in options.Laws do
            if isNull failure then
                match law with
                | WireLaw.RoundTrip -> valid law (WireLaws.roundTripVerdict format)
                | WireLaw.Consumption -> valid law (WireLaws.consumptionVerdict format)
                | WireLaw.Bounded ->
                    valid law (WireLaws.boundedVerdict format)

                    if isNull failure then
                        faulty law (WireLaws.boundedOnFaultVerdict format)
                | WireLaw.FaultOrder -> faulty law (WireLaws.faultOrderVerdict format)
                | WireLaw.Truncation ->
                    match
                        WireLawRunner.Search(
                            WireGen.truncatedCase format,
                            WireGen.shrinkTruncatedCase format,
                            WireLaws.truncationVerdict format,
                            options,
                            seed
                        )
                    with
                    | Some(case, why, test, shrinks), n ->
                        tests <- tests + n
                        let cut = format.Encode.Invoke case.Cut

                        let bytes =
                            Array.append (WireRun.encodeAll format case.Complete) cut[.. case.Kept - 1]

                        failure <-
                            WireLawRunner.Failure(
                                format,
                                law,
                                why,
                                case.Complete @ [ case.Cut ],
                                bytes,
                                case.Chunks,
                                null,
                                test,
                                shrinks,
                                seed
                            )
                    | None, n -> tests <- tests + n
                | other -> invalidArg (nameof options) $"{other} is not a WireLaw."

        WireLawReport<'T>(format.Name, tests, failure)
