// The C library calls the selectors and wakers make, and their constants.
//
// Every import is a plain synchronous call with SetLastError = true: read errno with
// Marshal.GetLastPInvokeError() right after the call, before anything else can overwrite it. Callers keep
// these calls in small synchronous methods (no `await` in unsafe code, no `&local` in async methods).
//
// "libc" is resolved by the runtime itself: libc.so.6 on glibc Linux, libSystem on macOS.
// Values that differ between Linux and the BSDs (macOS included) are properties, not constants.

using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AsyncNet.Interop;

internal static unsafe partial class Libc
{
    private const string LibC = "libc";

    // ---- errno (the same number on Linux and the BSDs unless a property says otherwise) ----

    /// <summary>Operation not permitted: epoll_ctl on a descriptor epoll cannot watch (a regular file, a directory).</summary>
    internal const int EPERM = 1;

    /// <summary>No such entry: epoll_ctl MOD/DEL of a descriptor not in the epoll set.</summary>
    internal const int ENOENT = 2;

    /// <summary>Interrupted by a signal before anything happened; retry, or report nothing ready.</summary>
    internal const int EINTR = 4;

    /// <summary>Bad file descriptor: negative, or not open.</summary>
    internal const int EBADF = 9;

    /// <summary>Already exists: epoll_ctl ADD of a descriptor already in the epoll set.</summary>
    internal const int EEXIST = 17;

    /// <summary>Try again (EWOULDBLOCK): a non-blocking call would block. 11 on Linux, 35 on macOS and the BSDs.</summary>
    internal static int EAGAIN => OperatingSystem.IsLinux() ? 11 : 35;

    // ---- fcntl ----

    /// <summary>fcntl: get the descriptor flags (FD_CLOEXEC). Fails with EBADF on a descriptor that is not open.</summary>
    internal const int F_GETFD = 1;

    /// <summary>fcntl: set the descriptor flags.</summary>
    internal const int F_SETFD = 2;

    /// <summary>fcntl: get the file status flags (O_NONBLOCK, ...).</summary>
    internal const int F_GETFL = 3;

    /// <summary>fcntl: set the file status flags.</summary>
    internal const int F_SETFL = 4;

    /// <summary>Descriptor flag: close on exec, so child processes do not inherit it.</summary>
    internal const int FD_CLOEXEC = 1;

    /// <summary>Non-blocking I/O: 0x800 (octal 04000) on Linux x86-64 and arm64, 0x4 on macOS and the BSDs.</summary>
    internal static int O_NONBLOCK => OperatingSystem.IsLinux() ? 0x800 : 0x4;

    /// <summary>Close on exec, for pipe2 and friends: Linux value (pipe2 is only called on Linux).</summary>
    internal const int O_CLOEXEC_LINUX = 0x80000;

    // ---- epoll (Linux) ----

    /// <summary>epoll_create1 flag: close the epoll descriptor on exec.</summary>
    internal const int EPOLL_CLOEXEC = 0x80000;

    /// <summary>epoll_ctl: add a descriptor to the set.</summary>
    internal const int EPOLL_CTL_ADD = 1;

    /// <summary>epoll_ctl: remove a descriptor from the set.</summary>
    internal const int EPOLL_CTL_DEL = 2;

    /// <summary>epoll_ctl: change a registered descriptor's events and data.</summary>
    internal const int EPOLL_CTL_MOD = 3;

    // The EPOLL* bits have the same values as the POLL* bits below on Linux, which lets one mapping serve both.

    /// <summary>Readable (data, end of stream, a pending connection).</summary>
    internal const uint EPOLLIN = 0x1;

    /// <summary>Writable.</summary>
    internal const uint EPOLLOUT = 0x4;

    /// <summary>An error is pending; always reported, never requested.</summary>
    internal const uint EPOLLERR = 0x8;

    /// <summary>Hung up (both directions closed); always reported, never requested.</summary>
    internal const uint EPOLLHUP = 0x10;

    /// <summary>
    /// Whether this process's <c>struct epoll_event { uint32_t events; uint64_t data; }</c> is packed.
    /// glibc declares it <c>__attribute__((packed))</c> on x86-64 (12 bytes, data at offset 4); i386 aligns
    /// 64-bit fields to 4 bytes, which gives the same layout. Every other ABI (arm64, arm, riscv64, ...)
    /// aligns data to 8: 16 bytes, data at offset 8.
    /// </summary>
    private static bool IsEpollEventPacked =>
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

    /// <summary>sizeof(struct epoll_event) for this process: 12 on x86 and x86-64, 16 elsewhere.</summary>
    internal static readonly int EpollEventSize = IsEpollEventPacked ? 12 : 16;

    /// <summary>offsetof(struct epoll_event, data) for this process: 4 on x86 and x86-64, 8 elsewhere.</summary>
    internal static readonly int EpollDataOffset = IsEpollEventPacked ? 4 : 8;

    /// <summary>Writes one epoll_event at <paramref name="ev"/>, which must hold <see cref="EpollEventSize"/> bytes.</summary>
    internal static void WriteEpollEvent(byte* ev, uint events, ulong data)
    {
        Unsafe.WriteUnaligned(ev, events);
        Unsafe.WriteUnaligned(ev + EpollDataOffset, data);
    }

