using System.Net.Sockets;
using AsyncNet.Selectors;

namespace AsyncNet.Loop;

public sealed partial class EventLoop
{
    private readonly Dictionary<int, IoRegistration> _registrations = [];

    /// <summary>Calls <paramref name="callback"/> on each iteration in which <paramref name="fd"/> is readable, until removed.</summary>
    /// <param name="fd">An open, non-blocking descriptor.</param>
    /// <param name="callback">The callback; it replaces any reader already set for <paramref name="fd"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ArgumentException">The descriptor is not valid.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void AddReader(int fd, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        AddInterest(fd, null, SelectorEvents.Read, callback, null);
    }

    /// <summary>Calls <paramref name="callback"/>(<paramref name="state"/>) whenever <paramref name="fd"/> is readable, until removed.</summary>
    /// <param name="fd">An open, non-blocking descriptor.</param>
    /// <param name="callback">The callback; it replaces any reader already set for <paramref name="fd"/>.</param>
    /// <param name="state">The argument passed to the callback.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ArgumentException">The descriptor is not valid.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void AddReader(int fd, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        AddInterest(fd, null, SelectorEvents.Read, callback, state);
    }

    /// <summary>Calls <paramref name="callback"/> whenever <paramref name="socket"/> is readable, until removed.</summary>
    /// <param name="socket">An open socket in non-blocking mode. Never call its <c>*Async</c> methods while the loop watches it.</param>
    /// <param name="callback">The callback; it replaces any reader already set for the socket.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The socket is closed.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void AddReader(Socket socket, Action callback)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(callback);
        AddInterest(SocketFd(socket), socket, SelectorEvents.Read, callback, null);
    }

    /// <summary>Calls <paramref name="callback"/>(<paramref name="state"/>) whenever <paramref name="socket"/> is readable, until removed.</summary>
    /// <param name="socket">An open socket in non-blocking mode. Never call its <c>*Async</c> methods while the loop watches it.</param>
    /// <param name="callback">The callback; it replaces any reader already set for the socket.</param>
    /// <param name="state">The argument passed to the callback.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The socket is closed.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void AddReader(Socket socket, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(callback);
        AddInterest(SocketFd(socket), socket, SelectorEvents.Read, callback, state);
    }

    /// <summary>Calls <paramref name="callback"/> whenever <paramref name="fd"/> is writable, until removed.</summary>
    /// <param name="fd">An open, non-blocking descriptor.</param>
    /// <param name="callback">The callback; it replaces any writer already set for <paramref name="fd"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ArgumentException">The descriptor is not valid.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void AddWriter(int fd, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        AddInterest(fd, null, SelectorEvents.Write, callback, null);
    }

    /// <summary>Calls <paramref name="callback"/>(<paramref name="state"/>) whenever <paramref name="fd"/> is writable, until removed.</summary>
    /// <param name="fd">An open, non-blocking descriptor.</param>
    /// <param name="callback">The callback; it replaces any writer already set for <paramref name="fd"/>.</param>
    /// <param name="state">The argument passed to the callback.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ArgumentException">The descriptor is not valid.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void AddWriter(int fd, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        AddInterest(fd, null, SelectorEvents.Write, callback, state);
    }

    /// <summary>Calls <paramref name="callback"/> whenever <paramref name="socket"/> is writable, until removed.</summary>
    /// <param name="socket">An open socket in non-blocking mode. Never call its <c>*Async</c> methods while the loop watches it.</param>
    /// <param name="callback">The callback; it replaces any writer already set for the socket.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The socket is closed.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void AddWriter(Socket socket, Action callback)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(callback);
        AddInterest(SocketFd(socket), socket, SelectorEvents.Write, callback, null);
    }

    /// <summary>Calls <paramref name="callback"/>(<paramref name="state"/>) whenever <paramref name="socket"/> is writable, until removed.</summary>
    /// <param name="socket">An open socket in non-blocking mode. Never call its <c>*Async</c> methods while the loop watches it.</param>
    /// <param name="callback">The callback; it replaces any writer already set for the socket.</param>
    /// <param name="state">The argument passed to the callback.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The socket is closed.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void AddWriter(Socket socket, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(callback);
        AddInterest(SocketFd(socket), socket, SelectorEvents.Write, callback, state);
    }

    /// <summary>Stops watching <paramref name="fd"/> for reading.</summary>
    /// <param name="fd">The descriptor.</param>
    /// <returns>Whether a reader was set.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public bool RemoveReader(int fd) => RemoveInterest(fd, SelectorEvents.Read);

    /// <summary>Stops watching <paramref name="socket"/> for reading.</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>Whether a reader was set.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public bool RemoveReader(Socket socket) => RemoveInterest(SocketFd(socket), SelectorEvents.Read);

    /// <summary>Stops watching <paramref name="fd"/> for writing.</summary>
    /// <param name="fd">The descriptor.</param>
    /// <returns>Whether a writer was set.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public bool RemoveWriter(int fd) => RemoveInterest(fd, SelectorEvents.Write);

    /// <summary>Stops watching <paramref name="socket"/> for writing.</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>Whether a writer was set.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public bool RemoveWriter(Socket socket) => RemoveInterest(SocketFd(socket), SelectorEvents.Write);

    private static int SocketFd(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.SafeHandle.IsInvalid || socket.SafeHandle.IsClosed)
        {
            throw new ArgumentException("The socket is closed.", nameof(socket));
        }

        return (int)socket.Handle;
    }

    private void AddInterest(int fd, Socket? socket, SelectorEvents which, object callback, object? state)
    {
        ThrowIfClosed();
        VerifyAccess();
        var handle = new Handle(this, callback, state);
        if (_registrations.TryGetValue(fd, out IoRegistration? registration))
        {
            Handle? previous = which == SelectorEvents.Read ? registration.Reader : registration.Writer;
            SetHandle(registration, which, handle);
            _selector.Modify(fd, registration.Interest, registration);
            previous?.Cancel();
            return;
        }

        registration = new IoRegistration(fd);
        SetHandle(registration, which, handle);
        if (socket is null)
        {
            _selector.Register(fd, which, registration);
        }
        else
        {
            _selector.Register(socket, which, registration);
        }

        _registrations.Add(fd, registration);
    }

    private bool RemoveInterest(int fd, SelectorEvents which)
    {
        VerifyAccess();
        if (_closed || !_registrations.TryGetValue(fd, out IoRegistration? registration))
        {
            return false;
        }

        Handle? previous = which == SelectorEvents.Read ? registration.Reader : registration.Writer;
        if (previous is null)
        {
            return false;
        }

        SetHandle(registration, which, null);
        previous.Cancel();
        if (registration.Interest == SelectorEvents.None)
        {
            _registrations.Remove(fd);
            _selector.Unregister(fd);
        }
        else
        {
            _selector.Modify(fd, registration.Interest, registration);
        }

        return true;
    }

    private static void SetHandle(IoRegistration registration, SelectorEvents which, Handle? handle)
    {
        if (which == SelectorEvents.Read)
        {
            registration.Reader = handle;
        }
        else
        {
            registration.Writer = handle;
        }
    }
}
