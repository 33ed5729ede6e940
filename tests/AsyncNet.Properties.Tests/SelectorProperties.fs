module AsyncNet.Properties.Tests.SelectorProperties

open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties
open AsyncNet.Selectors

let private agrees kind =
    Soak.forAll
        (Arb.fromGen SelectorModel.commands)
        (SelectorModel.agreesWithModel (fun () -> SelectorFactory.Create kind))

[<ScaledProperty(60)>]
let ``epoll selector register, modify and unregister agree with a dictionary model`` () = agrees SelectorKind.Epoll

[<ScaledProperty(60)>]
let ``poll selector register, modify and unregister agree with a dictionary model`` () = agrees SelectorKind.Poll

[<ScaledProperty(60)>]
let ``portable selector register, modify and unregister agree with a dictionary model`` () =
    agrees SelectorKind.Portable
