using AsyncNet.Diagnostics;
using AsyncNet.Loop;

namespace AsyncNet.Transports;

/// <summary>
/// Write-buffer flow control for one transport (asyncio's <c>_FlowControlMixin</c>): the high- and low-water marks,
/// and the protocol's <c>PauseWriting</c>/<c>ResumeWriting</c> calls at them. Every transport of AsyncNet keeps its
/// marks here; a transport of your own can use it too.
/// </summary>
/// <remarks>
/// <para>
/// The rule: <c>PauseWriting</c> is called once when the buffered bytes go <em>strictly above</em> the high mark;
/// <c>ResumeWriting</c> once when they fall <em>to or below</em> the low mark. The two alternate, starting with pause.
/// Defaults: high <see cref="DefaultHighWaterMark"/> (64 KiB), low = high / 4; giving only the low mark makes
/// high = 4 × low. Changing the marks re-checks them at once.
/// </para>
/// <para>
/// The transport reports its buffer through <see cref="OnBufferGrew"/> (after queueing) and
/// <see cref="OnBufferShrank"/> (after sending), and ends flow control with <see cref="Stop"/> when the connection
/// is lost, after which the protocol hears nothing more. A protocol callback that throws goes to the loop's exception
/// handler, naming the transport; flow control goes on. Loop thread only: the thread is not checked, for speed, except
/// in the loop's debug mode (<see cref="EventLoopOptions.Debug"/>), where a call from another thread while the loop
/// runs throws <see cref="InvalidOperationException"/>.
/// </para>
/// <para>Every pause is counted by the <c>asyncnet.write.pauses</c> counter of the "AsyncNet" meter.</para>
/// </remarks>
public sealed class WriteFlowControl
{
    /// <summary>The default high-water mark: 64 KiB (asyncio's).</summary>
    public const int DefaultHighWaterMark = 64 * 1024;

    private readonly EventLoop _loop;
    private readonly IBaseProtocol _protocol;
    private readonly object _transport;
    private bool _stopped;

    /// <summary>Creates the flow control of one transport.</summary>
    /// <param name="loop">The transport's loop, whose exception handler hears of a throwing protocol.</param>
    /// <param name="protocol">The protocol to pause and resume.</param>
    /// <param name="transport">The transport, named as the source when a protocol callback throws.</param>
    /// <param name="highWaterMark">The high mark, or <see langword="null"/> for the default.</param>
    /// <param name="lowWaterMark">The low mark, or <see langword="null"/> for the default.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="protocol"/> or <paramref name="transport"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A mark is negative, or high &lt; low.</exception>
    public WriteFlowControl(EventLoop loop, IBaseProtocol protocol, ITransport transport, int? highWaterMark = null, int? lowWaterMark = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(transport);
        _loop = loop;
        _protocol = protocol;
        _transport = transport;
        (HighWaterMark, LowWaterMark) = ResolveLimits(highWaterMark, lowWaterMark, highWaterMark is null ? nameof(lowWaterMark) : nameof(highWaterMark));
    }

    /// <summary>The high-water mark: above it the protocol is paused.</summary>
    public int HighWaterMark { get; private set; }

    /// <summary>The low-water mark: at or below it a paused protocol is resumed.</summary>
    public int LowWaterMark { get; private set; }

    /// <summary>Whether the protocol was told <c>PauseWriting</c> and not yet <c>ResumeWriting</c>.</summary>
    public bool IsWritingPaused { get; private set; }

    /// <summary>The connection's metrics, whose tags a pause is counted with; null for a transport that is no stream connection.</summary>
    internal ConnectionMetrics? Metrics { get; init; }

