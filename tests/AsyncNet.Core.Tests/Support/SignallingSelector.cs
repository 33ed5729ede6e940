using System.Net.Sockets;
using AsyncNet.Selectors;

namespace AsyncNet.Tests.Support;

/// <summary>
/// A selector that wraps another and signals each time the loop enters a select without a timeout: the loop has
/// nothing to run and no timer, so only a descriptor or its waker can end that select.
/// </summary>
internal sealed class SignallingSelector(ISelector inner) : ISelector
{
    private readonly SemaphoreSlim _enteredUntimedSelect = new(0);

    public int Count => inner.Count;

    public bool IsClosed => inner.IsClosed;

    /// <summary>Waits until the loop enters a select without a timeout (or has since the last wait).</summary>
    public bool WaitForUntimedSelect(TimeSpan timeout) => _enteredUntimedSelect.Wait(timeout);

    public SelectorKey Register(int fd, SelectorEvents events, object? data = null) => inner.Register(fd, events, data);

    public SelectorKey Register(Socket socket, SelectorEvents events, object? data = null) => inner.Register(socket, events, data);

    public SelectorKey Modify(int fd, SelectorEvents events, object? data) => inner.Modify(fd, events, data);

    public SelectorKey Unregister(int fd) => inner.Unregister(fd);

    public bool TryGetKey(int fd, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SelectorKey? key) => inner.TryGetKey(fd, out key);

    public ReadOnlySpan<SelectorReady> Select(TimeSpan? timeout)
    {
        if (timeout is null)
        {
            _enteredUntimedSelect.Release();
        }

        return inner.Select(timeout);
    }

    public void Dispose()
    {
        inner.Dispose();
        _enteredUntimedSelect.Dispose();
    }
}
