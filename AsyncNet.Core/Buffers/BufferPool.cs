// BufferPool: the one lender of byte arrays for everything that runs on a loop.
//
// Maintainer's overview
// - Two halves. The loop's half (_loopBuckets, _loopBytes) is touched only on the loop thread, without a lock: the
//   transports' reads and write queues and the stream readers' receive segments rent and return there, and that is the
//   hot path. The shared half (_sharedBuckets, _sharedBytes) is guarded by _lock: a thread that is not the loop's
//   returns into it (a stream reader consumed on the thread pool gives its segments back there) and rents from it (a
//   stream writer copying a write made on another thread).
// - The halves meet in one place: a loop-thread rent that finds its bucket empty takes one array of that size from the
//   shared half before allocating. _sharedCount lets it skip the lock when the shared half is empty.
// - Invariant: bytes retained by both halves ≤ MaxRetainedBytes, give or take one array that raced past the check on
//   another thread (the loop's count is read there without the lock).

using System.Diagnostics;
using System.Numerics;

namespace AsyncNet.Buffers;

/// <summary>
/// The byte arrays one loop's connections read into, queue unsent bytes in, and hand to their readers: one pool per
/// loop (<see cref="Loop.EventLoop.BufferPool"/>), free of locks on the loop thread and safe to use from any other.
/// </summary>
/// <remarks>
/// <para>
/// Why not <see cref="System.Buffers.ArrayPool{T}.Shared"/>: it keeps about 32 arrays per size class per core, so a
/// loop whose connections hold more than that (each with a partly sent write, or an unread segment) makes it allocate
/// in steady state. This pool keeps what its loop's connections give back, up to <see cref="MaxRetainedBytes"/>.
/// </para>
/// <para>
/// Sizes are powers of two from <see cref="MinimumLength"/> to <see cref="MaximumLength"/>; a request is rounded up
/// (and clamped to that range). On the loop thread <see cref="Rent"/> and <see cref="Return"/> take no lock. On any
/// other thread they take one short lock; an array returned there is lent again to the loop thread when its own
/// arrays of that size run out.
/// </para>
/// </remarks>
public sealed class BufferPool
{
    /// <summary>The smallest array handed out: 256 bytes, so a small segment copied out of a large read wastes little.</summary>
    public const int MinimumLength = 256;

    /// <summary>The largest array handed out: 1 MiB. Larger amounts are served in several arrays by the callers.</summary>
    public const int MaximumLength = 1024 * 1024;

    /// <summary>The most bytes the pool keeps: 64 MiB, a backlog of about 1 MiB for each of 64 connections.</summary>
    public const long MaxRetainedBytes = 64L * 1024 * 1024;

    private static readonly int s_minShift = BitOperations.Log2(MinimumLength);
    private static readonly int s_bucketCount = BitOperations.Log2(MaximumLength) - s_minShift + 1;

    // Whether the caller is on the owning loop's thread. A predicate, not the loop: buffers sit below the loop.
    private readonly Func<bool> _onLoopThread;

    // Loop thread only.
    private readonly Stack<byte[]>[] _loopBuckets = NewBuckets();
    private long _loopBytes;

    // Guarded by _lock; _sharedCount is also read without it, as a hint.
    private readonly Lock _lock = new();
    private readonly Stack<byte[]>[] _sharedBuckets = NewBuckets();
    private long _sharedBytes;
    private volatile int _sharedCount;

    // The array a transport is sending from without a copy during a read callback (Pin), or null; written on the loop
    // thread only. Given back meanwhile, it stays out of the buckets until Unpin (_pinnedReturned): lent again within the
    // callback, it could be written over before those bytes are sent. Given back on another thread, it is dropped.
    private volatile byte[]? _pinned;
    private bool _pinnedReturned;

    internal BufferPool(Func<bool> onLoopThread) => _onLoopThread = onLoopThread;

