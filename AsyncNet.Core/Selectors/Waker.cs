namespace AsyncNet.Selectors;

/// <summary>
/// Wakes a thread blocked in <see cref="ISelector.Select"/> from any other thread: eventfd on Linux,
/// a self-pipe on other POSIX systems, a connected socket pair for the portable selector.
/// </summary>
/// <remarks>
/// The read end is registered in the selector for <see cref="SelectorEvents.Read"/>. Coalescing wake-ups
/// (writing once while a wake-up is pending) is the caller's job: <see cref="Wake"/> always writes.
/// </remarks>
internal abstract class Waker : IDisposable
{
    /// <summary>Registers the read end in <paramref name="selector"/> for reading, with <paramref name="data"/>.</summary>
    public abstract SelectorKey Register(ISelector selector, object? data);

    /// <summary>Makes the read end readable. Thread-safe; never blocks (a full pipe already wakes); does nothing once disposed.</summary>
    public abstract void Wake();

    /// <summary>Consumes every pending wake-up so the read end is no longer readable. Loop thread only.</summary>
    public abstract void Drain();

    /// <summary>Closes both ends. Unregister from the selector first.</summary>
    public abstract void Dispose();

    /// <summary>Creates the waker that suits <paramref name="selector"/>.</summary>
    public static Waker Create(ISelector selector) => SelectorFactory.CreateWaker(selector);
}
