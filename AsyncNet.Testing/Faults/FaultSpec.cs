namespace AsyncNet.Testing.Faults;

/// <summary>
/// The faults a <see cref="FaultProxy"/> puts on one direction of its connections: latency with jitter, a bandwidth
/// limit, slicing into small pieces, a blackhole, and a reset, close or half-close after a number of bytes. The default
/// (<see cref="None"/>) forwards every byte at once.
/// </summary>
/// <remarks>
/// <para>
/// The timing faults compose in this order: a read's bytes wait for the latency (plus jitter) from the moment the proxy
/// read them, then leave in slices, each slice within the bandwidth. Bytes never overtake each other: a read whose
/// jitter came out shorter than its predecessor's waits for it. Slicing and the bandwidth apply to the bytes read while
/// they were set; the byte limits (<see cref="ResetAfterBytes"/>, <see cref="CloseAfterBytes"/>,
/// <see cref="HalfCloseAfterBytes"/>) and <see cref="Blackhole"/> are the proxy's current faults, checked as bytes arrive
/// and as they leave.
/// </para>
/// <para>
/// The byte limits count the bytes this direction of a connection has forwarded since it was opened. At most one of them
/// may be set. When a limit is set on connections that have forwarded that many bytes already, it acts on them at once.
/// </para>
/// <para>
/// Text form (<see cref="Parse"/>, <see cref="ToString"/>): comma-separated <c>key=value</c> items, for example
/// <c>latency=50ms,jitter=10ms</c>, <c>bandwidth=64KiB</c>, <c>slice=16,slice-delay=1ms</c>, <c>blackhole</c>,
/// <c>reset-after=1000</c>; <c>none</c> (or an empty string) for no fault.
/// </para>
/// </remarks>
public sealed partial record FaultSpec
{
    /// <summary>No fault: every byte is forwarded as soon as it is read.</summary>
    public static FaultSpec None { get; } = new();

    /// <summary>How long the bytes of each read are held before they are forwarded. The default is zero.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>
    /// How far each read's delay may stray from <see cref="Latency"/>, either way: the delay is drawn uniformly from
    /// latency ± jitter (at least zero). The default is zero.
    /// </summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>
    /// The most bytes per second this direction forwards (on each connection), or <see langword="null"/> for no limit.
    /// The default is <see langword="null"/>.
    /// </summary>
    /// <remarks>Bytes leave in pieces of at most a fiftieth of the rate (20 ms worth, at least one byte), each after the previous piece's share of time.</remarks>
    public long? BandwidthBytesPerSecond { get; init; }

    /// <summary>
    /// The average size of the pieces each read is cut into, each piece written on its own, or <see langword="null"/>
    /// not to slice. The default is <see langword="null"/>.
    /// </summary>
    public int? SliceSize { get; init; }

    /// <summary>How far a piece's size may stray from <see cref="SliceSize"/>, either way (less than it). The default is 0: every piece has the average size.</summary>
    public int SliceVariation { get; init; }

    /// <summary>The pause after each slice before the next one of the same read. The default is zero: a read's slices leave back to back.</summary>
    public TimeSpan SliceDelay { get; init; }

    /// <summary>
    /// Whether this direction forwards nothing: the proxy stops reading from the sender, so the bytes wait in the
    /// kernel's buffers and the sender's writes back up, as with a peer that stopped answering. The default is
    /// <see langword="false"/>.
    /// </summary>
    /// <remarks>
    /// Bytes the proxy held before the blackhole was set still leave; bytes it reads after are held while it lasts.
    /// Clearing it lets everything flow again, in order. The connection itself stays open (Toxiproxy's <c>timeout</c>
    /// with no timeout).
    /// </remarks>
    public bool Blackhole { get; init; }

    /// <summary>
    /// After this many bytes were forwarded in this direction, reset the connection: once the bytes have been handed to
    /// the receiver's socket, both of the proxy's sockets are closed with SO_LINGER 0, so each TCP peer gets a RST and
    /// its next read or write fails with a connection-reset error. <see langword="null"/> for no reset. The default is
    /// <see langword="null"/>.
    /// </summary>
    /// <remarks>
    /// Bytes the other direction still held are dropped, as a reset drops them. Unix sockets have no RST: a Unix-socket
    /// peer sees an EOF instead (or a reset, when the proxy's socket held bytes it had not read yet).
    /// </remarks>
    public long? ResetAfterBytes { get; init; }

    /// <summary>
    /// After this many bytes were forwarded in this direction, close the connection gracefully: the receiver gets them,
    /// then an EOF, and the sender's side is closed too. <see langword="null"/> for no close (Toxiproxy's <c>limit_data</c>).
    /// The default is <see langword="null"/>.
    /// </summary>
    public long? CloseAfterBytes { get; init; }

    /// <summary>
    /// After this many bytes were forwarded in this direction, half-close it: the receiver gets them, then an EOF, while
    /// the other direction goes on; what the sender sends later in this direction is read and dropped.
    /// <see langword="null"/> for no half-close. The default is <see langword="null"/>.
    /// </summary>
    public long? HalfCloseAfterBytes { get; init; }

    /// <summary>Whether any fault delays bytes (latency, jitter, bandwidth, slicing), so they cannot be forwarded as they are read.</summary>
    internal bool DelaysBytes => Latency > TimeSpan.Zero || Jitter > TimeSpan.Zero || BandwidthBytesPerSecond is not null || SliceSize is not null;

    /// <summary>The byte limit that ends this direction, if any, and what it does.</summary>
    internal (EndFault Kind, long Limit)? EndAfter =>
        ResetAfterBytes is long reset ? (EndFault.Reset, reset)
        : CloseAfterBytes is long close ? (EndFault.Close, close)
        : HalfCloseAfterBytes is long halfClose ? (EndFault.HalfClose, halfClose)
        : null;

    /// <summary>Throws if a setting is out of range or two settings contradict each other.</summary>
    /// <param name="parameterName">The name of the argument the spec was passed as, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">A duration or size is out of range.</exception>
    /// <exception cref="ArgumentException">Slice settings without <see cref="SliceSize"/>, or more than one byte limit.</exception>
    internal void Validate(string? parameterName)
    {
        if (Latency < TimeSpan.Zero || Jitter < TimeSpan.Zero || SliceDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"Latency, jitter and slice delay must not be negative; got {this}.");
        }

        if (BandwidthBytesPerSecond is <= 0)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"The bandwidth must be positive when set; got {this}.");
        }

        if (SliceSize is <= 0 || SliceVariation < 0 || (SliceSize is int size && SliceVariation >= size))
        {
            throw new ArgumentOutOfRangeException(parameterName, $"The slice size must be positive and the variation at least 0 and below it; got {this}.");
        }

        if (SliceSize is null && (SliceVariation != 0 || SliceDelay != TimeSpan.Zero))
        {
            throw new ArgumentException($"A slice variation or delay needs a slice size; got {this}.", parameterName);
        }

        if (ResetAfterBytes is < 0 || CloseAfterBytes is < 0 || HalfCloseAfterBytes is < 0)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"Byte limits must not be negative; got {this}.");
        }

        if ((ResetAfterBytes is null ? 0 : 1) + (CloseAfterBytes is null ? 0 : 1) + (HalfCloseAfterBytes is null ? 0 : 1) > 1)
        {
            throw new ArgumentException($"At most one of reset-after, close-after and half-close-after may be set; got {this}.", parameterName);
        }
    }
}

/// <summary>How a byte limit ends a direction (see <see cref="FaultSpec.EndAfter"/>).</summary>
internal enum EndFault
{
    Reset,
    Close,
    HalfClose,
}
