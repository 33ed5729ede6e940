// PollSelector: the POSIX selector (macOS, the BSDs; Linux when asked), on poll(2).
//
// Maintainer's overview
// - _fds is the pollfd array handed to poll, kept in native memory so a long wait pins nothing. It is maintained
//   incrementally: Register appends a slot, Modify rewrites one, Unregister moves the last slot into the hole
//   (swap-remove). Slots [0, Count) are in use, with no gaps, so Select passes the array as it stands.
// - _slots[i] is the key watching _fds[i]; SelectorKey.Slot is the way back. _keys maps descriptor -> key.
// - poll has no FD_SETSIZE limit (select's 1,024): it takes as many entries as RLIMIT_NOFILE allows.
// - Select is allocation-free in steady state; arrays grow only when registrations outgrow them.

using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using AsyncNet.Interop;

namespace AsyncNet.Selectors;

/// <summary>A level-triggered selector on POSIX <c>poll</c>: the default on macOS and the BSDs.</summary>
/// <remarks>
/// <para>
/// Watches any descriptor: sockets, pipes, terminals, eventfds; regular files are always ready, as POSIX says.
/// Each <see cref="Select"/> costs time in proportion to <see cref="Count"/>, so epoll is preferred on Linux.
/// </para>
/// <para>
/// A descriptor closed while registered is reported as <c>interest | Error</c> (poll's POLLNVAL) until it is
/// unregistered; unregister before closing.
/// </para>
/// </remarks>
[UnsupportedOSPlatform("windows")]
public sealed unsafe class PollSelector : ISelector
{
    private const int InitialCapacity = 64;

    private readonly DescriptorTable _keys = new();

    // _capacity pollfds; slots [0, Count) are in use. Null before construction succeeds and after Dispose.
    private Libc.PollFd* _fds;

    // The key of each slot in use, null beyond Count; the same length as _fds.
    private SelectorKey?[] _slots;

    // Select's result buffer; the same length as _fds, since every slot may be ready at once.
    private SelectorReady[] _ready;

    private int _capacity;

    // Entries of _ready written by the last Select, cleared by the next so unregistered keys are not kept alive.
    private int _readyCount;

    private bool _closed;

