using Microsoft.Win32.SafeHandles;

namespace AsyncNet.Interop;

/// <summary>Owns a POSIX descriptor (an epoll instance, an eventfd, a pipe end) and closes it once.</summary>
/// <remarks>
/// Passing the handle to an import adds a reference for the length of the call, so a descriptor closed by
/// one thread is never reused under a call in progress on another (a waker's <c>write</c> racing its
/// <c>Dispose</c>): the close waits for the call, and later calls throw <see cref="ObjectDisposedException"/>.
/// </remarks>
internal sealed class FileDescriptorHandle : SafeHandleMinusOneIsInvalid
{
    /// <summary>Used by the interop marshaller only.</summary>
    public FileDescriptorHandle()
        : base(ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    public FileDescriptorHandle(int fd)
        : base(ownsHandle: true) => SetHandle(fd);

    /// <summary>The descriptor number; valid only while the handle is open.</summary>
    public int Fd => (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() =>
        // No retry on EINTR: Linux frees the descriptor even then, and a retry could close a reused number.
        Libc.close((int)handle) == 0;

    /// <inheritdoc/>
    public override string ToString() => IsClosed ? "fd (closed)" : $"fd {Fd}";
}
