module AsyncNet.Properties.Tests.PropertySuiteTests

open System.Reflection
open FsCheck.Xunit
open Xunit

/// Every property of this project scales with `./build.sh soak`: a plain `[<Property>]` would run its normal case
/// count there, unnoticed.
[<Fact>]
let ``every property of the suite is a ScaledProperty`` () =
    let properties =
        Assembly.GetExecutingAssembly().GetTypes()
        |> Array.collect (fun t -> t.GetMethods(BindingFlags.Public ||| BindingFlags.Static ||| BindingFlags.Instance))
        |> Array.choose (fun m ->
            m.GetCustomAttribute<PropertyAttribute>(true)
            |> Option.ofObj
            |> Option.map (fun a -> m, a))

    Assert.True(properties.Length >= 22, $"only {properties.Length} properties found")

    let plain =
        properties
        |> Array.filter (fun (_, attribute) -> not (attribute :? ScaledPropertyAttribute))
        |> Array.map (fun (m, _) -> m.Name)

    Assert.True(
        Array.isEmpty plain,
        "Use [<ScaledProperty(cases)>] instead of [<Property>] for: "
        + String.concat ", " plain
    )
