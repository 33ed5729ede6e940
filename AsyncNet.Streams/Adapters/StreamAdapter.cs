// StreamAdapter: a System.IO.Stream over a StreamReader/StreamWriter pair, so BCL stream consumers (SslStream,
// GZipStream, PipeReader.Create, ...) run over an AsyncNet connection.
//
// Maintainer's overview
// - The async members map one to one: ReadAsync → StreamReader.ReadAsync (0 at EOF), WriteAsync → Write + DrainAsync,
//   FlushAsync → DrainAsync. They may be called on the loop thread (their awaits resume there) or on any other thread.
// - The synchronous members block on the async ones. Blocking the loop thread would deadlock (the bytes a read waits
//   for, or the drain a write waits for, can only arrive through the loop), so on the loop thread they throw
//   InvalidOperationException instead. Flush is the exception: on the loop thread Write has already handed the bytes
//   to the transport, so there is nothing to wait for and it returns at once.
// - Disposal closes the writer (and with it the connection) unless leaveOpen was given.

using AsyncNet.Loop;

namespace AsyncNet.Streams.Adapters;

/// <summary>
/// A <see cref="Stream"/> over a connection's <see cref="StreamReader"/> and <see cref="StreamWriter"/>, so that
/// <see cref="System.Net.Security.SslStream"/> and other stream consumers work on top of AsyncNet.
/// </summary>
/// <remarks>
/// <para>
/// Prefer the asynchronous members; they may be called on the loop thread or on any other thread. The synchronous
/// <see cref="Read(byte[], int, int)"/> and <see cref="Write(byte[], int, int)"/> block until they finish and so throw
/// <see cref="InvalidOperationException"/> on the loop's thread, where blocking would deadlock; from another thread they
/// need the loop to be running.
/// </para>
/// <para>The stream is not seekable. As the reader, it allows one read at a time.</para>
/// </remarks>
internal sealed class StreamAdapter : Stream
{
    private const string LoopThreadMessage =
        "A synchronous {0} on the event loop's thread would block the loop and deadlock; use {0}Async there.";

    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly bool _leaveOpen;

    // 0 while open, 1 once Dispose or DisposeAsync ran (each closes the writer at most once).
    private int _disposed;

