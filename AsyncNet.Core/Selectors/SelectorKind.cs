namespace AsyncNet.Selectors;

/// <summary>The selector implementations <see cref="SelectorFactory.Create"/> can build.</summary>
public enum SelectorKind
{
    /// <summary>The best selector for this OS: <see cref="Epoll"/> on Linux, <see cref="Poll"/> on other POSIX systems, <see cref="Portable"/> elsewhere.</summary>
    Default = 0,

    /// <summary><see cref="EpollSelector"/>: Linux only.</summary>
    Epoll,

    /// <summary><see cref="PollSelector"/>: any POSIX system (Linux, macOS, the BSDs).</summary>
    Poll,

    /// <summary><see cref="PortableSelector"/>: sockets only, on any OS.</summary>
    Portable,
}
