// PortableSelector: a selector on Socket.Select, for any OS .NET runs on (Windows included).
//
// Maintainer's overview
// - _slots lists the keys densely (SelectorKey.Slot is the index; Unregister swap-removes). Each Select refills
//   three reused lists from it in slot order: sockets interested in reading, in writing, and all of them for
//   errors. Socket.Select only removes the entries that are not ready, so each list it returns is a subsequence
//   of the slots and one forward walk maps it back to slots (Mark), with no dictionary lookup per socket.
// - The error list is how Windows reports a failed non-blocking connect (never as writable) and how .NET on Unix
//   reports POLLERR; an error is then reported beside the key's interest, like the other selectors do.
// - Socket.Select measures timeouts in microseconds and, on Unix, truncates to milliseconds for poll(): the
//   timeout is rounded up to whole milliseconds first, so the truncation never shortens it.

using System.Net.Sockets;
using AsyncNet.Interop;

namespace AsyncNet.Selectors;

/// <summary>A level-triggered selector for sockets on <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>: works on every OS.</summary>
/// <remarks>
/// <para>
/// Watches sockets only: <see cref="Register(int, SelectorEvents, object?)"/> throws <see cref="NotSupportedException"/>.
/// Descriptor numbers in <see cref="Modify"/>, <see cref="Unregister"/> and <see cref="TryGetKey"/> are the
/// sockets' handles (<see cref="SelectorKey.Fd"/>). At most 65,536 sockets, the limit of <c>Socket.Select</c>.
/// </para>
/// <para>
/// Each <see cref="Select"/> costs time in proportion to <see cref="Count"/>, and <c>Socket.Select</c> itself
/// allocates a poll array per call beyond about 80 sockets on Unix. The hang-up condition is never reported: a
/// closed peer shows as <see cref="SelectorEvents.Read"/> (end of stream), a reset as <c>Read | Error</c>.
/// <see cref="SelectorEvents.Error"/> also reports pending out-of-band data, which <c>Socket.Select</c> does not
/// tell apart from errors.
/// </para>
/// </remarks>
public sealed class PortableSelector : ISelector
{
    /// <summary>Socket.Select refuses lists longer than this; the error list holds every registered socket.</summary>
    private const int MaxSockets = 65536;

    private readonly Dictionary<int, SelectorKey> _keys = [];
    private readonly List<SelectorKey> _slots = [];
    private readonly List<Socket> _checkRead = [];
    private readonly List<Socket> _checkWrite = [];
    private readonly List<Socket> _checkError = [];

    // Per slot, what Socket.Select found during the current Select; all None between calls.
    private SelectorEvents[] _found = new SelectorEvents[16];

    // Select's result buffer; at least as long as _slots, since every socket may be ready at once.
    private SelectorReady[] _ready = new SelectorReady[16];

    // Entries of _ready written by the last Select, cleared by the next so unregistered keys are not kept alive.
    private int _readyCount;

    private bool _closed;

    /// <inheritdoc/>
    public int Count => _slots.Count;

    /// <inheritdoc/>
    public bool IsClosed => _closed;

    /// <summary>Not supported: this selector watches sockets only.</summary>
    /// <param name="fd">Ignored.</param>
    /// <param name="events">Ignored.</param>
    /// <param name="data">Ignored.</param>
    /// <returns>Never returns.</returns>
    /// <exception cref="NotSupportedException">Always, on an open selector.</exception>
    /// <exception cref="ObjectDisposedException">The selector is closed.</exception>
    public SelectorKey Register(int fd, SelectorEvents events, object? data = null)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        throw new NotSupportedException(
            "PortableSelector watches sockets only (it is built on Socket.Select): register the Socket, or use " +
            "EpollSelector or PollSelector to watch other descriptors.");
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">65,536 sockets are registered already.</exception>
    public SelectorKey Register(Socket socket, SelectorEvents events, object? data = null)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorHelpers.ThrowIfInvalidInterest(events);
        int fd = SelectorHelpers.GetOpenSocketFd(socket);
        if (_keys.ContainsKey(fd))
        {
            throw SelectorHelpers.AlreadyRegistered(fd, nameof(socket));
        }

        if (_slots.Count == MaxSockets)
        {
            throw new InvalidOperationException($"PortableSelector watches at most {MaxSockets} sockets (a Socket.Select limit); use EpollSelector or PollSelector.");
        }

        var key = new SelectorKey(fd, socket, events, data) { Slot = _slots.Count };
        _keys.Add(fd, key);
        _slots.Add(key);
        if (_slots.Count > _found.Length)
        {
            Array.Resize(ref _found, _found.Length * 2);
            Array.Resize(ref _ready, _ready.Length * 2);
        }

