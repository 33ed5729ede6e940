namespace AsyncNet.Testing.Syscalls;

/// <summary>This process's open socket descriptors, for leak checks around code that injected faults (Linux).</summary>
/// <remarks>
/// Read from <c>/proc/self/fd</c>: each socket is listed as its descriptor number and its link target,
/// <c>"socket:[inode]"</c>. Counts are process-wide, so a check is only meaningful while nothing else in the process
/// opens or closes sockets (run it in a test collection of its own).
/// </remarks>
public static class SocketDescriptors
{
    private const string Directory = "/proc/self/fd";

    /// <summary>Whether this system lists descriptors where <see cref="Open"/> reads them.</summary>
    public static bool IsSupported => System.IO.Directory.Exists(Directory);

    /// <summary>The open socket descriptors: number → <c>"socket:[inode]"</c>.</summary>
    /// <returns>A snapshot.</returns>
    /// <exception cref="PlatformNotSupportedException"><see cref="IsSupported"/> is false.</exception>
    public static IReadOnlyDictionary<int, string> Open()
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException($"Open descriptors are read from {Directory}, which this system does not have.");
        }

        var sockets = new Dictionary<int, string>();
        foreach (string path in System.IO.Directory.GetFiles(Directory))
        {
            string? target;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
                // Closed between the listing and this read: not open any more.
                continue;
            }

            if (target is not null && target.StartsWith("socket:", StringComparison.Ordinal) && int.TryParse(Path.GetFileName(path), out int fd))
            {
                sockets[fd] = target;
            }
        }

        return sockets;
    }

    /// <summary>
    /// The sockets open beyond <paramref name="baseline"/>: waits up to <paramref name="timeout"/> for their number to fall
    /// back to the baseline's, collecting garbage first (an abandoned socket closes in its finalizer).
    /// </summary>
    /// <param name="baseline">What <see cref="Open"/> returned before the code under test ran.</param>
    /// <param name="timeout">How long to let stragglers close.</param>
    /// <returns>
    /// Empty when no more sockets are open than at the baseline; otherwise those open now that were not then (number →
    /// target), for the failure message.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="baseline"/> is null.</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="IsSupported"/> is false.</exception>
    public static IReadOnlyDictionary<int, string> LeakedSince(IReadOnlyDictionary<int, string> baseline, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            IReadOnlyDictionary<int, string> now = Open();
            if (now.Count <= baseline.Count)
            {
                return new Dictionary<int, string>();
            }

            if (DateTime.UtcNow >= deadline)
            {
                return now.Where(e => !baseline.TryGetValue(e.Key, out string? was) || was != e.Value).ToDictionary(e => e.Key, e => e.Value);
            }

            Thread.Sleep(20);
        }
    }
}