    /// <summary>Creates an empty poll selector.</summary>
    /// <exception cref="PlatformNotSupportedException">The OS is Windows.</exception>
    public PollSelector()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("poll() is POSIX; use PortableSelector on Windows.");
        }

        _fds = (Libc.PollFd*)NativeMemory.Alloc(InitialCapacity, (nuint)sizeof(Libc.PollFd));
        _slots = new SelectorKey?[InitialCapacity];
        _ready = new SelectorReady[InitialCapacity];
        _capacity = InitialCapacity;
    }

    /// <summary>Frees the native pollfd array of a selector that was not disposed.</summary>
    ~PollSelector() => FreeFds();

    /// <inheritdoc/>
    public int Count => _keys.Count;

    /// <inheritdoc/>
    public bool IsClosed => _closed;

    /// <inheritdoc/>
    /// <remarks>The descriptor is checked with <c>fcntl(F_GETFD)</c>, since poll itself accepts any number.</remarks>
    public SelectorKey Register(int fd, SelectorEvents events, object? data = null)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorHelpers.ThrowIfInvalidInterest(events);
        SelectorHelpers.ThrowIfNegative(fd);
        if (_keys[fd] is not null)
        {
            throw SelectorHelpers.AlreadyRegistered(fd);
        }

        if (!Libc.IsOpen(fd))
        {
            throw SelectorHelpers.NotOpen(fd);
        }

        return Add(fd, socket: null, events, data);
    }

    /// <inheritdoc/>
    public SelectorKey Register(Socket socket, SelectorEvents events, object? data = null)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorHelpers.ThrowIfInvalidInterest(events);
        int fd = SelectorHelpers.GetOpenSocketFd(socket);
        if (_keys[fd] is not null)
        {
            throw SelectorHelpers.AlreadyRegistered(fd, nameof(socket));
        }

        return Add(fd, socket, events, data);
    }

    /// <inheritdoc/>
    /// <remarks>Makes no system call: the slot's pollfd is rewritten for the next <see cref="Select"/>.</remarks>
    public SelectorKey Modify(int fd, SelectorEvents events, object? data)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorHelpers.ThrowIfInvalidInterest(events);
        SelectorKey key = _keys.Get(fd);
        _fds[key.Slot].Events = SelectorHelpers.ToPollEvents(events);
        key.Events = events;
        key.Data = data;
        return key;
    }

    /// <inheritdoc/>
    /// <remarks>Moves the last slot into the freed one, so the array keeps no gaps; makes no system call.</remarks>
    public SelectorKey Unregister(int fd)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorKey key = _keys.Remove(fd);
        int slot = key.Slot;
        int last = _keys.Count; // the table shrank already: this is the old last slot
        if (slot != last)
        {
            SelectorKey moved = _slots[last]!;
            _fds[slot] = _fds[last];
            _slots[slot] = moved;
            moved.Slot = slot;
        }

        _slots[last] = null;
        key.Slot = -1;
        AssertInvariants();
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

        int n = _keys.Count;
        int rc = Kernel.Poll(_fds, (nuint)n, SelectorHelpers.ToTimeoutMilliseconds(timeout));
        if (rc == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EINTR)
            {
                return default;
            }

            throw Libc.Error("poll", errno);
        }

        // rc is the number of slots with events: stop scanning once all of them are seen.
        int count = 0;
        for (int i = 0, seen = 0; i < n && seen < rc; i++)
        {
            short revents = _fds[i].Revents;
            if (revents == 0)
            {
                continue;
            }

            seen++;
            SelectorKey key = _slots[i]!;
            SelectorEvents ready = SelectorHelpers.FromPollEvents(key.Events, revents);
            if (ready != SelectorEvents.None)
            {
                _ready[count++] = new SelectorReady(key, ready);
            }
        }

        _readyCount = count;
        return new ReadOnlySpan<SelectorReady>(_ready, 0, count);
    }

    /// <summary>Frees the pollfd array. Registered descriptors stay open. Idempotent.</summary>
    public void Dispose()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _keys.Clear();
        Array.Clear(_slots);
        Array.Clear(_ready);
        _readyCount = 0;
        FreeFds();
        GC.SuppressFinalize(this);
    }

    /// <summary>Shows the live state, e.g. <c>PollSelector(Count=3)</c> or <c>PollSelector(Count=0, Closed)</c>.</summary>
    /// <returns>The kind, the registration count and whether the selector is closed.</returns>
    public override string ToString() => _closed ? $"PollSelector(Count={Count}, Closed)" : $"PollSelector(Count={Count})";

    private SelectorKey Add(int fd, Socket? socket, SelectorEvents events, object? data)
    {
        int slot = _keys.Count;
        if (slot == _capacity)
        {
            Grow();
        }

        var key = new SelectorKey(fd, socket, events, data) { Slot = slot };
        _fds[slot] = new Libc.PollFd { Fd = fd, Events = SelectorHelpers.ToPollEvents(events) };
        _slots[slot] = key;
        _keys.Add(key);
        AssertInvariants();
        return key;
    }

    private void Grow()
    {
        int capacity = _capacity * 2;
        _fds = (Libc.PollFd*)NativeMemory.Realloc(_fds, (nuint)capacity * (nuint)sizeof(Libc.PollFd));
        Array.Resize(ref _slots, capacity);
        Array.Resize(ref _ready, capacity);
        _capacity = capacity;
    }

    private void FreeFds()
    {
        if (_fds != null)
        {
            NativeMemory.Free(_fds);
            _fds = null;
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        int n = _keys.Count;
        for (int i = 0; i < _capacity; i++)
        {
            SelectorKey? key = _slots[i];
            if (i >= n)
            {
                Debug.Assert(key is null, "Slots past Count hold no key");
                continue;
            }

            Debug.Assert(key is not null, "Slots below Count are all in use: swap-remove leaves no gaps");
            Debug.Assert(key.Slot == i, "Each key knows its slot");
            Debug.Assert(_fds[i].Fd == key.Fd, "A slot's pollfd watches its key's descriptor");
            Debug.Assert(_fds[i].Events == SelectorHelpers.ToPollEvents(key.Events), "A slot's pollfd asks for its key's interest");
            Debug.Assert(ReferenceEquals(_keys[key.Fd], key), "The descriptor table and the slots agree");
        }
    }
}
