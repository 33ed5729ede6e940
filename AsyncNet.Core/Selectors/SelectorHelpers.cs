using System.Net.Sockets;
using AsyncNet.Interop;

namespace AsyncNet.Selectors;

/// <summary>Argument checks, timeout conversion and readiness mapping shared by every selector, so they agree.</summary>
internal static class SelectorHelpers
{
    private const SelectorEvents ReadWrite = SelectorEvents.Read | SelectorEvents.Write;

    /// <summary>Throws unless <paramref name="events"/> is Read, Write or both.</summary>
    /// <exception cref="ArgumentException">The interest is None, or contains Error, HangUp or unknown bits.</exception>
    public static void ThrowIfInvalidInterest(SelectorEvents events, string paramName = "events")
    {
        if (events == SelectorEvents.None || (events & ~ReadWrite) != 0)
        {
            throw new ArgumentException(
                $"The interest must be Read, Write or both, not {events}; Error and HangUp are always watched and never registered.",
                paramName);
        }
    }

    /// <summary>Throws unless <paramref name="fd"/> is non-negative.</summary>
    /// <exception cref="ArgumentException"><paramref name="fd"/> is negative.</exception>
    public static void ThrowIfNegative(int fd, string paramName = "fd")
    {
        if (fd < 0)
        {
            throw new ArgumentException($"A descriptor is never negative; got {fd}.", paramName);
        }
    }

    /// <summary>Returns the descriptor of an open socket.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException">The socket is closed.</exception>
    public static int GetOpenSocketFd(Socket socket, string paramName = "socket")
    {
        ArgumentNullException.ThrowIfNull(socket, paramName);
        var handle = socket.SafeHandle;
        if (handle.IsClosed || handle.IsInvalid)
        {
            throw new ArgumentException("The socket is closed.", paramName);
        }

        // Windows SOCKET handles are pointer-sized but hold 32 significant bits, so the cast loses nothing.
        return (int)handle.DangerousGetHandle();
    }

    /// <summary>The exception for a descriptor registered twice.</summary>
    public static ArgumentException AlreadyRegistered(int fd, string paramName = "fd") =>
        new($"Descriptor {fd} is already registered; use Modify to change its interest.", paramName);

    /// <summary>The exception for a descriptor that is not open.</summary>
    public static ArgumentException NotOpen(int fd, string paramName = "fd") =>
        new($"Descriptor {fd} is not open.", paramName);

    /// <summary>The exception for a descriptor that is not registered.</summary>
    public static KeyNotFoundException NotRegistered(int fd) =>
        new($"Descriptor {fd} is not registered.");

    /// <summary>
    /// Converts a select timeout to whole milliseconds for epoll_wait and poll: -1 waits forever, 0 polls, and a
    /// positive timeout is rounded up, never down, so a loop waiting for a timer never wakes early and spins.
    /// </summary>
    /// <remarks>
    /// A timeout above <see cref="int.MaxValue"/> milliseconds (about 24.8 days) is capped there: the selector then
    /// returns early with nothing ready, which a loop treats like any timeout and waits again.
    /// </remarks>
    public static int ToTimeoutMilliseconds(TimeSpan? timeout)
    {
        if (timeout is not TimeSpan t)
        {
            return -1;
        }

        if (t <= TimeSpan.Zero)
        {
            return 0;
        }

        long ms = t.Ticks / TimeSpan.TicksPerMillisecond;
        if (t.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            ms++;
        }

        return ms > int.MaxValue ? int.MaxValue : (int)ms;
    }

    /// <summary>The POLL*/EPOLL* bits to request for <paramref name="interest"/> (the same values on Linux).</summary>
    public static short ToPollEvents(SelectorEvents interest) =>
        (short)(((interest & SelectorEvents.Read) != 0 ? Libc.POLLIN : 0) |
                ((interest & SelectorEvents.Write) != 0 ? Libc.POLLOUT : 0));

    /// <summary>Maps returned POLL*/EPOLL* bits to the readiness reported for <paramref name="interest"/>.</summary>
    public static SelectorEvents FromPollEvents(SelectorEvents interest, int revents) =>
        ToReady(
            interest,
            readable: (revents & Libc.POLLIN) != 0,
            writable: (revents & Libc.POLLOUT) != 0,
            error: (revents & (Libc.POLLERR | Libc.POLLNVAL)) != 0,
            hangUp: (revents & Libc.POLLHUP) != 0);

    /// <summary>
    /// The readiness to report: what is ready within <paramref name="interest"/>, with an error or hang-up
    /// reported beside every interest it affects (asyncio reports them as both readable and writable).
    /// </summary>
    /// <returns><see cref="SelectorEvents.None"/> when nothing the caller asked for is ready.</returns>
    public static SelectorEvents ToReady(SelectorEvents interest, bool readable, bool writable, bool error, bool hangUp)
    {
        var ready = SelectorEvents.None;
        if (readable)
        {
            ready |= SelectorEvents.Read;
        }

        if (writable)
        {
            ready |= SelectorEvents.Write;
        }

        if (error || hangUp)
        {
            // The next read or write surfaces the error, so each registered direction must hear about it.
            ready |= interest;
        }

        ready &= interest;
        if (ready != SelectorEvents.None)
        {
            if (error)
            {
                ready |= SelectorEvents.Error;
            }

            if (hangUp)
            {
                ready |= SelectorEvents.HangUp;
            }
        }

        return ready;
    }
}
