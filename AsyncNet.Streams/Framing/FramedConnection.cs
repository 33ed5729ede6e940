using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Framing;

/// <summary>
/// A connection that carries frames: a <see cref="FrameReader"/> and a <see cref="FrameWriter"/> over one stream pair,
/// with the heartbeat it was set up with. Made by <see cref="FramedEndpoints"/>.
/// </summary>
/// <remarks>
/// <para>
/// Read with <see cref="Reader"/> and write with <see cref="Writer"/>, under their own rules (one read at a time; one
/// write call at a time, from any thread). <c>var (frames, output) = connection;</c> takes the pair apart.
/// </para>
/// <para>
/// With a <see cref="Heartbeat"/>, the connection pings when it has been quiet and closes with an
/// <see cref="Transports.IdleTimeoutException"/> when the peer has been silent too long (see <see cref="HeartbeatOptions"/>);
/// the reader skips received pings if the heartbeat hides them.
/// </para>
/// </remarks>
public sealed class FramedConnection : IAsyncDisposable
{
    internal FramedConnection(StreamReader reader, StreamWriter writer, LengthFieldFormat format, HeartbeatPing? ping)
    {
        Reader = FrameReader.Create(reader, format, ping is { Options.HidePings: true } ? ping : null);
        Writer = new FrameWriter(writer, format);
        Heartbeat = ping?.Options;
    }

    /// <summary>Reads the connection's frames.</summary>
    public FrameReader Reader { get; }

    /// <summary>Writes frames to the connection.</summary>
    public FrameWriter Writer { get; }

    /// <summary>The frame layout, both ways.</summary>
    public LengthFieldFormat Format => Writer.Format;

    /// <summary>The heartbeat the connection runs, or <see langword="null"/> for none.</summary>
    public HeartbeatOptions? Heartbeat { get; }

    /// <summary>Takes the connection apart into its reader and writer.</summary>
    /// <param name="reader">The frame reader.</param>
    /// <param name="writer">The frame writer.</param>
    public void Deconstruct(out FrameReader reader, out FrameWriter writer)
    {
        reader = Reader;
        writer = Writer;
    }

    /// <summary>Closes the connection: frames already written are flushed first (<see cref="StreamWriter.Close"/>). Idempotent.</summary>
    public void Close() => Writer.Writer.Close();

    /// <summary>Completes when the connection is closed (<see cref="StreamWriter.WaitClosedAsync"/>).</summary>
    /// <param name="cancellationToken">Stops waiting (the connection is unaffected).</param>
    /// <returns>A task that fails with the error the connection was lost with, if any: an <see cref="Transports.IdleTimeoutException"/> when the heartbeat's deadline passed.</returns>
    public Task WaitClosedAsync(CancellationToken cancellationToken = default) => Writer.Writer.WaitClosedAsync(cancellationToken);

    /// <summary>Closes the connection and waits until it is closed; the error it was lost with, if any, is not thrown here.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public ValueTask DisposeAsync() => Writer.Writer.DisposeAsync();

    /// <inheritdoc/>
    /// <returns>For example "FramedConnection(HeartbeatOptions(...); FrameReader(...); FrameWriter(...))".</returns>
    public override string ToString() => $"FramedConnection({Heartbeat?.ToString() ?? "no heartbeat"}; {Reader}; {Writer})";
}
