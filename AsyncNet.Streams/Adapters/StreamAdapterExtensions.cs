namespace AsyncNet.Streams.Adapters;

/// <summary>Views a connection's reader/writer pair as a <see cref="Stream"/>.</summary>
public static class StreamAdapterExtensions
{
    /// <summary>
    /// Wraps a reader/writer pair, as <see cref="StreamEndpoints.OpenConnectionAsync"/> returns it, in a <see cref="Stream"/>,
    /// so <see cref="System.Net.Security.SslStream"/> and other stream consumers work on top of AsyncNet.
    /// </summary>
    /// <param name="connection">The connection's reader and writer.</param>
    /// <param name="leaveOpen"><see langword="true"/> to leave the connection open when the stream is disposed; the default closes it.</param>
    /// <returns>
    /// The stream: not seekable, one read at a time. Prefer its asynchronous members, callable on the loop thread or any
    /// other; the synchronous <c>Read</c>/<c>Write</c> block until done, so they throw <see cref="InvalidOperationException"/>
    /// on the loop's thread (where blocking would deadlock) and need the loop running elsewhere.
    /// </returns>
    /// <exception cref="ArgumentNullException">The reader or the writer is null.</exception>
    /// <exception cref="ArgumentException">The reader and the writer run on different loops.</exception>
    public static Stream AsStream(this (StreamReader Reader, StreamWriter Writer) connection, bool leaveOpen = false) =>
        new StreamAdapter(connection.Reader, connection.Writer, leaveOpen);
}
