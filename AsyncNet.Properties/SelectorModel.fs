namespace AsyncNet.Properties

open System
open System.Collections.Generic
open System.Net
open System.Net.Sockets
open FsCheck
open FsCheck.FSharp
open AsyncNet.Selectors

/// A step of the selector model: socket slots are small indices into a pool of connected sockets.
type SelectorCommand =
    | Register of slot: int * events: SelectorEvents
    | Modify of slot: int * events: SelectorEvents
    | Unregister of slot: int
    /// The peer of the slot sends a byte, so the slot becomes readable.
    | PeerSends of slot: int
    /// The slot reads everything pending, so it is no longer readable.
    | Drain of slot: int
    /// Select with a zero timeout and compare the ready set with the model.
    | Poll

/// What the model says a call should do.
[<RequireQualifiedAccess>]
type SelectorOutcome =
    | Accepted
    | AlreadyRegistered
    | NotRegistered

/// A model-based test of ISelector: a dictionary of slot -> interest, and a set of readable slots.
/// A connected TCP socket with room in its send buffer is always writable, so readiness is
/// (interest ∩ {Read if data pending} ∪ {Write}).
[<RequireQualifiedAccess>]
module SelectorModel =

    /// The number of socket pairs a command list uses.
    [<Literal>]
    let Slots = 4

    let private interest =
        Gen.elements
            [
                SelectorEvents.Read
                SelectorEvents.Write
                SelectorEvents.Read ||| SelectorEvents.Write
            ]

    /// Command lists over `Slots` socket pairs.
    let commands: Gen<SelectorCommand list> =
        let slot = Gen.choose (0, Slots - 1)

        let command =
            Gen.frequency
                [
                    3, Gen.map2 (fun s e -> Register(s, e)) slot interest
                    2, Gen.map2 (fun s e -> Modify(s, e)) slot interest
                    2, Gen.map Unregister slot
                    2, Gen.map PeerSends slot
                    1, Gen.map Drain slot
                    3, Gen.constant Poll
                ]

        Gen.listOf command

    let private connectedPair () =
        use listener =
            new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)

        listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
        listener.Listen 1

        let client =
            new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)

        match listener.LocalEndPoint with
        | null -> invalidOp "the listener has no local endpoint"
        | endPoint -> client.Connect endPoint

        let server = listener.Accept()
        client.Blocking <- false
        server.Blocking <- false
        client, server

    let private classify (action: unit -> unit) =
        try
            action ()
            SelectorOutcome.Accepted
        with
        | :? ArgumentException -> SelectorOutcome.AlreadyRegistered
        | :? KeyNotFoundException -> SelectorOutcome.NotRegistered

    /// Runs `commands` against a new selector from `create` and against the model; returns the first
    /// disagreement, or None when they agree throughout.
    let firstDisagreement (create: unit -> ISelector) (commands: SelectorCommand list) : string option =
        let pairs = Array.init Slots (fun _ -> connectedPair ())
        let watched (slot: int) = snd pairs[slot]
        let fd (slot: int) = int (watched slot).Handle
        use selector = create ()
        let model = Dictionary<int, SelectorEvents>()
        let readable = HashSet<int>()

        let expectOutcome (command: SelectorCommand) expected actual =
            if expected = actual then
                None
            else
                Some $"%A{command}: model says %A{expected}, selector did %A{actual}"

        let step (command: SelectorCommand) : string option =
            match command with
            | Register(s, e) ->
                let expected =
                    if model.ContainsKey s then
                        SelectorOutcome.AlreadyRegistered
                    else
                        SelectorOutcome.Accepted

                let actual = classify (fun () -> selector.Register(watched s, e, box s) |> ignore)

                if actual = SelectorOutcome.Accepted then
                    model[s] <- e

                expectOutcome command expected actual
            | Modify(s, e) ->
                let expected =
                    if model.ContainsKey s then
                        SelectorOutcome.Accepted
                    else
                        SelectorOutcome.NotRegistered

                let actual = classify (fun () -> selector.Modify(fd s, e, box (s + 100)) |> ignore)

                if actual = SelectorOutcome.Accepted then
                    model[s] <- e

                expectOutcome command expected actual
            | Unregister s ->
                let expected =
                    if model.ContainsKey s then
                        SelectorOutcome.Accepted
                    else
                        SelectorOutcome.NotRegistered

                let actual = classify (fun () -> selector.Unregister(fd s) |> ignore)

                if actual = SelectorOutcome.Accepted then
                    model.Remove s |> ignore

                expectOutcome command expected actual
            | PeerSends s ->
                (fst pairs[s]).Send([| 1uy |]) |> ignore
                readable.Add s |> ignore
                None
            | Drain s ->
                let buffer = Array.zeroCreate<byte> 64
                let mutable error = SocketError.Success
                // Data sent on loopback is readable at once; read until the socket says it would block.
                if readable.Contains s then
                    while (watched s).Receive(buffer, 0, buffer.Length, SocketFlags.None, &error) > 0 do
                        ()

                    readable.Remove s |> ignore

                None
            | Poll ->
                // Loopback delivery is immediate but not instantaneous: retry briefly until readable slots show.
                let expected =
                    model
                    |> Seq.map (fun kv ->
                        let ready =
                            kv.Value
                            &&& (SelectorEvents.Write
                                 ||| (if readable.Contains kv.Key then
                                          SelectorEvents.Read
                                      else
                                          SelectorEvents.None))

                        fd kv.Key, ready)
                    |> Seq.filter (fun (_, e) -> e <> SelectorEvents.None)
                    |> Map.ofSeq

                let select () =
                    selector.Select(Nullable TimeSpan.Zero).ToArray()
                    |> Array.map (fun r -> r.Key.Fd, r.Events &&& (SelectorEvents.Read ||| SelectorEvents.Write))
                    |> Map.ofArray

                let deadline = DateTime.UtcNow.AddSeconds 5.0
                let mutable actual = select ()

                while actual <> expected && DateTime.UtcNow < deadline do
                    Threading.Thread.Sleep 1
                    actual <- select ()

                if selector.Count <> model.Count then
                    Some $"Poll: model has {model.Count} registrations, selector.Count is {selector.Count}"
                elif actual <> expected then
                    Some $"Poll: model expects %A{expected}, selector reported %A{actual}"
                else
                    None

        try
            commands |> List.tryPick step
        finally
            for (a, b) in pairs do
                a.Dispose()
                b.Dispose()

    /// The law: a selector agrees with the dictionary model on every command and every poll.
    let agreesWithModel (create: unit -> ISelector) (commands: SelectorCommand list) : Property =
        match firstDisagreement create commands with
        | None -> Prop.ofTestable true
        | Some why -> Prop.ofTestable false |> Prop.label why
