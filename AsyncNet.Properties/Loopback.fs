namespace AsyncNet.Properties

open System.Net
open AsyncNet.Transports

/// Helpers for the laws run over loopback servers.
[<RequireQualifiedAccess>]
module internal Loopback =

    /// The TCP port a server listens on.
    let portOf (server: Server) : int =
        match server.Sockets[0].LocalEndPoint with
        | :? IPEndPoint as endPoint -> endPoint.Port
        | other -> failwith $"unexpected server address {other}"

/// What a recording protocol saw, in order: "data" once per run of received chunks, then the other events.
type internal EventLog() =
    let bytes = new System.IO.MemoryStream()
    let events = System.Collections.Generic.List<string>()

    /// Every byte received, in order.
    member _.Received = bytes.ToArray()

    /// The events, in order.
    member _.Events = List.ofSeq events

    /// Records received bytes (one "data" event for consecutive chunks).
    member _.Data(data: System.ReadOnlySpan<byte>) =
        bytes.Write data

        if events.Count = 0 || events[events.Count - 1] <> "data" then
            events.Add "data"

    /// Records another event.
    member _.Add(event: string) = events.Add event
