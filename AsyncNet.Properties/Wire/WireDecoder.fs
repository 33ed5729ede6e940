namespace AsyncNet.Properties

open System
open System.Collections.Generic

/// How a stream ended, as a decoder sees it when told the stream is over.
type WireEnd =
    /// The stream ended between messages.
    | Clean = 0
    /// The stream ended inside a message: it was cut short, and no message may be made of the partial bytes.
    | Incomplete = 1

/// <summary>
/// An incremental decoder of a wire format, as the wire laws drive it (Netty's <c>decode(ctx, in, out)</c> shape): fed
/// a stream's bytes in chunks of any size, empty ones included, it adds each message to the output as soon as the
/// message's last byte has arrived, reports bytes that are not the format by throwing, and says at the end of the stream
/// whether it stopped between messages.
/// </summary>
/// <remarks>
/// A decoder that throws must first add every message completed before the fault. After a throw the laws feed it
/// nothing more. The laws compare <see cref="BufferedBytes"/> with the bytes fed since the last message ended, so it
/// must count the message in progress exactly, whether the decoder keeps those bytes or has parsed some of them.
/// </remarks>
type IWireDecoder<'T> =
    /// <summary>Decodes what the chunk completes: adds every message whose last byte it holds to the output, in order.</summary>
    /// <param name="chunk">The next bytes of the stream; the laws never change them afterwards.</param>
    /// <param name="output">Where to add the messages the chunk completes.</param>
    abstract Feed: chunk: ReadOnlyMemory<byte> * output: ICollection<'T> -> unit

    /// The bytes fed since the end of the last message added to an output: those of the message in progress.
    abstract BufferedBytes: int64

    /// <summary>The end of the stream.</summary>
    /// <returns><see cref="WireEnd.Clean"/> between messages; <see cref="WireEnd.Incomplete"/> inside one.</returns>
    abstract EndOfStream: unit -> WireEnd
