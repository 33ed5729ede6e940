using System.Net.Sockets;

namespace AsyncNet.Selectors;

/// <summary>
/// Waits for I/O readiness on many descriptors at once: asyncio's <c>selectors.BaseSelector</c>.
/// </summary>
/// <remarks>
/// <para>
/// A selector is level-triggered: a descriptor stays ready, and is reported by every
/// <see cref="Select"/>, until the condition is consumed (data read, buffer room used).
/// </para>
/// <para>
/// A selector is not thread-safe: one thread (the event loop's) registers, modifies and selects. Closing
/// it while another thread is blocked in <see cref="Select"/> is not supported; wake the selecting thread
/// first (the event loop does this with its own wake-up descriptor).
/// </para>
/// <para>
/// Errors: registering a registered descriptor throws <see cref="ArgumentException"/>; modifying,
/// unregistering or getting an unknown one throws <see cref="KeyNotFoundException"/>; a negative or
/// closed descriptor throws <see cref="ArgumentException"/>; an interest other than read and/or write
/// throws <see cref="ArgumentException"/>; any call on a closed selector throws
/// <see cref="ObjectDisposedException"/>.
/// </para>
/// </remarks>
public interface ISelector : IDisposable
{
    /// <summary>The number of registered descriptors.</summary>
    int Count { get; }

    /// <summary>Whether <see cref="IDisposable.Dispose"/> has been called.</summary>
    bool IsClosed { get; }

    /// <summary>Registers a descriptor for the given interest.</summary>
    /// <param name="fd">An open descriptor (a socket, pipe or eventfd).</param>
    /// <param name="events"><see cref="SelectorEvents.Read"/>, <see cref="SelectorEvents.Write"/> or both.</param>
    /// <param name="data">User data returned with the key.</param>
    /// <returns>The new key.</returns>
    /// <exception cref="ArgumentException">The descriptor is registered already, negative or not open, or the interest is invalid.</exception>
    /// <exception cref="NotSupportedException">This selector watches sockets only.</exception>
    /// <exception cref="ObjectDisposedException">The selector is closed.</exception>
    SelectorKey Register(int fd, SelectorEvents events, object? data = null);

    /// <summary>Registers a socket for the given interest.</summary>
    /// <param name="socket">An open socket; the key keeps it alive. Unregister it before disposing it.</param>
    /// <param name="events"><see cref="SelectorEvents.Read"/>, <see cref="SelectorEvents.Write"/> or both.</param>
    /// <param name="data">User data returned with the key.</param>
    /// <returns>The new key.</returns>
    /// <exception cref="ArgumentException">The socket is registered already or closed, or the interest is invalid.</exception>
    /// <exception cref="ObjectDisposedException">The selector is closed.</exception>
    SelectorKey Register(Socket socket, SelectorEvents events, object? data = null);

    /// <summary>Changes the interest and user data of a registered descriptor.</summary>
    /// <param name="fd">A registered descriptor.</param>
    /// <param name="events"><see cref="SelectorEvents.Read"/>, <see cref="SelectorEvents.Write"/> or both.</param>
    /// <param name="data">The new user data.</param>
    /// <returns>The same key, updated.</returns>
    /// <exception cref="KeyNotFoundException">The descriptor is not registered.</exception>
    /// <exception cref="ArgumentException">The interest is invalid.</exception>
    /// <exception cref="ObjectDisposedException">The selector is closed.</exception>
    SelectorKey Modify(int fd, SelectorEvents events, object? data);

    /// <summary>Stops watching a descriptor.</summary>
    /// <param name="fd">A registered descriptor.</param>
    /// <returns>The removed key.</returns>
    /// <exception cref="KeyNotFoundException">The descriptor is not registered.</exception>
    /// <exception cref="ObjectDisposedException">The selector is closed.</exception>
    SelectorKey Unregister(int fd);

    /// <summary>Gets the key of a registered descriptor.</summary>
    /// <param name="fd">The descriptor.</param>
    /// <param name="key">The key, when registered.</param>
    /// <returns>Whether the descriptor is registered.</returns>
    /// <exception cref="ObjectDisposedException">The selector is closed.</exception>
    bool TryGetKey(int fd, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SelectorKey? key);

    /// <summary>Waits until at least one registered descriptor is ready, or the timeout passes.</summary>
    /// <param name="timeout">
    /// <see langword="null"/> waits without limit; <see cref="TimeSpan.Zero"/> or less polls without waiting.
    /// A positive timeout is rounded up to the OS's resolution (milliseconds), never down, so a loop that
    /// waits for a timer never wakes early and spins.
    /// </param>
    /// <returns>
    /// The ready keys. The span is the selector's own buffer: it is valid until the next call on this selector.
    /// An interrupted wait (EINTR) returns an empty span.
    /// </returns>
    /// <exception cref="ObjectDisposedException">The selector is closed.</exception>
    ReadOnlySpan<SelectorReady> Select(TimeSpan? timeout);
}
