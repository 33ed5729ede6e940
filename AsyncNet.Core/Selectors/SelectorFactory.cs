namespace AsyncNet.Selectors;

/// <summary>Creates the selector, and the matching waker, for this OS.</summary>
public static class SelectorFactory
{
    /// <summary>Creates the best selector for this OS: epoll on Linux, poll on other POSIX systems, the portable one elsewhere.</summary>
    /// <returns>A new selector; the caller disposes it.</returns>
    public static ISelector CreateDefault()
    {
        if (OperatingSystem.IsLinux())
        {
            return new EpollSelector();
        }

        if (!OperatingSystem.IsWindows())
        {
            return new PollSelector();
        }

        return new PortableSelector();
    }

    /// <summary>Creates a selector of the given kind.</summary>
    /// <param name="kind">The implementation; <see cref="SelectorKind.Default"/> is <see cref="CreateDefault"/>.</param>
    /// <returns>A new selector; the caller disposes it.</returns>
    /// <exception cref="PlatformNotSupportedException">The kind does not exist on this OS (epoll off Linux, poll on Windows).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined value.</exception>
    public static ISelector Create(SelectorKind kind) => kind switch
    {
        SelectorKind.Default => CreateDefault(),
        SelectorKind.Epoll => OperatingSystem.IsLinux()
            ? new EpollSelector()
            : throw new PlatformNotSupportedException("The epoll selector exists only on Linux."),
        SelectorKind.Poll => !OperatingSystem.IsWindows()
            ? new PollSelector()
            : throw new PlatformNotSupportedException("The poll selector needs a POSIX system; use SelectorKind.Portable on Windows."),
        SelectorKind.Portable => new PortableSelector(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a SelectorKind."),
    };

    /// <summary>Creates the waker that suits <paramref name="selector"/>.</summary>
    /// <remarks>
    /// A socket pair for <see cref="PortableSelector"/> (it watches sockets only) and on Windows; otherwise an
    /// eventfd on Linux (one descriptor, a counter that coalesces) and a self-pipe on other POSIX systems.
    /// </remarks>
    internal static Waker CreateWaker(ISelector selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        if (selector is PortableSelector || OperatingSystem.IsWindows())
        {
            return new SocketPairWaker();
        }

        if (OperatingSystem.IsLinux())
        {
            return new EventFdWaker();
        }

        return new PipeWaker();
    }
}
