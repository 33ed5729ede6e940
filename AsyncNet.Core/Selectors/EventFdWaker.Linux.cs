using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using AsyncNet.Interop;

namespace AsyncNet.Selectors;

/// <summary>A waker on a Linux eventfd: one non-blocking descriptor whose 64-bit counter coalesces wake-ups.</summary>
/// <remarks>
/// <see cref="Wake"/> adds 1 to the counter, which makes the descriptor readable; <see cref="Drain"/> reads the
/// counter, which resets it to 0. The counter saturates after 2^64-2 wakes without a drain: a write then fails
/// with EAGAIN, which still means "readable", so it is ignored.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EventFdWaker : Waker
{
    private readonly FileDescriptorHandle _fd;

    /// <summary>Creates a non-blocking, close-on-exec eventfd.</summary>
    public EventFdWaker()
    {
        int fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (fd == -1)
        {
            throw Libc.Error("eventfd", Marshal.GetLastPInvokeError());
        }

        _fd = new FileDescriptorHandle(fd);
    }

    /// <summary>The eventfd's number, which is what gets registered.</summary>
    internal int Fd => _fd.Fd;

    /// <inheritdoc/>
    public override SelectorKey Register(ISelector selector, object? data)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        return selector.Register(_fd.Fd, SelectorEvents.Read, data);
    }

    /// <inheritdoc/>
    /// <remarks>Does nothing once the waker is disposed, as asyncio's <c>_write_to_self</c> does.</remarks>
    public override void Wake()
    {
        if (_fd.IsClosed)
        {
            return;
        }

        ulong one = 1;
        try
        {
            while (Libc.write(_fd, (byte*)&one, sizeof(ulong)) == -1)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EAGAIN)
                {
                    return; // the counter is saturated: a wake-up is pending already
                }

                if (errno != Libc.EINTR)
                {
                    throw Libc.Error("write(eventfd)", errno);
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed by the loop thread between the check and the call: nobody is left to wake.
        }
    }

    /// <inheritdoc/>
    public override void Drain()
    {
        ulong count;
        while (Libc.read(_fd, (byte*)&count, sizeof(ulong)) == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EAGAIN)
            {
                return; // nothing pending
            }

            if (errno != Libc.EINTR)
            {
                throw Libc.Error("read(eventfd)", errno);
            }
        }
    }

    /// <inheritdoc/>
    public override void Dispose() => _fd.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"EventFdWaker({_fd})";
}
