namespace AsyncNet.Transports;

/// <summary>
/// A transport that defers the writes made inside its protocol callbacks (to send them together when the callback
/// returns) and can send them early when asked. Internal: the stream writer's drain uses it.
/// </summary>
/// <remarks>
/// Why a drain needs it: deferred bytes count in the write buffer, so a drain made inside the callback (a stream
/// handler continuing inline on the loop thread) would otherwise wait for bytes that are not even sent yet, and go
/// asynchronous once per callback for nothing.
/// </remarks>
internal interface IDeferredWrites
{
    /// <summary>
    /// Sends now what the protocol callback in progress has deferred, as its return would; does nothing outside a
    /// callback, or while the transport already waits for the socket to become writable.
    /// </summary>
    /// <remarks>Loop thread only.</remarks>
    void SendDeferred();
}
