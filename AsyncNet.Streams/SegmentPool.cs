using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using AsyncNet.Loop;

namespace AsyncNet.Streams;

/// <summary>
/// The byte arrays one loop's stream readers receive into: owned by the loop (one pool per loop), and safe to
/// return to from any thread, because a reader consuming on the thread pool gives its segments back there.
/// </summary>
/// <remarks>
/// <para>
/// Why not <see cref="System.Buffers.ArrayPool{T}.Shared"/>: it keeps about 32 arrays per size class per core,
/// so a loop with more connections than that allocates in steady state (PERF-FACTS, "Buffer pools"). This pool
/// keeps what its connections give back, up to <see cref="MaxRetainedBytes"/>.
/// </para>
/// <para>
/// Sizes are powers of two from <see cref="MinimumLength"/> to <see cref="MaximumLength"/>. One lock guards the
/// buckets: the loop thread rents and returns, a thread-pool reader returns; the lock is held for a push or a pop.
/// </para>
/// </remarks>
internal sealed class SegmentPool
{
    /// <summary>The smallest array: 256 bytes, so a tiny read copied out of a large receive array wastes little.</summary>
    public const int MinimumLength = 256;

    /// <summary>The largest array: 1 MiB, the largest read a transport makes.</summary>
    public const int MaximumLength = 1024 * 1024;

    /// <summary>How many bytes the pool keeps at most: 64 MiB.</summary>
    public const long MaxRetainedBytes = 64L * 1024 * 1024;

    private static readonly ConditionalWeakTable<EventLoop, SegmentPool> s_pools = [];
    private static readonly int s_minShift = BitOperations.Log2(MinimumLength);

    private readonly Lock _lock = new();
    private readonly Stack<byte[]>[] _buckets;
    private long _retainedBytes;

    public SegmentPool()
    {
        _buckets = new Stack<byte[]>[BitOperations.Log2(MaximumLength) - s_minShift + 1];
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new Stack<byte[]>();
        }
    }

    /// <summary>Bytes held by the pool right now (diagnostics and tests).</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_lock)
            {
                return _retainedBytes;
            }
        }
    }

    /// <summary>The pool of <paramref name="loop"/>, made on first use and dropped with the loop.</summary>
    public static SegmentPool For(EventLoop loop) => s_pools.GetValue(loop, static _ => new SegmentPool());

    /// <summary>An array of at least <paramref name="minimumLength"/> bytes (clamped to the pool's range); contents unspecified.</summary>
    public byte[] Rent(int minimumLength)
    {
        int length = RoundUp(minimumLength);
        lock (_lock)
        {
            if (_buckets[BucketOf(length)].TryPop(out byte[]? array))
            {
                _retainedBytes -= array.Length;
                return array;
            }
        }

        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>Gives an array back; one of a size the pool does not hand out, or beyond the retention limit, is left to the GC.</summary>
    /// <remarks>The caller must not touch the array afterwards.</remarks>
    public void Return(byte[] array)
    {
        int length = array.Length;
        if (length < MinimumLength || length > MaximumLength || !BitOperations.IsPow2(length))
        {
            return;
        }

        lock (_lock)
        {
            if (_retainedBytes + length > MaxRetainedBytes)
            {
                return;
            }

            _buckets[BucketOf(length)].Push(array);
            _retainedBytes += length;
            Debug.Assert(_retainedBytes <= MaxRetainedBytes, "The pool never keeps more than its limit");
        }
    }

    private static int RoundUp(int length) =>
        length <= MinimumLength ? MinimumLength : length >= MaximumLength ? MaximumLength : (int)BitOperations.RoundUpToPowerOf2((uint)length);

    private static int BucketOf(int length) => BitOperations.Log2((uint)length) - s_minShift;
}
