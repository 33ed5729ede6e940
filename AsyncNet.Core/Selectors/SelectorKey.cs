using System.Net.Sockets;

namespace AsyncNet.Selectors;

/// <summary>One registration in an <see cref="ISelector"/>: a descriptor, its interest and user data.</summary>
/// <remarks>
/// A key is created by <see cref="ISelector.Register(int, SelectorEvents, object?)"/> and stays valid until
/// the descriptor is unregistered; <see cref="ISelector.Modify"/> updates it in place, so holding a key is
/// cheap and ready events refer to the same instance every time.
/// </remarks>
public sealed class SelectorKey
{
    internal SelectorKey(int fd, Socket? socket, SelectorEvents events, object? data)
    {
        Fd = fd;
        Socket = socket;
        Events = events;
        Data = data;
    }

    /// <summary>The registered descriptor number.</summary>
    public int Fd { get; }

    /// <summary>The socket that was registered, or <see langword="null"/> if a bare descriptor was.</summary>
    /// <remarks>The key keeps the socket alive, so its descriptor number cannot be reused while registered.</remarks>
    public Socket? Socket { get; }

    /// <summary>The interest: <see cref="SelectorEvents.Read"/>, <see cref="SelectorEvents.Write"/> or both.</summary>
    public SelectorEvents Events { get; internal set; }

    /// <summary>The user data given at registration or by the last modify.</summary>
    public object? Data { get; internal set; }

    /// <summary>Index of this key in a selector's own arrays (the poll selector's pollfd slot); -1 when unused.</summary>
    internal int Slot { get; set; } = -1;

    /// <inheritdoc/>
    public override string ToString() => $"SelectorKey(Fd={Fd}, Events={Events})";
}
