using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using AsyncNet.Interop;

namespace AsyncNet.Selectors;

/// <summary>A self-pipe waker for POSIX systems without eventfd (macOS, the BSDs).</summary>
/// <remarks>
/// <see cref="Wake"/> writes one byte to the non-blocking write end; when the pipe is full (64 KiB of pending
/// wake-ups on Linux, 16 KiB on macOS) the write fails with EAGAIN, which is ignored: the read end is readable
/// already. <see cref="Drain"/> reads until EAGAIN.
/// </remarks>
[UnsupportedOSPlatform("windows")]
internal sealed unsafe class PipeWaker : Waker
{
    private readonly FileDescriptorHandle _readEnd;
    private readonly FileDescriptorHandle _writeEnd;

    /// <summary>Creates a non-blocking, close-on-exec pipe: with pipe2 on Linux, pipe and fcntl elsewhere.</summary>
    public PipeWaker()
        : this(usePipe2: OperatingSystem.IsLinux())
    {
    }

    /// <summary>Creates the pipe with pipe2 (Linux flag values), or with pipe then fcntl.</summary>
    /// <param name="usePipe2">
    /// <see langword="true"/> on Linux only. The other route serves macOS, which has no pipe2, and the BSDs,
    /// whose O_CLOEXEC values differ from each other; tests take it on Linux too.
    /// </param>
    internal PipeWaker(bool usePipe2)
    {
        Debug.Assert(!usePipe2 || OperatingSystem.IsLinux(), "pipe2 is called with Linux flag values");
        int* fds = stackalloc int[2];
        int rc = usePipe2 ? Libc.pipe2(fds, Libc.O_NONBLOCK | Libc.O_CLOEXEC_LINUX) : Libc.pipe(fds);
        if (rc == -1)
        {
            throw Libc.Error(usePipe2 ? "pipe2" : "pipe", Marshal.GetLastPInvokeError());
        }

        _readEnd = new FileDescriptorHandle(fds[0]);
        _writeEnd = new FileDescriptorHandle(fds[1]);
        if (!usePipe2)
        {
            try
            {
                SetNonBlockingAndCloseOnExec(fds[0]);
                SetNonBlockingAndCloseOnExec(fds[1]);
            }
            catch
            {
                Dispose();
                throw;
            }
        }
    }

    /// <summary>The read end's number, which is what gets registered.</summary>
    internal int ReadFd => _readEnd.Fd;

    /// <summary>The write end's number.</summary>
    internal int WriteFd => _writeEnd.Fd;

    /// <inheritdoc/>
    public override SelectorKey Register(ISelector selector, object? data)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ObjectDisposedException.ThrowIf(_readEnd.IsClosed, this);
        return selector.Register(_readEnd.Fd, SelectorEvents.Read, data);
    }

    /// <inheritdoc/>
    /// <remarks>Does nothing once the waker is disposed, as asyncio's <c>_write_to_self</c> does.</remarks>
    public override void Wake()
    {
        if (_writeEnd.IsClosed)
        {
            return;
        }

        byte one = 1;
        try
        {
            while (Libc.write(_writeEnd, &one, 1) == -1)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EAGAIN)
                {
                    return; // the pipe is full: a wake-up is pending already
                }

                if (errno != Libc.EINTR)
                {
                    throw Libc.Error("write(pipe)", errno);
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
        byte* buffer = stackalloc byte[1024];
        while (true)
        {
            nint n = Libc.read(_readEnd, buffer, 1024);
            if (n > 0)
            {
                continue;
            }

            if (n == 0)
            {
                return; // end of stream: cannot happen while this waker holds the write end
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EAGAIN)
            {
                return; // empty
            }

            if (errno != Libc.EINTR)
            {
                throw Libc.Error("read(pipe)", errno);
            }
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _writeEnd.Dispose();
        _readEnd.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"PipeWaker(read {_readEnd}, write {_writeEnd})";

    // Not atomic, unlike pipe2: a fork and exec on another thread in between would leak both ends to the child.
    private static void SetNonBlockingAndCloseOnExec(int fd)
    {
        int flags = Libc.Fcntl(fd, Libc.F_GETFL);
        if (flags == -1 ||
            Libc.Fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK) == -1 ||
            Libc.Fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC) == -1)
        {
            throw Libc.Error($"fcntl({fd})", Marshal.GetLastPInvokeError());
        }
    }
}
