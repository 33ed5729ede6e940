namespace AsyncNet.Transports;

/// <summary>Which direction of a connection has been quiet (Netty's <c>IdleState</c>).</summary>
public enum IdleKind
{
    /// <summary>Nothing was received for <see cref="IdleOptions.ReadIdle"/>: the peer is silent.</summary>
    Read,

    /// <summary>Nothing was sent for <see cref="IdleOptions.WriteIdle"/>: this side is silent (time to send a heartbeat).</summary>
    Write,

    /// <summary>Nothing was received or sent for <see cref="IdleOptions.AllIdle"/>: the connection carries no traffic at all.</summary>
    All,
}
