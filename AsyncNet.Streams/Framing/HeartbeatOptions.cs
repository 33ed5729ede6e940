using System.Globalization;
using AsyncNet.Errors;
using AsyncNet.Transports;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Framing;

/// <summary>
/// Heartbeats for a framed connection: send a ping frame when this side has sent nothing for <see cref="Interval"/>,
/// and close the connection with an <see cref="IdleTimeoutException"/> when nothing has arrived for
/// <see cref="Deadline"/>. Pass it to the <see cref="FramedEndpoints"/> methods.
/// </summary>
/// <remarks>
/// <para>
/// It is the connection's idle detection (<see cref="IdleOptions"/>), set up for heartbeats: <see cref="IdleOptions.WriteIdle"/>
/// is the interval and its report sends the ping; <see cref="IdleOptions.ReadIdle"/> is the deadline, with
/// <see cref="IdleOptions.CloseOnIdle"/>. So a connection costs one timer, re-armed when it fires, however many frames
/// or pings it carries: no timer work and no allocation per frame, and a ping costs one send of bytes encoded once
/// plus the timer's re-arm. <see cref="ToIdleOptions"/> and
/// <see cref="CreatePingSender"/> give the two halves for wiring it up by hand.
/// </para>
/// <para>The rules:</para>
/// <list type="bullet">
/// <item><b>When a ping goes out.</b> When nothing has been sent for <see cref="Interval"/> (no send the kernel took
/// bytes from), one ping frame is sent: <see cref="PingType"/> and <see cref="PingPayload"/> in the connection's
/// <see cref="LengthFieldFormat"/>. Application frames are sending too, so a busy connection sends no pings; the ping
/// itself is, so a quiet connection sends one per interval.</item>
/// <item><b>When it does not.</b> While bytes still wait in the connection's write buffer (the peer is not reading:
/// they reach it before any ping could, and pings would only pile up behind them); and once the writer is closing,
/// closed or half-closed (<see cref="StreamWriter.WriteEof"/>).</item>
/// <item><b>Pings never split a frame.</b> A ping is written on the loop thread, whole, between writes.
/// <see cref="FrameWriter"/> hands every frame to the connection as one write (from the loop thread directly, from
/// another thread as one queued entry), so a ping lands before or after a frame, never inside one. A frame put
/// together from several <see cref="StreamWriter"/> calls has no such guarantee if they come from another thread or
/// with an await between them.</item>
/// <item><b>Any received byte resets the deadline</b>: a ping, an application frame, or part of one (a large frame
/// arriving slowly keeps the connection open). When nothing arrives for <see cref="Deadline"/>, the connection is
/// aborted (queued bytes are dropped) with an <see cref="IdleTimeoutException"/> (<see cref="IdleKind.Read"/>, the
/// deadline as its timeout), which a pending <see cref="FrameReader.ReadFrameAsync"/> and every later read,
/// <see cref="FrameWriter.DrainAsync"/> and <see cref="StreamWriter.WaitClosedAsync"/> throw.</item>
/// <item><b>Stalls of this side's own do not count.</b> While the application does not read frames and the reader is
/// full (the transport paused reading), the deadline does not run. After the peer's EOF on a half-open connection it
/// does, so a half-open connection that falls silent is reaped too.</item>
/// <item><b>There is no pong.</b> Pings are not answered: each side pings when it has been quiet. So both ends need a
/// heartbeat, usually with the same settings, or the peer must send something else within this side's deadline.
/// That is why <see cref="Deadline"/> must exceed <see cref="Interval"/>.</item>
/// <item><b>What a received ping is.</b> A frame whose type and payload are what the ping frame decodes to. Pick a ping
/// the application never sends: a type of its own, or with no type field, say, an empty frame if the application
/// never sends empty ones. With <see cref="HidePings"/> the <see cref="FrameReader"/> skips them.</item>
/// </list>
/// </remarks>
public sealed record HeartbeatOptions
{
    /// <summary>The <see cref="Deadline"/> when none is set is this many intervals: room for two late pings.</summary>
    private const int DefaultDeadlineIntervals = 3;

    /// <summary>The default <see cref="Interval"/>: 30 seconds.</summary>
    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromSeconds(30);

    /// <summary>How long this side may send nothing before it sends a ping. The default is <see cref="DefaultInterval"/> (30 s).</summary>
    public TimeSpan Interval { get; init; } = DefaultInterval;

    /// <summary>
    /// How long nothing may be received before the connection is closed with an <see cref="IdleTimeoutException"/>, or
    /// <see langword="null"/> for three times <see cref="Interval"/>. The default is <see langword="null"/> (90 s with the
    /// default interval).
    /// </summary>
    /// <remarks>
    /// It must exceed <see cref="Interval"/>: with the same settings at both ends, a quiet connection receives the peer's
    /// pings one interval apart (plus the network's and the peer's delays).
    /// </remarks>
    public TimeSpan? Deadline { get; init; }

