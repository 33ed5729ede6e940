namespace AsyncNet.Properties

open System
open System.Collections.Generic
open FsCheck

/// <summary>
/// A wire format under test, as its author describes it to the wire laws: how a message is encoded, how a decoder is
/// made, which messages to try, and what the decoder promises (a bound on what it buffers, the bytes it must reject).
/// </summary>
/// <remarks>
/// Written from C# with an object initializer: every member but the four constructor arguments is optional, and each
/// default is stated with it. <see cref="Messages"/> is an FsCheck generator (from C#, <c>FsCheck.Fluent.Gen</c>).
/// </remarks>
/// <param name="name">A name for reports, e.g. "line protocol (limit 16)".</param>
/// <param name="encode">A message's bytes on the wire.</param>
/// <param name="createDecoder">A fresh decoder, at the start of a stream.</param>
/// <param name="messages">The messages to try (each must encode to at least one byte).</param>
[<Sealed>]
type WireFormat<'T>
    (name: string, encode: Func<'T, byte array>, createDecoder: Func<IWireDecoder<'T>>, messages: Gen<'T>) =
    do
        ArgumentNullException.ThrowIfNull(name, nameof name)
        ArgumentNullException.ThrowIfNull(encode, nameof encode)
        ArgumentNullException.ThrowIfNull(createDecoder, nameof createDecoder)
        ArgumentNullException.ThrowIfNull(messages, nameof messages)

    /// A name for reports.
    member _.Name = name

    /// A message's bytes on the wire.
    member _.Encode = encode

    /// Makes a fresh decoder.
    member _.CreateDecoder = createDecoder

    /// The messages to try.
    member _.Messages = messages

    /// Bytes the decoder must reject on their own (a line over the limit, a length over the maximum), or null when the
    /// format has none to offer; the fault law is then skipped. The default is null.
    member val Invalid: Gen<byte array> | null = null with get, set

    /// The most the decoder may buffer after any chunk (its BufferedBytes). The default is Int64.MaxValue: no bound.
    member val MaxBufferedBytes = Int64.MaxValue with get, set

    /// How messages compare. The default is EqualityComparer.Default (give a comparer for arrays, which compare by reference).
    member val Comparer: IEqualityComparer<'T> = EqualityComparer<'T>.Default with get, set

    /// How a message is shown in reports. The default is its ToString().
    member val Show: Func<'T, string> =
        Func<'T, string>(fun message ->
            match box message with
            | null -> "null"
            | value -> string value) with get, set

    /// Smaller variants of a message, for shrinking (each must still encode), or null to shrink only the message list.
    /// The default is null.
    member val ShrinkMessage: Func<'T, IEnumerable<'T>> | null = null with get, set

    /// At most this many messages in one stream. The default is 8.
    member val MaxMessages = 8 with get, set

    /// The format's name.
    override _.ToString() = name