        return key;
    }

    /// <inheritdoc/>
    public SelectorKey Modify(int fd, SelectorEvents events, object? data)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        SelectorHelpers.ThrowIfInvalidInterest(events);
        SelectorKey key = _keys.TryGetValue(fd, out SelectorKey? found) ? found : throw SelectorHelpers.NotRegistered(fd);
        key.Events = events;
        key.Data = data;
        return key;
    }

    /// <inheritdoc/>
    public SelectorKey Unregister(int fd)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (!_keys.Remove(fd, out SelectorKey? key))
        {
            throw SelectorHelpers.NotRegistered(fd);
        }

        int slot = key.Slot;
        int last = _slots.Count - 1;
        if (slot != last)
        {
            SelectorKey moved = _slots[last];
            _slots[slot] = moved;
            moved.Slot = slot;
        }

        _slots.RemoveAt(last);
        key.Slot = -1;
        return key;
    }

    /// <inheritdoc/>
    public bool TryGetKey(int fd, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SelectorKey? key)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        return _keys.TryGetValue(fd, out key);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// With nothing registered the call sleeps for the timeout (forever for <see langword="null"/>), as
    /// <c>select</c> with no descriptors does. A timeout above about 35 minutes (<see cref="int.MaxValue"/>
    /// microseconds) is capped there, and the call then returns empty like any timeout.
    /// </remarks>
    public ReadOnlySpan<SelectorReady> Select(TimeSpan? timeout)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        Array.Clear(_ready, 0, _readyCount);
        _readyCount = 0;

        int ms = SelectorHelpers.ToTimeoutMilliseconds(timeout);
        int n = _slots.Count;
        if (n == 0)
        {
            // Socket.Select throws when every list is empty.
            if (ms != 0)
            {
                Thread.Sleep(ms); // -1 is Timeout.Infinite
            }

            return default;
        }

        _checkRead.Clear();
        _checkWrite.Clear();
        _checkError.Clear();
        for (int i = 0; i < n; i++)
        {
            SelectorKey key = _slots[i];
            Socket socket = key.Socket!;
            if ((key.Events & SelectorEvents.Read) != 0)
            {
                _checkRead.Add(socket);
            }

            if ((key.Events & SelectorEvents.Write) != 0)
            {
                _checkWrite.Add(socket);
            }

            _checkError.Add(socket);
        }

        const int MaxMilliseconds = int.MaxValue / 1000;
        int microseconds = ms == -1 ? -1 : Math.Min(ms, MaxMilliseconds) * 1000;
        try
        {
            Kernel.Select(_checkRead, _checkWrite, _checkError, microseconds);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.Interrupted)
        {
            return default;
        }

        Mark(_checkRead, SelectorEvents.Read);
        Mark(_checkWrite, SelectorEvents.Write);
        Mark(_checkError, SelectorEvents.Error);

        int count = 0;
        for (int i = 0; i < n; i++)
        {
            SelectorEvents found = _found[i];
            if (found == SelectorEvents.None)
            {
                continue;
            }

            _found[i] = SelectorEvents.None;
            SelectorKey key = _slots[i];
            SelectorEvents ready = SelectorHelpers.ToReady(
                key.Events,
                readable: (found & SelectorEvents.Read) != 0,
                writable: (found & SelectorEvents.Write) != 0,
                error: (found & SelectorEvents.Error) != 0,
                hangUp: false);
            if (ready != SelectorEvents.None)
            {
                _ready[count++] = new SelectorReady(key, ready);
            }
        }

        _readyCount = count;
        return new ReadOnlySpan<SelectorReady>(_ready, 0, count);
    }

    /// <summary>Forgets every registration. The sockets stay open. Idempotent.</summary>
    public void Dispose()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _keys.Clear();
        _slots.Clear();
        _checkRead.Clear();
        _checkWrite.Clear();
        _checkError.Clear();
        Array.Clear(_ready);
        _readyCount = 0;
    }

    /// <summary>Shows the live state, e.g. <c>PortableSelector(Count=3)</c> or <c>PortableSelector(Count=0, Closed)</c>.</summary>
    /// <returns>The kind, the registration count and whether the selector is closed.</returns>
    public override string ToString() => _closed ? $"PortableSelector(Count={Count}, Closed)" : $"PortableSelector(Count={Count})";

    /// <summary>Records <paramref name="flag"/> for the slot of every socket left in <paramref name="ready"/>.</summary>
    private void Mark(List<Socket> ready, SelectorEvents flag)
    {
        // Socket.Select only removes entries, so the survivors appear in slot order: one forward walk finds them.
        int slot = 0;
        for (int j = 0; j < ready.Count; j++)
        {
            Socket socket = ready[j];
            while (!ReferenceEquals(_slots[slot].Socket, socket))
            {
                slot++;
            }

            _found[slot++] |= flag;
        }
    }
}