    /// <summary>The ping frame's type. The default is 0; it must fit the format's type field (0 without one).</summary>
    public uint PingType { get; init; }

    /// <summary>
    /// The ping frame's payload, as <see cref="FrameWriter.Write(uint, ReadOnlyMemory{byte})"/> takes it. The default is
    /// empty.
    /// </summary>
    /// <remarks>Copied (encoded) when a connection or server is set up with these options; changing the bytes afterwards has no effect on it.</remarks>
    public ReadOnlyMemory<byte> PingPayload { get; init; }

    /// <summary>
    /// Whether the <see cref="FrameReader"/> of a connection set up with these options skips received pings, so the
    /// application sees only its own frames (<see cref="FrameReader.PingsSkipped"/> counts them). The default is
    /// <see langword="true"/>.
    /// </summary>
    /// <remarks>Either way a received ping resets the deadline: it is bytes received.</remarks>
    public bool HidePings { get; init; } = true;

    /// <summary>The deadline in force: <see cref="Deadline"/>, or three intervals when it is not set.</summary>
    internal TimeSpan EffectiveDeadline =>
        Deadline ?? (Interval <= TimeSpan.MaxValue / DefaultDeadlineIntervals ? Interval * DefaultDeadlineIntervals : TimeSpan.MaxValue);

    /// <summary>The connection idle detection these heartbeats run on: write-idle at the interval, read-idle at the deadline, closing.</summary>
    /// <returns>New options for <see cref="StreamTransportOptions.Idle"/>.</returns>
    /// <remarks>
    /// For wiring a heartbeat up by hand with <see cref="StreamEndpoints"/>: set these as the connection's or server's
    /// <see cref="StreamTransportOptions.Idle"/>, <see cref="CreatePingSender"/> as <see cref="StreamOptions.OnIdle"/>, and
    /// read with <see cref="FrameReader(StreamReader, LengthFieldFormat, HeartbeatOptions?)"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (see <see cref="Interval"/> and <see cref="Deadline"/>).</exception>
    public IdleOptions ToIdleOptions()
    {
        Validate(parameterName: null);
        return new IdleOptions { WriteIdle = Interval, ReadIdle = EffectiveDeadline, CloseOnIdle = true };
    }

    /// <summary>
    /// Makes the idle callback that sends the ping, encoded once in <paramref name="format"/>; set it as
    /// <see cref="StreamOptions.OnIdle"/> beside <see cref="ToIdleOptions"/>.
    /// </summary>
    /// <param name="format">The connection's frame layout.</param>
    /// <returns>A callback that sends the ping on a write-idle report, under the rules in the type's remarks, and ignores other reports; one may serve any number of connections.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="format"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    /// <exception cref="ArgumentException">The ping cannot be framed in <paramref name="format"/> (its type does not fit, or its payload's length does not).</exception>
    public Action<StreamWriter, IdleEvent> CreatePingSender(LengthFieldFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        return new HeartbeatPing(this, format, parameterName: null).SendOnIdle;
    }

    /// <inheritdoc/>
    /// <returns>For example "HeartbeatOptions(Interval=100 ms, Deadline=300 ms, PingType=0, PingPayload=0 bytes, HidePings)".</returns>
    public override string ToString() => string.Format(
        CultureInfo.InvariantCulture,
        "HeartbeatOptions(Interval={0}, Deadline={1}, PingType={2}, PingPayload={3} bytes{4})",
        Describe(Interval),
        DescribeDeadline(),
        PingType,
        PingPayload.Length,
        HidePings ? ", HidePings" : string.Empty);

    /// <summary>Throws if the interval is not positive or the deadline does not exceed it.</summary>
    /// <param name="parameterName">The name of the options argument, for the exception; null when these options are the instance called.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    internal void Validate(string? parameterName)
    {
        if (Interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"The heartbeat interval must be positive; got {this}.");
        }

        if (Deadline is { } deadline && deadline <= Interval)
        {
            throw new ArgumentOutOfRangeException(
                parameterName,
                $"The heartbeat deadline must exceed the interval (with the same settings at both ends, the peer's pings arrive one interval apart); got {this}.");
        }
    }

    // As the idle timeouts word them: milliseconds below ten seconds, else seconds.
    private static string Describe(TimeSpan duration) =>
        duration < TimeSpan.FromSeconds(10)
            ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0.###} ms")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.###} s");

    private string DescribeDeadline() =>
        Deadline is { } deadline
            ? Describe(deadline)
            : Interval > TimeSpan.Zero ? $"{Describe(EffectiveDeadline)} (3 intervals)" : "3 intervals";
}
