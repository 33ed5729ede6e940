using AsyncNet.Errors;

namespace AsyncNet.Transports;

/// <summary>
/// Per-connection idle detection (Netty's <c>IdleStateHandler</c>): report, or end, a connection on which nothing was
/// received, nothing was sent, or neither, for a while. Set it as <see cref="StreamTransportOptions.Idle"/>.
/// </summary>
/// <remarks>
/// <para>
/// Activity: a read that brought bytes (or the peer's EOF) is read activity; a send that the kernel took bytes from is
/// write activity. Bytes still waiting in the transport's write buffer are not activity, so a peer that stops reading
/// shows up as write-idle on this side.
/// </para>
/// <para>
/// Reports: when a direction has been quiet for its timeout, the protocol's <see cref="IIdleAwareProtocol.IdleDetected"/>
/// hears it with <see cref="IdleEvent.IsFirst"/> set; while the quiet lasts it hears it again after each further full
/// timeout, with <see cref="IdleEvent.IsFirst"/> clear; activity starts a new stretch. Each direction counts separately,
/// and when several are due together they are reported in the order read, write, all.
/// </para>
/// <para>
/// Exceptions to the rule: while the transport's reading is paused (<c>PauseReading</c>, which a full
/// <c>StreamReader</c> does) the read side counts as active — the stall is this side's, not the peer's — and a fresh
/// read stretch starts when reading resumes. After <c>WriteEof</c> write-idle is no longer reported (nothing can be
/// written). After the peer's EOF on a connection kept half-open, read-idle goes on counting from the EOF, so
/// close-on-idle also reaps half-open connections that fall silent. Once the transport is closing (<c>Close</c>,
/// <c>Abort</c>, an error, an EOF it did not keep open) idle detection stops.
/// </para>
/// <para>
/// Cost: one timer per connection, re-armed only when it fires (then for the time that remains). Steady traffic costs
/// one clock read per read and per send outside a read's callback (a reply flushed as the callback returns reuses the
/// read's) and one timer allocation per timeout period: no timer work and no allocation per message. Without these
/// options, nothing at all.
/// </para>
/// </remarks>
public sealed record IdleOptions
{
    /// <summary>
    /// How long nothing may be received before read-idle is reported, or <see langword="null"/> not to watch reads.
    /// The default is <see langword="null"/>.
    /// </summary>
    public TimeSpan? ReadIdle { get; init; }

    /// <summary>
    /// How long nothing may be sent before write-idle is reported, or <see langword="null"/> not to watch writes.
    /// The default is <see langword="null"/>.
    /// </summary>
    /// <remarks>Write-idle only reports (a heartbeat answers it); it never closes, even with <see cref="CloseOnIdle"/>.</remarks>
    public TimeSpan? WriteIdle { get; init; }

    /// <summary>
    /// How long nothing may be received or sent before all-idle is reported, or <see langword="null"/> not to watch
    /// both together. The default is <see langword="null"/>.
    /// </summary>
    public TimeSpan? AllIdle { get; init; }

    /// <summary>
    /// Whether read-idle and all-idle end the connection instead of being reported: the transport aborts (queued bytes
    /// are dropped) and <c>ConnectionLost</c> receives an <see cref="IdleTimeoutException"/> naming the kind and the
    /// timeout, which pending stream reads and drains then throw. The default is <see langword="false"/>.
    /// </summary>
    /// <remarks>
    /// Write-idle is still reported, never acted on: it measures this side's own silence, which a write cures. So
    /// <c>WriteIdle</c> = interval, <c>ReadIdle</c> = deadline, <c>CloseOnIdle</c> = true is a heartbeat: ping when
    /// quiet, give up on a peer that stopped answering. Setting this without <see cref="ReadIdle"/> or
    /// <see cref="AllIdle"/> is an error.
    /// </remarks>
    public bool CloseOnIdle { get; init; }

    /// <summary>Whether any timeout is set.</summary>
    internal bool IsEnabled => ReadIdle is not null || WriteIdle is not null || AllIdle is not null;

    /// <inheritdoc/>
    /// <returns>For example "IdleOptions(ReadIdle=200 ms, WriteIdle=off, AllIdle=off, CloseOnIdle)".</returns>
    public override string ToString() =>
        $"IdleOptions(ReadIdle={Describe(ReadIdle)}, WriteIdle={Describe(WriteIdle)}, AllIdle={Describe(AllIdle)}{(CloseOnIdle ? ", CloseOnIdle" : string.Empty)})";

    /// <summary>Throws if a timeout is not positive, or if <see cref="CloseOnIdle"/> has nothing to act on.</summary>
    /// <param name="parameterName">The name of the options argument, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    internal void Validate(string parameterName)
    {
        if (ReadIdle <= TimeSpan.Zero || WriteIdle <= TimeSpan.Zero || AllIdle <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"Idle timeouts must be positive when set; got {this}.");
        }

        if (CloseOnIdle && ReadIdle is null && AllIdle is null)
        {
            throw new ArgumentOutOfRangeException(
                parameterName, "CloseOnIdle needs ReadIdle or AllIdle: write-idle never closes a connection (it is this side's own silence; answer it by writing).");
        }
    }

    private static string Describe(TimeSpan? timeout) => timeout is { } t ? IdleTimeoutException.FormatDuration(t) : "off";
}
