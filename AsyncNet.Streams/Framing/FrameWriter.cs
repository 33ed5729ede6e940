using System.Buffers;
using System.Collections;
using System.Diagnostics;
using System.Runtime.InteropServices;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Framing;

// Maintainer's overview. A frame goes out as one gathered write without copying its payload: FrameEncoder writes the
// header and the trailer into a small scratch array kept by this writer, and the parts (header, payload segments,
// trailer) go to the transport together; on the loop thread a frame without a trailer goes as a two-part write
// (header, payload), which costs no enumeration of parts, and a small frame with a trailer is laid out whole first. Reusing the scratch is safe because the transport has taken or copied every
// byte before the write returns: on the loop thread StreamWriter.WriteLines hands the parts to the transport's
// WriteLines, which queues them (copying) and sends them in one system call as it returns; from another thread
// StreamWriter copies a write into its outbox before returning. Off the loop the frame is first laid out in one pooled
// array and written once, so it is a single outbox entry: two frames written from different threads can never
// interleave their parts.
//
// The parts list (FrameParts) is its own enumerator, so handing it to WriteLines allocates nothing per frame.

/// <summary>Writes length-prefixed frames of a <see cref="LengthFieldFormat"/> to a <see cref="StreamWriter"/>.</summary>
/// <remarks>
/// <para>
/// Each frame (header, payload, checksum trailer) is handed to the connection as one gathered write, with the payload
/// sent from where it lies: the payload may be reused as soon as <see cref="Write(uint, ReadOnlyMemory{byte})"/>
/// returns. Writing a frame allocates nothing once the writer has warmed up.
/// </para>
/// <para>
/// One call at a time: the writer reuses one scratch buffer for headers and trailers. Calls may come from any thread,
/// as with <see cref="StreamWriter"/>; a frame written from another thread is copied once and reaches the loop whole.
/// As with <see cref="StreamWriter.Write(ReadOnlySpan{byte})"/>, follow a burst of writes with
/// <see cref="DrainAsync"/> (or use <see cref="WriteAsync(uint, ReadOnlyMemory{byte}, CancellationToken)"/>) to keep to
/// the peer's pace.
/// </para>
/// <para>
/// Because each frame is one write, a heartbeat's ping (<see cref="HeartbeatOptions"/>), which the connection writes on
/// the loop thread between writes, lands before or after a frame and never inside one. The ping does not use this
/// writer (nor its scratch buffer), so a frame being written on another thread when the ping goes out is unaffected.
/// </para>
/// </remarks>
public sealed class FrameWriter
{
    private readonly StreamWriter _writer;
    private readonly LengthFieldFormat _format;
    private readonly FrameEncoder _encoder;
    private readonly byte[] _scratch;
    private readonly FrameParts _parts = new();

    // Frames with a checksum trailer up to this size (header, payload, trailer) are encoded whole into _small and written once.
    private const int SmallFrameLimit = 2048;
    private byte[]? _small;

