module AsyncNet.Properties.Tests.SelectorProperties

open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties
open AsyncNet.Selectors

let private agrees kind =
    Prop.forAll
        (Arb.fromGen SelectorModel.commands)
        (SelectorModel.agreesWithModel (fun () -> SelectorFactory.Create kind))

[<Property(MaxTest = 60)>]
let ``epoll selector register, modify and unregister agree with a dictionary model`` () = agrees SelectorKind.Epoll

[<Property(MaxTest = 60)>]
let ``poll selector register, modify and unregister agree with a dictionary model`` () = agrees SelectorKind.Poll

[<Property(MaxTest = 60)>]
let ``portable selector register, modify and unregister agree with a dictionary model`` () =
    agrees SelectorKind.Portable
