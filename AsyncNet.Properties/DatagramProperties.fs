namespace AsyncNet.Properties

// Laws of the datagram transports over real loopback sockets (UDP on 127.0.0.1 and ::1, Unix datagram sockets):
// boundaries and order survive, and Close flushes what is queued while Abort drops it, each ending in one
// connection-lost.

open System
open System.Collections.Generic
open System.IO
open System.Net
open System.Net.Sockets
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Transports

/// Which datagram sockets a scenario runs over.
[<RequireQualifiedAccess>]
type DatagramFamily =
    | Udp4
    | Udp6
    | Unix

/// How the sender ends after its burst.
[<RequireQualifiedAccess>]
type DatagramEnding =
    | Close
    | Abort

/// A burst of datagrams from one endpoint to another, then the sender's ending.
type DatagramScenario =
    {
        Family: DatagramFamily
        Payloads: byte array list
        Ending: DatagramEnding
    }

/// A datagram protocol that records what reaches it, for the laws.
type RecordingDatagramProtocol() =
    let received = List<byte array * EndPoint>()

    let lost =
        TaskCompletionSource<exn option>(TaskCreationOptions.RunContinuationsAsynchronously)

    let mutable lostCount = 0

    /// Every datagram received, with its sender, in arrival order.
    member _.Received = received

    /// Completes with connection-lost's error (None for a clean close).
    member _.Lost = lost.Task

    /// How many times connection-lost was called.
    member _.LostCount = lostCount

    interface IDatagramProtocol with
        member _.ConnectionMade(_: ITransport) = ()

        member _.ConnectionLost(error: exn | null) =
            lostCount <- lostCount + 1
            lost.TrySetResult(Option.ofObj error) |> ignore

        member _.DatagramReceived(data: ReadOnlySpan<byte>, from: EndPoint) = received.Add((data.ToArray(), from))

[<RequireQualifiedAccess>]
module DatagramGen =

    /// Bursts of 1 to 30 datagrams of 0 to 2 KiB (at most 48 KiB in all, well inside a loopback receive buffer,
    /// so UDP drops nothing), over each family, closed or aborted.
    let scenario: Gen<DatagramScenario> =
        gen {
            let! family =
                Gen.elements [ DatagramFamily.Udp4; DatagramFamily.Udp6; DatagramFamily.Unix ]

            let! count = Gen.choose (1, 30)

            let! payloads =
                Gen.listOfLength
                    count
                    (Gen.frequency [ 1, Gen.constant 0; 6, Gen.choose (1, 64); 3, Gen.choose (65, 2048) ])
                |> Gen.map (List.mapi (fun i size -> Array.init size (fun j -> byte (i * 31 + j))))

            let! ending = Gen.elements [ DatagramEnding.Close; DatagramEnding.Abort ]

            return
                {
                    Family = family
                    Payloads = payloads
                    Ending = ending
                }
        }

[<RequireQualifiedAccess>]
module DatagramProperties =

    let private endPoints (family: DatagramFamily) : EndPoint * EndPoint * (unit -> unit) =
        match family with
        | DatagramFamily.Udp4 -> IPEndPoint(IPAddress.Loopback, 0), IPEndPoint(IPAddress.Loopback, 0), ignore
        | DatagramFamily.Udp6 -> IPEndPoint(IPAddress.IPv6Loopback, 0), IPEndPoint(IPAddress.IPv6Loopback, 0), ignore
        | DatagramFamily.Unix ->
            let folder = Directory.CreateTempSubdirectory "asyncnet-dgram-"

            UnixDomainSocketEndPoint(Path.Combine(folder.FullName, "receiver")),
            UnixDomainSocketEndPoint(Path.Combine(folder.FullName, "sender")),
            (fun () -> folder.Delete true)

    /// Runs a burst: the receiver binds, the sender binds and sends every payload to it at once, then closes or
    /// aborts; the receiver waits until the sender is lost and no datagram came for a moment.
    let private run (scenario: DatagramScenario) =
        use loop = new EventLoop()
        let receiverAt, senderAt, cleanUp = endPoints scenario.Family

        let work () : Task<RecordingDatagramProtocol * RecordingDatagramProtocol * string> =
            task {
                let receiving = RecordingDatagramProtocol()
                let sending = RecordingDatagramProtocol()

                let! (receiver: IDatagramTransport), _ =
                    loop.CreateDatagramEndpointAsync((fun () -> receiving :> IDatagramProtocol), receiverAt)

                let target: EndPoint =
                    match receiver.GetExtraInfo("sockname") with
                    | :? EndPoint as bound -> bound
                    | _ -> receiverAt

                let! (sender: IDatagramTransport), _ =
                    loop.CreateDatagramEndpointAsync((fun () -> sending :> IDatagramProtocol), senderAt)

                let senderAddress = sender.GetExtraInfo("sockname") |> string

                for payload in scenario.Payloads do
                    sender.SendTo(ReadOnlySpan payload, target)

                match scenario.Ending with
                | DatagramEnding.Close -> sender.Close()
                | DatagramEnding.Abort -> sender.Abort()

                let! _ = sending.Lost

                // Datagrams sent before the sender was lost are already in the receiver's queue or arrive within
                // a moment on loopback: wait until the count settles.
                let mutable seen = -1

                while seen <> receiving.Received.Count do
                    seen <- receiving.Received.Count
                    do! loop.SleepAsync(TimeSpan.FromMilliseconds 20.0)

                receiver.Close()
                let! _ = receiving.Lost
                return receiving, sending, senderAddress
            }

        try
            let watchdog = loop.CallLater(TimeSpan.FromSeconds 20.0, Action(loop.Stop))
            let result = loop.RunUntilComplete(Func<Task<_>>(work))
            watchdog.Cancel()
            result
        finally
            cleanUp ()

    /// The law: every datagram arrives whole, in the order sent (Close), or a prefix of them does (Abort drops what
    /// is still queued, never a part of a datagram, never out of order); the sender is lost exactly once, cleanly.
    let burstArrivesWholeAndInOrder (scenario: DatagramScenario) : Property =
        let receiving, sending, _ = run scenario
        let received = receiving.Received |> Seq.map fst |> List.ofSeq
        let sent = scenario.Payloads

        let delivered =
            match scenario.Ending with
            | DatagramEnding.Close -> received = sent
            | DatagramEnding.Abort -> received.Length <= sent.Length && received = List.take received.Length sent

        (delivered && sending.LostCount = 1 && sending.Lost.Result.IsNone)
        |> Prop.label
            $"%A{scenario.Family}, %A{scenario.Ending}: sent {sent.Length} datagrams (%A{sent |> List.map Array.length}), received {received.Length} (%A{received |> List.map Array.length}); lost {sending.LostCount} times"
        |> Prop.classify (received.Length < sent.Length) "some dropped by Abort"
        |> Prop.classify (scenario.Family = DatagramFamily.Unix) "Unix"

    /// The law: the receiver sees the sender's bound address as the source of every datagram.
    let everyDatagramNamesItsSender (scenario: DatagramScenario) : Property =
        let receiving, _, senderAddress = run scenario

        let sources =
            receiving.Received |> Seq.map (snd >> string) |> Seq.distinct |> List.ofSeq

        (sources |> List.forall (fun source -> source = senderAddress))
        |> Prop.label $"%A{scenario.Family}: sender bound to {senderAddress}, datagrams from %A{sources}"