    /// <summary>Creates a frame writer over <paramref name="writer"/>.</summary>
    /// <param name="writer">The connection to write to.</param>
    /// <param name="format">The frame layout.</param>
    /// <exception cref="ArgumentNullException"><paramref name="writer"/> or <paramref name="format"/> is null.</exception>
    public FrameWriter(StreamWriter writer, LengthFieldFormat format)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(format);
        _writer = writer;
        _format = format;
        _encoder = new FrameEncoder(format);
        _scratch = new byte[_encoder.ScratchLength];
    }

    /// <summary>The frame layout written.</summary>
    public LengthFieldFormat Format => _format;

    /// <summary>The connection the frames are written to.</summary>
    public StreamWriter Writer => _writer;

    /// <summary>Writes one frame; never blocks.</summary>
    /// <param name="type">The frame's type; 0 when the format has no type field.</param>
    /// <param name="payload">The payload (the bytes after the header, as <see cref="FrameEncoder"/> takes them); free to reuse once this returns.</param>
    /// <remarks>
    /// The frame is checked before anything is written: a payload the format cannot carry writes nothing. After the
    /// peer broke the connection the frame is dropped silently; the loss surfaces on the next <see cref="DrainAsync"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> does not fit the format's type field.</exception>
    /// <exception cref="ArgumentException">The payload's length does not fit the format (the message names both numbers; see <see cref="FrameEncoder.WriteHeader"/>).</exception>
    /// <exception cref="InvalidOperationException">The writer was closed or half-closed (<see cref="StreamWriter.Close"/>, <see cref="StreamWriter.WriteEof"/>).</exception>
    public void Write(uint type, ReadOnlyMemory<byte> payload)
    {
        if (!TryWriteOnLoop(type, payload.Span))
        {
            WriteGathered(type, payload);
        }
    }

    /// <summary>Writes one frame, whose payload may lie in several segments (a frame read by a <see cref="FrameReader"/>, say); never blocks.</summary>
    /// <param name="frame">The frame: its type and payload.</param>
    /// <remarks>As <see cref="Write(uint, ReadOnlyMemory{byte})"/>; each payload segment is sent from where it lies.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The frame's type does not fit the format's type field.</exception>
    /// <exception cref="ArgumentException">The payload's length does not fit the format.</exception>
    /// <exception cref="InvalidOperationException">The writer was closed or half-closed.</exception>
    public void Write(Frame frame)
    {
        ReadOnlySequence<byte> payload = frame.Payload;
        if (frame.HeaderInPlace != 0 && TryForwardInPlace(frame))
        {
            return;
        }

        if (payload.IsSingleSegment)
        {
            if (!TryWriteOnLoop(frame.Type, payload.FirstSpan))
            {
                WriteGathered(frame.Type, payload.First);
            }

            return;
        }

        _parts.Clear();
        int headerLength = _encoder.WriteHeader(_scratch, frame.Type, payload.Length);
        ReadOnlySpan<byte> header = _scratch.AsSpan(0, headerLength);
        int trailerLength = _encoder.WriteTrailer(_scratch.AsSpan(headerLength), header, payload);
        _parts.Add(_scratch.AsMemory(0, headerLength));
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            _parts.Add(segment);
        }

        _parts.Add(_scratch.AsMemory(headerLength, trailerLength));
        WriteParts();
    }

    /// <summary>Writes one frame, then waits as <see cref="DrainAsync"/> does.</summary>
    /// <param name="type">The frame's type; 0 when the format has no type field.</param>
    /// <param name="payload">The payload; free to reuse once this returns (before the task completes).</param>
    /// <param name="cancellationToken">Stops the wait for the drain (the frame is written all the same); already cancelled, nothing is written.</param>
    /// <returns>A task that completes when the connection's write buffer is at or below its low-water mark.</returns>
    /// <remarks>Failures other than argument errors come through the task: a closed writer, a lost connection.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> does not fit the format's type field.</exception>
    /// <exception cref="ArgumentException">The payload's length does not fit the format.</exception>
    public ValueTask WriteAsync(uint type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            Write(type, payload);
        }
        catch (InvalidOperationException ex)
        {
            return ValueTask.FromException(ex);
        }

        return _writer.DrainAsync(cancellationToken);
    }

    /// <summary>Writes one frame, then waits as <see cref="DrainAsync"/> does.</summary>
    /// <param name="frame">The frame: its type and payload.</param>
    /// <param name="cancellationToken">Stops the wait for the drain; already cancelled, nothing is written.</param>
    /// <returns>A task that completes when the connection's write buffer is at or below its low-water mark.</returns>
    /// <remarks>Failures other than argument errors come through the task: a closed writer, a lost connection.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The frame's type does not fit the format's type field.</exception>
    /// <exception cref="ArgumentException">The payload's length does not fit the format.</exception>
    public ValueTask WriteAsync(Frame frame, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            Write(frame);
        }
        catch (InvalidOperationException ex)
        {
            return ValueTask.FromException(ex);
        }

        return _writer.DrainAsync(cancellationToken);
    }

    /// <summary>Waits until the connection's write buffer is at or below its low-water mark (<see cref="StreamWriter.DrainAsync"/>).</summary>
    /// <param name="cancellationToken">Stops this caller's wait.</param>
    /// <returns>A task that completes as described; synchronously when the buffer is already low.</returns>
    public ValueTask DrainAsync(CancellationToken cancellationToken = default) => _writer.DrainAsync(cancellationToken);

    /// <summary>Shows the format and the connection's writer, e.g. "FrameWriter(Length=u32 BE at 0, ...; StreamWriter(Buffered=0))".</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"FrameWriter({_format}; {_writer})";

    /// <summary>
    /// Writes a frame with a contiguous payload on the loop thread without laying it out first, when it can: the header
    /// from the scratch buffer and the payload from where it lies go to the transport as one two-part write, so the
    /// payload is copied once at most (into the transport's queue, when the write is gathered). A frame with a checksum
    /// trailer, if small, is laid out whole and written once: cheaper than a three-part write.
    /// </summary>
    /// <returns>Whether the frame was written; <see langword="false"/> off the loop thread, or for a large frame with a trailer.</returns>
    private bool TryWriteOnLoop(uint type, ReadOnlySpan<byte> payload)
    {
        if (!_writer.Loop.IsOnLoopThread)
        {
            return false;
        }

        if (_format.ChecksumLength == 0)
        {
            int headerLength = _encoder.WriteHeader(_scratch, type, payload.Length);
            _writer.Write(_scratch.AsSpan(0, headerLength), payload);
            return true;
        }

        if (payload.Length <= SmallFrameLimit - _format.MaxHeaderLength - _format.ChecksumLength)
        {
            _small ??= new byte[SmallFrameLimit];
            int length = _encoder.Encode(_small, type, payload);
            _writer.Write(_small.AsSpan(0, length));
            return true;
        }

        return false;
    }

    /// <summary>
    /// Writes a frame a <see cref="FrameReader"/> read in place as one span, header and payload where they lie, when the
    /// header this writer would write is the one received (an echo, a relay forwarding frames of the same format): on
    /// the loop thread, inside the read callback, the transport then sends it from the receive buffer without a copy,
    /// and consecutive forwarded frames of one read leave as one piece; from another thread it is one contiguous copy
    /// into the outbox, as any frame written there.
    /// </summary>
    /// <returns>Whether the frame was written; <see langword="false"/> with a trailer, or for another header.</returns>
    private bool TryForwardInPlace(in Frame frame)
    {
        if (_format.ChecksumLength != 0 || !SequenceMarshal.TryGetArray(frame.Payload, out ArraySegment<byte> payload))
        {
            return false;
        }

        int headerLength = _encoder.WriteHeader(_scratch, frame.Type, payload.Count);
        int start = payload.Offset - headerLength;
        if (headerLength != frame.HeaderInPlace
            || !payload.Array.AsSpan(start, headerLength).SequenceEqual(_scratch.AsSpan(0, headerLength)))
        {
            return false;
        }

        _writer.Write(payload.Array.AsSpan(start, headerLength + payload.Count));
        return true;
    }

    /// <summary>Writes a frame with a contiguous payload as its parts (header, payload, trailer), the payload where it lies.</summary>
    private void WriteGathered(uint type, ReadOnlyMemory<byte> payload)
    {
        _parts.Clear();
        _encoder.EncodeGathered(type, payload, _scratch, _parts);
        WriteParts();
    }

    /// <summary>Hands the frame in <see cref="_parts"/> to the connection as one write.</summary>
    private void WriteParts()
    {
        if (_writer.Loop.IsOnLoopThread)
        {
            // The transport queues or sends every part before this returns, so the scratch may be reused at once.
            try
            {
                _writer.WriteLines(_parts);
            }
            finally
            {
                _parts.Clear();
            }

            return;
        }

        // Off the loop the writer copies each write into its outbox anyway: one contiguous copy makes the frame a
        // single entry, which other threads' writes cannot split.
        int length = _parts.TotalLength;
        byte[] whole = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            int offset = 0;
            foreach (ReadOnlyMemory<byte> part in _parts)
            {
                part.Span.CopyTo(whole.AsSpan(offset));
                offset += part.Length;
            }

            _writer.Write(whole.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(whole);
            _parts.Clear();
        }
    }

    /// <summary>
    /// The parts of one frame, in order; its own enumerator, so a transport's <c>foreach</c> over it allocates nothing.
    /// One enumeration at a time, which is all a write needs.
    /// </summary>
    private sealed class FrameParts : ICollection<ReadOnlyMemory<byte>>, IEnumerator<ReadOnlyMemory<byte>>
    {
        // Header, payload, trailer: three parts for a contiguous payload; more only for a payload in segments.
        private ReadOnlyMemory<byte>[] _parts = new ReadOnlyMemory<byte>[3];
        private int _count;
        private int _position = -1;

        public int Count => _count;

        public bool IsReadOnly => false;

        public int TotalLength
        {
            get
            {
                int total = 0;
                for (int i = 0; i < _count; i++)
                {
                    total = checked(total + _parts[i].Length);
                }

                return total;
            }
        }

        public ReadOnlyMemory<byte> Current => _parts[_position];

        object IEnumerator.Current => Current;

        public void Add(ReadOnlyMemory<byte> item)
        {
            if (item.IsEmpty)
            {
                return;
            }

            if (_count == _parts.Length)
            {
                Array.Resize(ref _parts, _parts.Length * 2);
            }

            _parts[_count++] = item;
        }

        public void Clear()
        {
            // Drop the references: a payload must not be kept alive by the writer after the write.
            Array.Clear(_parts, 0, _count);
            _count = 0;
            _position = -1;
        }

        public IEnumerator<ReadOnlyMemory<byte>> GetEnumerator()
        {
            Debug.Assert(_position == -1 || _position >= _count, "One enumeration of the parts at a time");
            _position = -1;
            return this;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public bool MoveNext() => ++_position < _count;

        public void Reset() => _position = -1;

        public void Dispose()
        {
        }

        public bool Contains(ReadOnlyMemory<byte> item) => Array.IndexOf(_parts, item, 0, _count) >= 0;

        public void CopyTo(ReadOnlyMemory<byte>[] array, int arrayIndex) => Array.Copy(_parts, 0, array, arrayIndex, _count);

        public bool Remove(ReadOnlyMemory<byte> item) => throw new NotSupportedException();
    }
}