    /// <summary>Bytes held by the pool right now, in both halves (diagnostics and tests).</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_lock)
            {
                return Volatile.Read(ref _loopBytes) + _sharedBytes;
            }
        }
    }

    /// <summary>The length <see cref="Rent"/> hands out for <paramref name="minimumLength"/>: the next power of two, within the pool's range.</summary>
    /// <param name="minimumLength">The size wanted.</param>
    /// <returns>A power of two between <see cref="MinimumLength"/> and <see cref="MaximumLength"/>.</returns>
    public static int RoundUp(int minimumLength) =>
        minimumLength <= MinimumLength ? MinimumLength
        : minimumLength >= MaximumLength ? MaximumLength
        : (int)BitOperations.RoundUpToPowerOf2((uint)minimumLength);

    /// <summary>Lends an array of at least <paramref name="minimumLength"/> bytes (at most <see cref="MaximumLength"/>).</summary>
    /// <param name="minimumLength">The size wanted; clamped to [<see cref="MinimumLength"/>, <see cref="MaximumLength"/>].</param>
    /// <returns>An array whose length is <see cref="RoundUp"/>(<paramref name="minimumLength"/>); its contents are unspecified.</returns>
    /// <remarks>May be called from any thread; without a lock on the loop thread.</remarks>
    public byte[] Rent(int minimumLength)
    {
        int length = RoundUp(minimumLength);
        int bucket = BucketOf(length);
        if (_onLoopThread())
        {
            if (_loopBuckets[bucket].TryPop(out byte[]? own))
            {
                Volatile.Write(ref _loopBytes, _loopBytes - own.Length);
                return own;
            }
        }

        if (_sharedCount > 0)
        {
            lock (_lock)
            {
                if (_sharedBuckets[bucket].TryPop(out byte[]? shared))
                {
                    _sharedBytes -= shared.Length;
                    _sharedCount--;
                    return shared;
                }
            }
        }

        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>Gives an array back; one the pool did not lend (a length it does not hand out), or one beyond the retention limit, is left to the GC.</summary>
    /// <param name="array">The array; the caller must not touch it afterwards.</param>
    /// <remarks>May be called from any thread, whichever thread rented the array; without a lock on the loop thread.</remarks>
    public void Return(byte[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        int length = array.Length;
        if (length < MinimumLength || length > MaximumLength || !BitOperations.IsPow2(length))
        {
            return;
        }

        if (ReferenceEquals(array, _pinned))
        {
            // On the loop thread Unpin gives it back; on another (a stream read there racing a callback's send), the GC
            // takes it: no lock on the loop's path for so rare a case.
            if (_onLoopThread())
            {
                _pinnedReturned = true;
            }

            return;
        }

        if (_onLoopThread())
        {
            // _sharedBytes is read without the lock: at worst one array more than the limit is kept.
            if (_loopBytes + Volatile.Read(ref _sharedBytes) + length <= MaxRetainedBytes)
            {
                _loopBuckets[BucketOf(length)].Push(array);
                Volatile.Write(ref _loopBytes, _loopBytes + length);
            }

            return;
        }

        lock (_lock)
        {
            if (Volatile.Read(ref _loopBytes) + _sharedBytes + length > MaxRetainedBytes)
            {
                return;
            }

            _sharedBuckets[BucketOf(length)].Push(array);
            _sharedBytes += length;
            _sharedCount++;
            Debug.Assert(_sharedBytes <= MaxRetainedBytes, "The shared half never keeps more than the limit");
        }
    }

    /// <summary>
    /// Keeps <paramref name="array"/>, lent by this pool, from being lent again until <see cref="Unpin"/>, even if it is
    /// given back meanwhile: a transport sends bytes from it in place during a read callback. Loop thread only.
    /// </summary>
    /// <returns>
    /// Whether it is pinned; <see langword="false"/> while another array is (read callbacks do not nest, so this is a
    /// guard, not a case): the caller must then not send from it in place.
    /// </returns>
    internal bool TryPin(byte[] array)
    {
        Debug.Assert(_onLoopThread(), "Pinned on the loop thread");
        if (_pinned is not null)
        {
            return false;
        }

        _pinnedReturned = false;
        _pinned = array;
        return true;
    }

    /// <summary>Ends a <see cref="TryPin"/> that succeeded: an array given back while pinned goes back to the pool now.</summary>
    internal void Unpin()
    {
        Debug.Assert(_onLoopThread(), "Unpinned on the loop thread");
        byte[]? array = _pinned;
        _pinned = null;
        if (_pinnedReturned && array is not null)
        {
            _pinnedReturned = false;
            Return(array);
        }
    }

    /// <inheritdoc/>
    /// <returns>For example "BufferPool(Retained=1048576)".</returns>
    public override string ToString() => $"BufferPool(Retained={RetainedBytes})";

    private static Stack<byte[]>[] NewBuckets()
    {
        var buckets = new Stack<byte[]>[s_bucketCount];
        for (int i = 0; i < buckets.Length; i++)
        {
            buckets[i] = new Stack<byte[]>();
        }

        return buckets;
    }

    private static int BucketOf(int length) => BitOperations.Log2((uint)length) - s_minShift;
}
