module AsyncNet.Properties.Tests.HalfCloseProperties

open FsCheck.FSharp
open AsyncNet.Properties

[<ScaledProperty(40)>]
let ``WriteEof, Close and Abort after partial writes keep their order: all then EOF, all then EOF, a prefix`` () =
    Soak.forAll (Arb.fromGen HalfCloseGen.scenario) HalfCloseProperties.endingsKeepTheirOrder
