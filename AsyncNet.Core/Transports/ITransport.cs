namespace AsyncNet.Transports;

/// <summary>What every transport offers its protocol (asyncio's <c>BaseTransport</c>).</summary>
/// <remarks>Transports are bound to their loop: call them on the loop thread.</remarks>
public interface ITransport
{
    /// <summary>Whether the transport is closing or closed.</summary>
    bool IsClosing { get; }

    /// <summary>Closes the transport: buffered data is flushed first, then the protocol's <c>ConnectionLost</c>(null) runs.</summary>
    void Close();

    /// <summary>Extra information, asyncio's <c>get_extra_info</c>: "peername", "sockname", "socket".</summary>
    /// <param name="name">The name.</param>
    /// <param name="defaultValue">What to return for an unknown name.</param>
    /// <returns>The value, or <paramref name="defaultValue"/>.</returns>
    object? GetExtraInfo(string name, object? defaultValue = null);
}
