using System.Diagnostics;
using System.Numerics;

namespace AsyncNet.Transports;

/// <summary>
/// The byte arrays one loop's stream transports read into and queue unsent bytes in: owned by the loop,
/// used only on its thread, so it needs no lock.
/// </summary>
/// <remarks>
/// <para>
/// Why not <see cref="System.Buffers.ArrayPool{T}.Shared"/>: it keeps about 32 arrays per size class per
/// core, and a loop with more connections than that, each holding a partly sent write, makes it allocate
/// in steady state (PERF-FACTS). This pool is sized by what its loop returns to it.
/// </para>
/// <para>
/// Sizes are powers of two from <see cref="MinimumLength"/> to <see cref="MaximumLength"/>; a request is
/// rounded up. At most <see cref="MaxRetainedBytes"/> bytes are kept; arrays returned beyond that are left
/// to the GC. The read path rents one array per read and returns it before the next, so the whole loop
/// reads into a single array whatever its number of connections.
/// </para>
/// </remarks>
internal sealed class StreamBufferPool
{
    /// <summary>The smallest array handed out: 4 KiB, one page.</summary>
    public const int MinimumLength = 4 * 1024;

    /// <summary>The largest array handed out: 1 MiB. Larger requests are served in several arrays by the callers.</summary>
    public const int MaximumLength = 1024 * 1024;

    /// <summary>How many bytes the pool keeps at most: 64 MiB, a backlog of about 1 MiB for each of 64 connections.</summary>
    public const long MaxRetainedBytes = 64L * 1024 * 1024;

    private static readonly int s_minShift = BitOperations.Log2(MinimumLength);

    // One stack per power of two between MinimumLength and MaximumLength.
    private readonly Stack<byte[]>[] _buckets;
    private long _retainedBytes;

    public StreamBufferPool()
    {
        _buckets = new Stack<byte[]>[BitOperations.Log2(MaximumLength) - s_minShift + 1];
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new Stack<byte[]>();
        }
    }

    /// <summary>
    /// A scratch list for one gathered send (at most <see cref="SocketStreamTransport.MaxGatherSegments"/> entries);
    /// filled and cleared within one call on the loop thread, so one list serves every transport of the loop.
    /// </summary>
    public List<ArraySegment<byte>> GatherList { get; } = new(SocketStreamTransport.MaxGatherSegments);

    /// <summary>Bytes held by the pool right now (diagnostics and tests).</summary>
    public long RetainedBytes => _retainedBytes;

    /// <summary>Returns an array of at least <paramref name="minimumLength"/> bytes (at most <see cref="MaximumLength"/>).</summary>
    /// <param name="minimumLength">The size wanted; clamped to [<see cref="MinimumLength"/>, <see cref="MaximumLength"/>].</param>
    /// <returns>An array whose length is a power of two; its contents are unspecified.</returns>
    public byte[] Rent(int minimumLength)
    {
        int length = RoundUp(minimumLength);
        Stack<byte[]> bucket = _buckets[BucketOf(length)];
        if (bucket.TryPop(out byte[]? array))
        {
            _retainedBytes -= array.Length;
            return array;
        }

        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>Gives an array back; arrays this pool did not hand out, or beyond the retention limit, are dropped.</summary>
    /// <param name="array">The array; the caller must not touch it afterwards.</param>
    public void Return(byte[] array)
    {
        int length = array.Length;
        if (length < MinimumLength || length > MaximumLength || !BitOperations.IsPow2(length)
            || _retainedBytes + length > MaxRetainedBytes)
        {
            return;
        }

        _buckets[BucketOf(length)].Push(array);
        _retainedBytes += length;
        Debug.Assert(_retainedBytes <= MaxRetainedBytes, "The pool never keeps more than its limit");
    }

    private static int RoundUp(int length) =>
        length <= MinimumLength ? MinimumLength : length >= MaximumLength ? MaximumLength : (int)BitOperations.RoundUpToPowerOf2((uint)length);

    private static int BucketOf(int length) => BitOperations.Log2((uint)length) - s_minShift;
}
