module AsyncNet.Properties.Tests.ReaderLimitProperties

open FsCheck.FSharp
open AsyncNet.Properties

[<ScaledProperty(300)>]
let ``ReadUntil returns iff at most limit bytes precede the separator, and keeps every byte when it overruns`` () =
    Soak.forAll (Arb.fromGen (ReaderLimitGen.edge None)) ReaderLimitProperties.readUntilHonoursTheLimitExactly

[<ScaledProperty(300)>]
let ``ReadLine returns a line of at most limit bytes and discards a longer one through its newline`` () =
    Soak.forAll
        (Arb.fromGen (ReaderLimitGen.edge (Some [| byte '\n' |])))
        ReaderLimitProperties.readLineHonoursTheLimitExactly