    /// <summary>Reads the events of the epoll_event at <paramref name="ev"/>.</summary>
    internal static uint ReadEpollEvents(byte* ev) => Unsafe.ReadUnaligned<uint>(ev);

    /// <summary>Reads the data of the epoll_event at <paramref name="ev"/>.</summary>
    internal static ulong ReadEpollData(byte* ev) => Unsafe.ReadUnaligned<ulong>(ev + EpollDataOffset);

    [LibraryImport(LibC, SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    /// <summary><paramref name="ev"/> points to an epoll_event in this process's layout (see <see cref="WriteEpollEvent"/>).</summary>
    [LibraryImport(LibC, SetLastError = true)]
    internal static partial int epoll_ctl(FileDescriptorHandle epfd, int op, int fd, byte* ev);

    /// <summary><paramref name="events"/> holds <paramref name="maxevents"/> epoll_events in this process's layout.</summary>
    [LibraryImport(LibC, SetLastError = true)]
    internal static partial int epoll_wait(FileDescriptorHandle epfd, byte* events, int maxevents, int timeout);

    // ---- poll (POSIX: the same values on Linux, macOS and the BSDs) ----

    /// <summary>Readable.</summary>
    internal const short POLLIN = 0x1;

    /// <summary>Writable.</summary>
    internal const short POLLOUT = 0x4;

    /// <summary>An error is pending; always reported, never requested.</summary>
    internal const short POLLERR = 0x8;

    /// <summary>Hung up; always reported, never requested.</summary>
    internal const short POLLHUP = 0x10;

    /// <summary>The descriptor is not open; always reported, never requested.</summary>
    internal const short POLLNVAL = 0x20;

    /// <summary><c>struct pollfd</c>: the same 8-byte layout on every POSIX system.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <remarks>
    /// <c>nfds_t</c> is <c>unsigned long</c> on Linux and <c>unsigned int</c> on macOS and the BSDs; a native-sized
    /// argument fills the whole register, so both read the right value on 64-bit and 32-bit ABIs.
    /// </remarks>
    [LibraryImport(LibC, SetLastError = true)]
    internal static partial int poll(PollFd* fds, nuint nfds, int timeout);

    // ---- eventfd (Linux) ----

    /// <summary>eventfd flag: non-blocking reads and writes (same value as O_NONBLOCK on Linux).</summary>
    internal const int EFD_NONBLOCK = 0x800;

    /// <summary>eventfd flag: close on exec (same value as O_CLOEXEC on Linux).</summary>
    internal const int EFD_CLOEXEC = 0x80000;

    [LibraryImport(LibC, SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);

    // ---- pipes and plain descriptors ----

    /// <summary>Linux (and the BSDs, with other flag values): creates a pipe with flags set atomically.</summary>
    [LibraryImport(LibC, SetLastError = true)]
    internal static partial int pipe2(int* pipefd, int flags);

    /// <summary>POSIX: creates a pipe; macOS has no pipe2.</summary>
    [LibraryImport(LibC, SetLastError = true)]
    internal static partial int pipe(int* pipefd);

    [LibraryImport(LibC, SetLastError = true)]
    internal static partial nint read(FileDescriptorHandle fd, byte* buf, nuint count);

    [LibraryImport(LibC, SetLastError = true)]
    internal static partial nint write(FileDescriptorHandle fd, byte* buf, nuint count);

    [LibraryImport(LibC, SetLastError = true)]
    internal static partial int close(int fd);

    /// <summary>fcntl for commands without an argument (F_GETFD, F_GETFL).</summary>
    internal static int Fcntl(int fd, int cmd) => fcntl(fd, cmd, 0);

    /// <summary>fcntl for commands with an int argument (F_SETFD, F_SETFL).</summary>
    /// <remarks>
    /// fcntl is variadic. The SysV ABIs (x86-64, Linux arm64) pass a variadic int in the same register as a
    /// fixed third argument, so a fixed signature works. Apple arm64 passes every variadic argument on the
    /// stack instead; the padded import fills the eight argument registers so the ninth lands there.
    /// </remarks>
    internal static int Fcntl(int fd, int cmd, int arg) =>
        OperatingSystem.IsMacOS() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64
            ? fcntl_variadic_arm64(fd, cmd, 0, 0, 0, 0, 0, 0, arg)
            : fcntl(fd, cmd, arg);

    [LibraryImport(LibC, SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(LibC, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int fcntl_variadic_arm64(int fd, int cmd, nint x2, nint x3, nint x4, nint x5, nint x6, nint x7, nint arg);

    // ---- helpers ----

    /// <summary>Whether <paramref name="fd"/> is an open descriptor in this process (fcntl(F_GETFD) succeeds).</summary>
    internal static bool IsOpen(int fd) => fd >= 0 && (Fcntl(fd, F_GETFD) != -1 || Marshal.GetLastPInvokeError() != EBADF);

    /// <summary>Makes the exception for an unexpected errno from <paramref name="call"/>.</summary>
    /// <remarks><see cref="Win32Exception.NativeErrorCode"/> carries the errno; the message names the call.</remarks>
    internal static Win32Exception Error(string call, int errno) =>
        new(errno, $"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
}
