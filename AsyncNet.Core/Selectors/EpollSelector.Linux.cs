// EpollSelector: the Linux selector, level-triggered epoll.
//
// Maintainer's overview
// - The kernel's interest list is the source of truth for what is watched; _keys mirrors it (descriptor number
//   -> key) so Select can turn each event back into its key. Every epoll_event carries the descriptor number as
//   its data, not a pointer or handle, so no GC handle is ever needed and a stale event is recognisable.
// - Level-triggered (no EPOLLET): a descriptor stays in the kernel's ready list until its condition is consumed,
//   which is the ISelector contract. EPOLLERR and EPOLLHUP are always reported by the kernel and are mapped
//   beside the interest they affect (SelectorHelpers.ToReady).
// - Select is allocation-free in steady state: events land in a native buffer, readiness in _ready, and the span
//   returned is a window on _ready.
// - epoll_event's layout differs by architecture (packed 12 bytes on x86-64, 16 on arm64): Libc hides it.

using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using AsyncNet.Interop;

namespace AsyncNet.Selectors;

/// <summary>A level-triggered selector on Linux epoll: the default selector on Linux.</summary>
/// <remarks>
/// <para>
/// Watches any descriptor epoll supports: sockets, pipes, eventfds, terminals. Regular files and directories are
/// refused with <see cref="ArgumentException"/> (epoll reports EPERM for them); use <see cref="PollSelector"/> there.
/// </para>
/// <para>
/// Each <see cref="Select"/> returns at most 1,024 ready descriptors. Any others stay ready (level-triggered) and
/// the kernel rotates its ready list, so they come first in the next call: nothing starves.
/// </para>
/// <para>
/// Unregister a descriptor before closing it. Closing removes it from epoll only when no duplicate of it is open
/// (in this process after <c>dup</c>, or in a child after <c>fork</c>); otherwise its registration lives on, and
/// its events are dropped here until the number is registered again.
/// </para>
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed unsafe class EpollSelector : ISelector
{
    /// <summary>
    /// Events fetched per epoll_wait. libuv uses the same number: one call drains the ready list of any but the
    /// busiest loop, for 12–16 KiB of native buffer plus 16 KiB of <see cref="SelectorReady"/>; a loop with more
    /// ready descriptors than this gets the rest on its next pass, which it would reach within microseconds anyway.
    /// </summary>
    private const int MaxEventsPerWait = 1024;

    private readonly FileDescriptorHandle _epoll;
    private readonly DescriptorTable _keys = new();
    private readonly SelectorReady[] _ready = new SelectorReady[MaxEventsPerWait];

    // MaxEventsPerWait epoll_events in this process's layout; null before construction succeeds and after Dispose.
    private byte* _events;

    // Entries of _ready written by the last Select, cleared by the next so unregistered keys are not kept alive.
    private int _readyCount;

    private bool _closed;

    /// <summary>Creates an epoll instance (close-on-exec).</summary>
    /// <exception cref="PlatformNotSupportedException">The OS is not Linux.</exception>
    /// <exception cref="System.ComponentModel.Win32Exception">epoll_create1 failed (the descriptor limit was reached).</exception>
    public EpollSelector()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("epoll exists only on Linux; use SelectorFactory.CreateDefault().");
        }

        int fd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (fd == -1)
        {
            throw Libc.Error("epoll_create1", Marshal.GetLastPInvokeError());
        }

        _epoll = new FileDescriptorHandle(fd);
        _events = (byte*)NativeMemory.AllocZeroed((nuint)MaxEventsPerWait, (nuint)Libc.EpollEventSize);
    }

    /// <summary>Frees the native event buffer of a selector that was not disposed; the epoll handle closes itself.</summary>
    ~EpollSelector() => FreeEvents();

    /// <inheritdoc/>
    public int Count => _keys.Count;

    /// <inheritdoc/>
    public bool IsClosed => _closed;

    /// <inheritdoc/>
    public SelectorKey Register(int fd, SelectorEvents events, object? data = null)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorHelpers.ThrowIfInvalidInterest(events);
        SelectorHelpers.ThrowIfNegative(fd);
        return Add(fd, socket: null, events, data, nameof(fd));
    }

    /// <inheritdoc/>
    public SelectorKey Register(Socket socket, SelectorEvents events, object? data = null)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorHelpers.ThrowIfInvalidInterest(events);
        int fd = SelectorHelpers.GetOpenSocketFd(socket);
        return Add(fd, socket, events, data, nameof(socket));
    }

    /// <inheritdoc/>
    /// <remarks>Changing only the data makes no system call.</remarks>
    public SelectorKey Modify(int fd, SelectorEvents events, object? data)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorHelpers.ThrowIfInvalidInterest(events);
        SelectorKey key = _keys.Get(fd);
        if (events != key.Events)
        {
            int errno = Control(Libc.EPOLL_CTL_MOD, fd, events);
            if (errno == Libc.EBADF || errno == Libc.ENOENT)
            {
                throw new ArgumentException($"Descriptor {fd} was closed while registered; unregister it.", nameof(fd));
            }

            if (errno != 0)
            {
                throw Libc.Error($"epoll_ctl(MOD, {fd})", errno);
            }

            key.Events = events;
        }

        key.Data = data;
        return key;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A descriptor closed before it was unregistered is still removed here (epoll has dropped it already, and
    /// asyncio ignores that failure too).
    /// </remarks>
    public SelectorKey Unregister(int fd)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorKey key = _keys.Remove(fd);
        int errno = Control(Libc.EPOLL_CTL_DEL, fd, SelectorEvents.None);
        if (errno != 0 && errno != Libc.EBADF && errno != Libc.ENOENT)
        {
            throw Libc.Error($"epoll_ctl(DEL, {fd})", errno);
        }

        return key;
    }

    /// <inheritdoc/>
    public bool TryGetKey(int fd, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SelectorKey? key)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        key = _keys[fd];
        return key is not null;
    }

    /// <inheritdoc/>
    public ReadOnlySpan<SelectorReady> Select(TimeSpan? timeout)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        Array.Clear(_ready, 0, _readyCount);
        _readyCount = 0;

        int n = Kernel.EpollWait(_epoll, _events, MaxEventsPerWait, SelectorHelpers.ToTimeoutMilliseconds(timeout));
        if (n == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EINTR)
            {
                return default;
            }

            throw Libc.Error("epoll_wait", errno);
        }

        int count = 0;
        int size = Libc.EpollEventSize;
        for (int i = 0; i < n; i++)
        {
            byte* ev = _events + (i * size);
            SelectorKey? key = _keys[(int)Libc.ReadEpollData(ev)];
            if (key is null)
            {
                // A registration that outlived its descriptor through a duplicate (see remarks): not ours any more.
                continue;
            }

            SelectorEvents ready = SelectorHelpers.FromPollEvents(key.Events, (int)Libc.ReadEpollEvents(ev));
            if (ready != SelectorEvents.None)
            {
                _ready[count++] = new SelectorReady(key, ready);
            }
        }

        _readyCount = count;
        return new ReadOnlySpan<SelectorReady>(_ready, 0, count);
    }

    /// <summary>Closes the epoll instance and frees its buffers. Registered descriptors stay open. Idempotent.</summary>
    public void Dispose()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _keys.Clear();
        Array.Clear(_ready);
        _readyCount = 0;
        _epoll.Dispose();
        FreeEvents();
        GC.SuppressFinalize(this);
    }

    /// <summary>Shows the live state, e.g. <c>EpollSelector(Count=3)</c> or <c>EpollSelector(Count=0, Closed)</c>.</summary>
    /// <returns>The kind, the registration count and whether the selector is closed.</returns>
    public override string ToString() => _closed ? $"EpollSelector(Count={Count}, Closed)" : $"EpollSelector(Count={Count})";

    private SelectorKey Add(int fd, Socket? socket, SelectorEvents events, object? data, string paramName)
    {
        if (_keys[fd] is not null)
        {
            throw SelectorHelpers.AlreadyRegistered(fd, paramName);
        }

        int errno = Control(Libc.EPOLL_CTL_ADD, fd, events);
        if (errno != 0)
        {
            throw errno switch
            {
                Libc.EBADF => SelectorHelpers.NotOpen(fd, paramName),
                Libc.EPERM => new ArgumentException(
                    $"Descriptor {fd} cannot be watched by epoll (a regular file or directory); use PollSelector.", paramName),
                Libc.EEXIST => new ArgumentException(
                    $"Descriptor {fd} is in the epoll set already: it was closed while registered and a duplicate kept the registration.", paramName),
                _ => Libc.Error($"epoll_ctl(ADD, {fd})", errno),
            };
        }

        var key = new SelectorKey(fd, socket, events, data);
        _keys.Add(key);
        return key;
    }

    /// <summary>Calls epoll_ctl with the descriptor number as the event's data.</summary>
    /// <returns>0, or the errno.</returns>
    private int Control(int op, int fd, SelectorEvents events)
    {
        byte* ev = stackalloc byte[16]; // room for either layout
        Libc.WriteEpollEvent(ev, (ushort)SelectorHelpers.ToPollEvents(events), (uint)fd);
        return Libc.epoll_ctl(_epoll, op, fd, ev) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    private void FreeEvents()
    {
        if (_events != null)
        {
            NativeMemory.Free(_events);
            _events = null;
        }
    }
}