    /// <summary>Resolves a pair of marks as asyncio's <c>set_write_buffer_limits</c> does, and checks them.</summary>
    /// <param name="high">The high mark, or <see langword="null"/>: <see cref="DefaultHighWaterMark"/>, or 4 × <paramref name="low"/> when only that is given.</param>
    /// <param name="low">The low mark, or <see langword="null"/>: a quarter of the high mark.</param>
    /// <param name="parameterName">The parameter to name in the exception.</param>
    /// <returns>The marks to use.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A mark is negative, or high &lt; low.</exception>
    public static (int High, int Low) ResolveLimits(int? high, int? low, string parameterName)
    {
        if (low is < 0 || high is < 0)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"The write buffer marks must not be negative (high {high}, low {low}).");
        }

        int resolvedHigh = high ?? (low is int l ? (int)Math.Min(4L * l, int.MaxValue) : DefaultHighWaterMark);
        int resolvedLow = low ?? resolvedHigh / 4;
        if (resolvedHigh < resolvedLow)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"The high-water mark ({resolvedHigh}) must not be below the low-water mark ({resolvedLow}).");
        }

        return (resolvedHigh, resolvedLow);
    }

    /// <summary>Sets the marks (as <see cref="ResolveLimits"/> resolves them) and re-checks them against <paramref name="bufferedBytes"/> at once.</summary>
    /// <param name="high">The high mark, or <see langword="null"/> for the default.</param>
    /// <param name="low">The low mark, or <see langword="null"/> for the default.</param>
    /// <param name="bufferedBytes">The bytes the transport holds now.</param>
    /// <exception cref="ArgumentOutOfRangeException">A mark is negative, or high &lt; low; the marks are unchanged then.</exception>
    public void SetLimits(int? high, int? low, int bufferedBytes)
    {
        _loop.VerifyAccessInDebugMode();
        (HighWaterMark, LowWaterMark) = ResolveLimits(high, low, high is null ? nameof(low) : nameof(high));
        OnBufferGrew(bufferedBytes);
        OnBufferShrank(bufferedBytes);
    }

    /// <summary>The buffer grew (bytes were queued): pauses the protocol once it is strictly above the high mark.</summary>
    /// <param name="bufferedBytes">The bytes the transport holds now.</param>
    public void OnBufferGrew(int bufferedBytes)
    {
        _loop.VerifyAccessInDebugMode();
        if (!IsWritingPaused && bufferedBytes > HighWaterMark && !_stopped)
        {
            Pause();
        }
    }

    /// <summary>The buffer shrank (bytes were sent): resumes a paused protocol once it is at or below the low mark.</summary>
    /// <param name="bufferedBytes">The bytes the transport holds now.</param>
    public void OnBufferShrank(int bufferedBytes)
    {
        _loop.VerifyAccessInDebugMode();
        if (IsWritingPaused && bufferedBytes <= LowWaterMark && !_stopped)
        {
            IsWritingPaused = false;
            Call(static p => p.ResumeWriting(), "ResumeWriting");
        }
    }

    /// <summary>
    /// Makes sure a <c>ResumeWriting</c> call comes when the buffer next falls to the low mark: pauses the protocol now
    /// if the buffer is above the low mark, even if it is not above the high mark.
    /// </summary>
    /// <param name="bufferedBytes">The bytes the transport holds now.</param>
    /// <returns>
    /// <see langword="true"/> if the protocol is paused (now or before) and will be resumed at the low mark;
    /// <see langword="false"/> if the buffer is already at or below the low mark, or flow control has stopped.
    /// </returns>
    /// <remarks>
    /// This is what a stream writer's drain needs: "wait until the buffer is at the low mark" also when the buffer lies
    /// between the two marks, where asyncio's rule alone would never call back. Pause and resume still alternate.
    /// </remarks>
    public bool PauseUntilLowWater(int bufferedBytes)
    {
        _loop.VerifyAccessInDebugMode();
        if (_stopped)
        {
            return false;
        }

        if (IsWritingPaused)
        {
            return true;
        }

        if (bufferedBytes <= LowWaterMark)
        {
            return false;
        }

        Pause();
        return true;
    }

    /// <summary>Ends flow control: the connection is lost, and the protocol is neither paused nor resumed any more.</summary>
    public void Stop()
    {
        _loop.VerifyAccessInDebugMode();
        _stopped = true;
    }

    /// <inheritdoc/>
    /// <returns>For example "WriteFlowControl(High=65536, Low=16384, Paused)".</returns>
    public override string ToString() =>
        $"WriteFlowControl(High={HighWaterMark}, Low={LowWaterMark}{(IsWritingPaused ? ", Paused" : string.Empty)}{(_stopped ? ", Stopped" : string.Empty)})";

    private void Pause()
    {
        IsWritingPaused = true;
        if (Metrics is { } metrics)
        {
            metrics.WritePaused();
        }
        else if (CoreMeter.WritePauses.Enabled)
        {
            CoreMeter.WritePauses.Add(1);
        }

        Call(static p => p.PauseWriting(), "PauseWriting");
    }

    private void Call(Action<IBaseProtocol> callback, string name)
    {
        try
        {
            callback(_protocol);
        }
        catch (Exception ex)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext($"Exception in protocol.{name}()", ex) { Source = _transport });
        }
    }
}
