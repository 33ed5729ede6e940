namespace AsyncNet.Properties.Tests

open System
open System.Diagnostics
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open Xunit.Sdk

/// What `./build.sh soak` changes for the properties: their case counts, and a time budget per property.
[<RequireQualifiedAccess>]
module Soak =
    let private intFromEnvironment name fallback =
        match Environment.GetEnvironmentVariable name with
        | null
        | "" -> fallback
        | text -> Int32.Parse(text, Globalization.CultureInfo.InvariantCulture)

    /// How many times its declared cases each property runs: ASYNCNET_SOAK_FACTOR, 1 unless soaking.
    let factor = max 1 (intFromEnvironment "ASYNCNET_SOAK_FACTOR" 1)

    /// Whether this is a soak run.
    let isOn = factor > 1

    /// The time one property may spend on cases in a soak run (ASYNCNET_SOAK_PROPERTY_SECONDS, default 15 s):
    /// past it, the remaining cases pass as trivial, so the whole soak stays bounded in time.
    let budget =
        TimeSpan.FromSeconds(float (intFromEnvironment "ASYNCNET_SOAK_PROPERTY_SECONDS" 15))

    /// One property's soak state: its clock, started by its first case, and the last value it drew.
    type private Budget() =
        member val Clock = Stopwatch.StartNew()
        member val Last: obj option = None with get, set
        member this.Spent = this.Clock.Elapsed > budget

    // FsCheck.Xunit calls a property's method once per case, so state made inside `forAll` would start afresh every
    // case: it is kept per law closure type instead, which is one per call site (one per property).
    let private budgets = Collections.Concurrent.ConcurrentDictionary<Type, Budget>()

    let private budgetOf (law: obj) =
        budgets.GetOrAdd(law.GetType(), fun _ -> Budget())

    /// `Prop.forAll`, bounded in a soak run by the property's time budget (see `budget`); unchanged otherwise. Past the
    /// budget, the remaining cases repeat a value already drawn instead of drawing new ones (drawing a large scenario
    /// is itself costly) and pass as trivial.
    let forAll (arb: Arbitrary<'T>) (law: 'T -> 'Testable) : Property =
        if not isOn then
            Prop.forAll arb law
        else
            let state = budgetOf law

            let draw =
                Gen.sized (fun _ ->
                    match state.Last with
                    | Some(:? 'T as value) when state.Spent -> Gen.constant value
                    | _ ->
                        arb.Generator
                        |> Gen.map (fun value ->
                            match box value with
                            | null -> ()
                            | drawn -> state.Last <- Some drawn

                            value))

            Prop.forAll (Arb.fromGenShrink (draw, arb.Shrinker)) (fun value ->
                if state.Spent then
                    Prop.ofTestable true |> Prop.trivial true
                else
                    Prop.ofTestable (law value))

    /// A property that draws its own cases (`property ()` builds it), bounded like `forAll`: each of its cases is one
    /// case here.
    let bounded (property: unit -> Property) =
        if isOn && (budgetOf property).Spent then
            Prop.ofTestable true |> Prop.trivial true
        else
            property ()

/// An FsCheck property whose case count a soak run multiplies by `Soak.factor`: `[<ScaledProperty(200)>]` runs 200
/// cases in the normal suite and 20,000 in `./build.sh soak` (ASYNCNET_SOAK_FACTOR=100). Every property of this
/// project uses it (a test checks that).
[<AttributeUsage(AttributeTargets.Method, AllowMultiple = false)>]
[<XunitTestCaseDiscoverer("FsCheck.Xunit.PropertyDiscoverer", "FsCheck.Xunit")>]
type ScaledPropertyAttribute(maxTest: int) as this =
    inherit PropertyAttribute()
    do this.MaxTest <- maxTest * Soak.factor

    /// The case count in the normal suite.
    member _.Cases = maxTest
