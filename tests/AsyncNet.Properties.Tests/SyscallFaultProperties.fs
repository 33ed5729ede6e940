[<Xunit.Collection("Socket counting")>]
module AsyncNet.Properties.Tests.SyscallFaultProperties

// The syscall-fault laws over real loopback sockets. They count the process's sockets before and after each run, so
// they run alone (a collection without parallelisation); the project turns the fault switch on in its project file.

open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open AsyncNet.Properties

[<Xunit.CollectionDefinition("Socket counting", DisableParallelization = true)>]
type SocketCountingCollection() = class end

let private clients = Arb.fromGen (Gen.choose (1, 3))

[<ScaledProperty(40)>]
let ``transient faults under a protocol client change nothing it sees`` () =
    Prop.forAll SyscallScenarios.clientTransient SyscallFaultProperties.transientFaultsUnderAProtocolClientAreInvisible

[<ScaledProperty(40)>]
let ``transient faults under StreamReader and StreamWriter change nothing they see`` () =
    Prop.forAll SyscallScenarios.clientTransient SyscallFaultProperties.transientFaultsUnderStreamsAreInvisible

[<ScaledProperty(40)>]
let ``a terminal fault under a protocol client surfaces as its documented exception, after a prefix`` () =
    Prop.forAll
        SyscallScenarios.clientTerminal
        SyscallFaultProperties.terminalFaultsUnderAProtocolClientSurfaceAsTheirDocumentedException

[<ScaledProperty(40)>]
let ``a terminal fault under StreamReader and StreamWriter reaches reads, drains and WaitClosedAsync as its documented exception``
    ()
    =
    Prop.forAll
        SyscallScenarios.clientTerminal
        SyscallFaultProperties.terminalFaultsUnderStreamsSurfaceAsTheirDocumentedException

[<ScaledProperty(30)>]
let ``transient faults under a server, accepts included, change nothing its clients see`` () =
    Prop.forAll SyscallScenarios.serverTransient (fun scenario ->
        Prop.forAll clients (SyscallFaultProperties.transientFaultsUnderAServerAreInvisible scenario))

[<ScaledProperty(30)>]
let ``faults under a server cost at most one client per connection error, and failed accepts none`` () =
    Prop.forAll SyscallScenarios.serverTerminal (fun scenario ->
        Prop.forAll clients (SyscallFaultProperties.serverFaultsCostAtMostOneClientEach scenario))

[<ScaledProperty(30)>]
let ``every connect succeeds and carries its echo, or fails as documented, once per injected error`` () =
    Prop.forAll SyscallScenarios.connects (fun scenario ->
        Prop.forAll
            (Arb.fromGen (Gen.choose (1, 4)))
            (SyscallFaultProperties.everyConnectSucceedsOrFailsAsDocumented scenario))

[<ScaledProperty(40)>]
let ``under faults each datagram arrives whole, once and in order, or its sender is told`` () =
    Prop.forAll SyscallScenarios.datagrams SyscallFaultProperties.datagramsArriveWholeOnceInOrderOrTheirSenderIsTold

[<ScaledProperty(40)>]
let ``interrupted selector waits lose no timer and fire none early`` () =
    Prop.forAll SyscallScenarios.timers SyscallFaultProperties.interruptedWaitsLoseNoTimer
