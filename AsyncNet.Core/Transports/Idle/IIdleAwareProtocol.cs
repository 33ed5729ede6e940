namespace AsyncNet.Transports;

/// <summary>A stream protocol that wants to hear when its connection goes idle (Netty's <c>userEventTriggered</c> with an <c>IdleStateEvent</c>).</summary>
/// <remarks>
/// <para>
/// Implement it beside <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/> and set
/// <see cref="StreamTransportOptions.Idle"/>; without those options the transport never calls it.
/// </para>
/// <para>
/// <see cref="IdleDetected"/> runs on the loop thread, between <c>ConnectionMade</c> and <c>ConnectionLost</c>, only
/// while the transport is open (not once <c>Close</c> was called). Writes made inside it are gathered and sent when it
/// returns, as in <c>DataReceived</c>. Typical answers: on <see cref="IdleKind.Write"/> write a heartbeat; on
/// <see cref="IdleKind.Read"/> close, or let <see cref="IdleOptions.CloseOnIdle"/> do it with an
/// <see cref="IdleTimeoutException"/>. An exception thrown from it goes to the loop's exception handler and
/// closes the connection with that exception, as for the other protocol callbacks.
/// </para>
/// </remarks>
public interface IIdleAwareProtocol : IBaseProtocol
{
    /// <summary>A direction of the connection has been quiet for its configured timeout.</summary>
    /// <param name="idle">Which direction, for how long, and whether this is the first report of the quiet stretch.</param>
    void IdleDetected(IdleEvent idle);
}
