namespace AsyncNet.Streams.Adapters;

/// <summary>Views a connection's reader/writer pair as a <see cref="Stream"/>.</summary>
public static class StreamAdapterExtensions
{
    /// <summary>Wraps a reader/writer pair, as <see cref="StreamEndpoints.OpenConnectionAsync"/> returns it, in a <see cref="StreamAdapter"/>.</summary>
    /// <param name="connection">The connection's reader and writer.</param>
    /// <param name="leaveOpen"><see langword="true"/> to leave the connection open when the stream is disposed; the default closes it.</param>
    /// <returns>The stream.</returns>
    /// <exception cref="ArgumentNullException">The reader or the writer is null.</exception>
    /// <exception cref="ArgumentException">The reader and the writer run on different loops.</exception>
    public static StreamAdapter AsStream(this (StreamReader Reader, StreamWriter Writer) connection, bool leaveOpen = false) =>
        new(connection.Reader, connection.Writer, leaveOpen);
}
