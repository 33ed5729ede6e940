using System.IO.Pipelines;

namespace AsyncNet.Streams.Adapters;

/// <summary>
/// Makes a <see cref="PipeReader"/>/<see cref="PipeWriter"/> pair over a connection's reader and writer, so that
/// System.IO.Pipelines parsers plug in (see <see cref="Create"/>).
/// </summary>
public static class StreamPipes
{
    /// <summary>Creates a duplex pipe over <paramref name="reader"/> and <paramref name="writer"/>, through the connection viewed as a <see cref="Stream"/> (<see cref="StreamAdapterExtensions.AsStream"/>).</summary>
    /// <param name="reader">The connection's reader.</param>
    /// <param name="writer">The connection's writer.</param>
    /// <param name="readerOptions">
    /// The input's buffer settings; <see langword="null"/> for the defaults of <see cref="PipeReader.Create(Stream, StreamPipeReaderOptions?)"/>.
    /// Its <see cref="StreamPipeReaderOptions.LeaveOpen"/> is ignored (see remarks).
    /// </param>
    /// <param name="writerOptions">
    /// The output's buffer settings; <see langword="null"/> for the defaults of <see cref="PipeWriter.Create(Stream, StreamPipeWriterOptions?)"/>.
    /// Its <see cref="StreamPipeWriterOptions.LeaveOpen"/> is ignored (see remarks).
    /// </param>
    /// <returns>The pipe; dispose it to close the connection.</returns>
    /// <remarks>
    /// Completing <see cref="IDuplexPipe.Input"/> or <see cref="IDuplexPipe.Output"/> leaves the connection open, so one
    /// side can finish before the other; <see cref="StreamDuplexPipe.DisposeAsync"/> completes both and closes it. To
    /// half-close, flush the output and call <see cref="StreamWriter.WriteEof"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> or <paramref name="writer"/> is null.</exception>
    /// <exception cref="ArgumentException">The reader and the writer run on different loops.</exception>
    public static StreamDuplexPipe Create(
        StreamReader reader, StreamWriter writer, StreamPipeReaderOptions? readerOptions = null, StreamPipeWriterOptions? writerOptions = null)
    {
        var stream = new StreamAdapter(reader, writer);

        // Both sides share one stream, so neither may dispose it on completion: the pipe's own disposal does.
        readerOptions = readerOptions is null
            ? new StreamPipeReaderOptions(leaveOpen: true)
            : new StreamPipeReaderOptions(readerOptions.Pool, readerOptions.BufferSize, readerOptions.MinimumReadSize, leaveOpen: true, readerOptions.UseZeroByteReads);
        writerOptions = writerOptions is null
            ? new StreamPipeWriterOptions(leaveOpen: true)
            : new StreamPipeWriterOptions(writerOptions.Pool, writerOptions.MinimumBufferSize, leaveOpen: true);
        return new StreamDuplexPipe(stream, PipeReader.Create(stream, readerOptions), PipeWriter.Create(stream, writerOptions));
    }
}

/// <summary>A <see cref="PipeReader"/>/<see cref="PipeWriter"/> pair over one connection, made by <see cref="StreamPipes.Create"/>.</summary>
public sealed class StreamDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    internal StreamDuplexPipe(Stream stream, PipeReader input, PipeWriter output)
    {
        Stream = stream;
        Input = input;
        Output = output;
    }

    /// <summary>Gets the pipe's input: the bytes the peer sends.</summary>
    public PipeReader Input { get; }

    /// <summary>Gets the pipe's output: bytes written here reach the peer once flushed.</summary>
    public PipeWriter Output { get; }

    /// <summary>Gets the stream both sides run over.</summary>
    public Stream Stream { get; }

    /// <summary>Completes the input and the output (flushing what the output buffers), then closes the connection and waits until it is closed.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    /// <remarks>Completing a side that is already complete does nothing, so this may follow the caller's own Complete calls.</remarks>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Output.CompleteAsync().ConfigureAwait(false);
            await Input.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            await Stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <returns>For example "StreamDuplexPipe(StreamAdapter(...))".</returns>
    public override string ToString() => $"StreamDuplexPipe({Stream})";
}