    /// <summary>Creates a stream over <paramref name="reader"/> and <paramref name="writer"/>.</summary>
    /// <param name="reader">The connection's reader.</param>
    /// <param name="writer">The connection's writer.</param>
    /// <param name="leaveOpen">
    /// <see langword="true"/> to leave the connection open when the stream is disposed; the default,
    /// <see langword="false"/>, closes the writer.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> or <paramref name="writer"/> is null.</exception>
    /// <exception cref="ArgumentException">The reader and the writer run on different loops.</exception>
    public StreamAdapter(StreamReader reader, StreamWriter writer, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        if (!ReferenceEquals(reader.Loop, writer.Loop))
        {
            throw new ArgumentException("The reader and the writer must belong to the same loop.", nameof(writer));
        }

        _reader = reader;
        _writer = writer;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Gets the reader the stream reads from.</summary>
    public StreamReader Reader => _reader;

    /// <summary>Gets the writer the stream writes to.</summary>
    public StreamWriter Writer => _writer;

    /// <summary>Gets the loop the connection runs on.</summary>
    public EventLoop Loop => _writer.Loop;

    /// <summary>Gets a value indicating whether the stream can be read: <see langword="true"/> until it is disposed.</summary>
    public override bool CanRead => !IsDisposed;

    /// <summary>Gets a value indicating whether the stream can be written: <see langword="true"/> until it is disposed.</summary>
    public override bool CanWrite => !IsDisposed;

    /// <summary>Gets a value indicating whether the stream can seek: always <see langword="false"/>.</summary>
    public override bool CanSeek => false;

    /// <summary>Not supported: a connection has no length.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Length => throw new NotSupportedException("A connection stream has no length.");

    /// <summary>Not supported: a connection has no position.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Position
    {
        get => throw new NotSupportedException("A connection stream has no position.");
        set => throw new NotSupportedException("A connection stream has no position.");
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Reads up to <paramref name="buffer"/>'s length of bytes: at least one, or none at the end of the stream.</summary>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read consumes nothing.</param>
    /// <returns>How many bytes were read; 0 only at the end of the stream or for an empty buffer.</returns>
    /// <remarks>Completes synchronously, allocating nothing, when bytes are buffered. Fails with the error the connection was lost with, if any.</remarks>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return _reader.ReadAsync(buffer, cancellationToken);
    }

    /// <summary>Reads up to <paramref name="count"/> bytes into <paramref name="buffer"/> at <paramref name="offset"/>.</summary>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <param name="offset">The first index to fill.</param>
    /// <param name="count">The most bytes to read.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read consumes nothing.</param>
    /// <returns>How many bytes were read; 0 only at the end of the stream or when <paramref name="count"/> is 0.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> and <paramref name="count"/> do not lie within <paramref name="buffer"/>.</exception>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>Reads up to <paramref name="buffer"/>'s length of bytes, blocking until at least one arrives or the stream ends.</summary>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <returns>How many bytes were read; 0 only at the end of the stream or for an empty buffer.</returns>
    /// <exception cref="InvalidOperationException">Called on the loop's thread, or another read is in progress.</exception>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    public override int Read(Span<byte> buffer)
    {
        ThrowIfOnLoopThread(nameof(Read));
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (_reader.TryRead(buffer, out int bytesRead))
        {
            return bytesRead;
        }

        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            int n = _reader.ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Reads up to <paramref name="count"/> bytes, blocking until at least one arrives or the stream ends.</summary>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <param name="offset">The first index to fill.</param>
    /// <param name="count">The most bytes to read.</param>
    /// <returns>How many bytes were read; 0 only at the end of the stream or when <paramref name="count"/> is 0.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> and <paramref name="count"/> do not lie within <paramref name="buffer"/>.</exception>
    /// <exception cref="InvalidOperationException">Called on the loop's thread, or another read is in progress.</exception>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        ThrowIfOnLoopThread(nameof(Read));
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Memory<byte> destination = buffer.AsMemory(offset, count);
        if (_reader.TryRead(destination.Span, out int bytesRead))
        {
            return bytesRead;
        }

        return _reader.ReadAsync(destination).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Writes <paramref name="buffer"/> and waits until the connection's write buffer drains to its low-water mark.</summary>
    /// <param name="buffer">The bytes; copied if they cannot be sent at once, so the buffer may be reused as soon as this returns.</param>
    /// <param name="cancellationToken">Stops waiting for the drain (the bytes are written regardless); if cancelled before the call, nothing is written.</param>
    /// <returns>A task that completes as <see cref="StreamWriter.DrainAsync"/> does.</returns>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    /// <exception cref="InvalidOperationException">The writer was closed or half-closed.</exception>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        _writer.Write(buffer.Span);
        return _writer.DrainAsync(cancellationToken);
    }

    /// <summary>Writes <paramref name="count"/> bytes of <paramref name="buffer"/> and waits for the drain (see <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>).</summary>
    /// <param name="buffer">The bytes.</param>
    /// <param name="offset">The index of the first byte to write.</param>
    /// <param name="count">How many bytes to write.</param>
    /// <param name="cancellationToken">Stops waiting for the drain.</param>
    /// <returns>A task that completes when the write buffer has drained.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> and <paramref name="count"/> do not lie within <paramref name="buffer"/>.</exception>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    /// <exception cref="InvalidOperationException">The writer was closed or half-closed.</exception>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>Writes <paramref name="buffer"/>, blocking until the connection's write buffer drains.</summary>
    /// <param name="buffer">The bytes.</param>
    /// <exception cref="InvalidOperationException">Called on the loop's thread, or the writer was closed or half-closed.</exception>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfOnLoopThread(nameof(Write));
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        _writer.Write(buffer);
        _writer.DrainAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Writes <paramref name="count"/> bytes of <paramref name="buffer"/>, blocking until the connection's write buffer drains.</summary>
    /// <param name="buffer">The bytes.</param>
    /// <param name="offset">The index of the first byte to write.</param>
    /// <param name="count">How many bytes to write.</param>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> and <paramref name="count"/> do not lie within <paramref name="buffer"/>.</exception>
    /// <exception cref="InvalidOperationException">Called on the loop's thread, or the writer was closed or half-closed.</exception>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    /// <summary>Waits until the connection's write buffer drains to its low-water mark (<see cref="StreamWriter.DrainAsync"/>).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the write buffer has drained.</returns>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return _writer.DrainAsync(cancellationToken).AsTask();
    }

    /// <summary>Blocks until the connection's write buffer drains; on the loop thread, returns at once.</summary>
    /// <remarks>
    /// On the loop thread every write was already handed to the transport, so there is nothing to push and waiting
    /// for the peer would deadlock; from another thread this waits as <see cref="FlushAsync(CancellationToken)"/> does.
    /// </remarks>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    public override void Flush()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (Loop.IsOnLoopThread)
        {
            return;
        }

        _writer.DrainAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Not supported: a connection cannot seek.</summary>
    /// <param name="offset">Ignored.</param>
    /// <param name="origin">Ignored.</param>
    /// <returns>Never returns.</returns>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A connection stream cannot seek.");

    /// <summary>Not supported: a connection has no length.</summary>
    /// <param name="value">Ignored.</param>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override void SetLength(long value) => throw new NotSupportedException("A connection stream has no length.");

    /// <summary>Closes the writer (flushing what is buffered) and waits until the connection is closed, unless the stream leaves it open.</summary>
    /// <returns>A task that completes when the connection is closed; errors it was lost with are not thrown here.</returns>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _leaveOpen)
        {
            return;
        }

        await _writer.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    /// <returns>For example "StreamAdapter(StreamReader(Buffered=12, Limit=65536), StreamWriter(Buffered=0))".</returns>
    public override string ToString() => $"StreamAdapter({_reader}, {_writer}{(IsDisposed ? ", Disposed" : string.Empty)})";

    /// <summary>Closes the writer without waiting (flushing what is buffered), unless the stream leaves the connection open.</summary>
    /// <param name="disposing"><see langword="true"/> when called from <see cref="Stream.Dispose()"/>.</param>
    protected override void Dispose(bool disposing)
    {
        // Close never blocks and is safe on any thread, so the synchronous path may run on the loop thread too.
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0 && !_leaveOpen)
        {
            _writer.Close();
        }

        base.Dispose(disposing);
    }

    private void ThrowIfOnLoopThread(string operation)
    {
        if (Loop.IsOnLoopThread)
        {
            throw new InvalidOperationException(string.Format(System.Globalization.CultureInfo.InvariantCulture, LoopThreadMessage, operation));
        }
    }
}
