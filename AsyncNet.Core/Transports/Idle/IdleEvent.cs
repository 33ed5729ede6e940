namespace AsyncNet.Transports;

/// <summary>One report that a connection has been idle, given to <see cref="IIdleAwareProtocol.IdleDetected"/> (Netty's <c>IdleStateEvent</c>).</summary>
/// <remarks>
/// A quiet stretch is reported once its timeout has passed, then again after each further full timeout while it lasts:
/// the first report of a stretch has <see cref="IsFirst"/> set, the repeats do not. Activity of the kind ends the
/// stretch, so the next report is a first one again.
/// </remarks>
public readonly struct IdleEvent : IEquatable<IdleEvent>
{
    /// <summary>Creates a report.</summary>
    /// <param name="kind">Which direction has been quiet.</param>
    /// <param name="isFirst">Whether this is the first report of the quiet stretch.</param>
    /// <param name="timeout">The configured timeout for <paramref name="kind"/>.</param>
    /// <param name="idleTime">How long the direction has been quiet; at least <paramref name="timeout"/>.</param>
    public IdleEvent(IdleKind kind, bool isFirst, TimeSpan timeout, TimeSpan idleTime)
    {
        Kind = kind;
        IsFirst = isFirst;
        Timeout = timeout;
        IdleTime = idleTime;
    }

    /// <summary>Which direction has been quiet.</summary>
    public IdleKind Kind { get; }

    /// <summary>
    /// Whether this is the first report of the quiet stretch; <see langword="false"/> for the repeats that follow each
    /// further full timeout without activity.
    /// </summary>
    public bool IsFirst { get; }

    /// <summary>The configured timeout for <see cref="Kind"/> (<see cref="IdleOptions.ReadIdle"/>, <see cref="IdleOptions.WriteIdle"/> or <see cref="IdleOptions.AllIdle"/>).</summary>
    public TimeSpan Timeout { get; }

    /// <summary>How long the direction has been quiet when reported: at least <see cref="Timeout"/> (more by the loop's lateness, or a multiple for repeats).</summary>
    public TimeSpan IdleTime { get; }

    /// <summary>Whether two reports are equal in every field.</summary>
    /// <param name="left">The first report.</param>
    /// <param name="right">The second report.</param>
    /// <returns><see langword="true"/> if they are equal.</returns>
    public static bool operator ==(IdleEvent left, IdleEvent right) => left.Equals(right);

    /// <summary>Whether two reports differ in some field.</summary>
    /// <param name="left">The first report.</param>
    /// <param name="right">The second report.</param>
    /// <returns><see langword="true"/> if they differ.</returns>
    public static bool operator !=(IdleEvent left, IdleEvent right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(IdleEvent other) =>
        Kind == other.Kind && IsFirst == other.IsFirst && Timeout == other.Timeout && IdleTime == other.IdleTime;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is IdleEvent other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, IsFirst, Timeout, IdleTime);

    /// <inheritdoc/>
    /// <returns>For example "IdleEvent(Read, First, Idle=212 ms, Timeout=200 ms)".</returns>
    public override string ToString() =>
        $"IdleEvent({Kind}, {(IsFirst ? "First" : "Repeat")}, Idle={IdleTime.TotalMilliseconds:0} ms, Timeout={Timeout.TotalMilliseconds:0} ms)";
}
