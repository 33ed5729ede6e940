using System.Runtime.CompilerServices;

namespace AsyncNet.Selectors;

/// <summary>Maps descriptor numbers to keys with an array indexed by the number.</summary>
/// <remarks>
/// POSIX hands out the lowest free descriptor number, so the numbers in use are dense and small: an array beats a
/// dictionary (no hashing on the per-event lookup in Select) and stays about as large as the process's descriptor
/// count. It grows by doubling, to at least the registered number plus one, and never shrinks.
/// </remarks>
internal sealed class DescriptorTable
{
    private const int InitialLength = 64;

    private SelectorKey?[] _keys = new SelectorKey?[InitialLength];

    /// <summary>The number of keys in the table.</summary>
    public int Count { get; private set; }

    /// <summary>The key of <paramref name="fd"/>, or <see langword="null"/> (for any number, negative included).</summary>
    public SelectorKey? this[int fd]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            SelectorKey?[] keys = _keys;
            return (uint)fd < (uint)keys.Length ? keys[fd] : null;
        }
    }

    /// <summary>The key of <paramref name="fd"/>.</summary>
    /// <exception cref="KeyNotFoundException">The descriptor is not in the table.</exception>
    public SelectorKey Get(int fd) => this[fd] ?? throw SelectorHelpers.NotRegistered(fd);

    /// <summary>Adds a key whose descriptor is not in the table yet.</summary>
    public void Add(SelectorKey key)
    {
        int fd = key.Fd;
        if (fd >= _keys.Length)
        {
            Array.Resize(ref _keys, Math.Max(fd + 1, _keys.Length * 2));
        }

        System.Diagnostics.Debug.Assert(_keys[fd] is null, "A descriptor is added once.");
        _keys[fd] = key;
        Count++;
    }

    /// <summary>Removes and returns the key of <paramref name="fd"/>.</summary>
    /// <exception cref="KeyNotFoundException">The descriptor is not in the table.</exception>
    public SelectorKey Remove(int fd)
    {
        SelectorKey key = Get(fd);
        _keys[fd] = null;
        Count--;
        return key;
    }

    /// <summary>Removes every key.</summary>
    public void Clear()
    {
        Array.Clear(_keys);
        Count = 0;
    }
}
