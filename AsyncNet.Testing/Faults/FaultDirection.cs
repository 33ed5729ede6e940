namespace AsyncNet.Testing.Faults;

/// <summary>Which way bytes flow through a <see cref="FaultProxy"/>; each way has faults of its own.</summary>
public enum FaultDirection
{
    /// <summary>From the client that connected to the proxy, to the upstream server (Toxiproxy's "upstream").</summary>
    ClientToUpstream,

    /// <summary>From the upstream server back to the client (Toxiproxy's "downstream").</summary>
    UpstreamToClient,
}
