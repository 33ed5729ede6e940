using System.Globalization;
using Xunit.Abstractions;

namespace AsyncNet.Streams.Tests.Soak;

/// <summary>
/// A check too slow for CI: it runs only under <c>./build.sh soak</c> (which sets ASYNCNET_SOAK_FACTOR) and is skipped
/// otherwise. Its class carries <c>[Trait("Category", "Soak")]</c>, which <c>./build.sh test</c> filters out.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class SoakFactAttribute : FactAttribute
{
    public SoakFactAttribute()
    {
        if (!SoakRun.IsOn)
        {
            Skip = "A soak check: run it with ./build.sh soak.";
        }
    }
}

/// <summary>The soak run's settings and its report.</summary>
internal static class SoakRun
{
    /// <summary>Whether this is a soak run (ASYNCNET_SOAK_FACTOR is set).</summary>
    public static bool IsOn => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASYNCNET_SOAK_FACTOR"));

    /// <summary>An integer setting from the environment, or <paramref name="fallback"/>.</summary>
    public static long Setting(string name, long fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text ? long.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>Appends a line to the report <c>./build.sh soak</c> prints at the end (ASYNCNET_SOAK_REPORT), and to the test output.</summary>
    public static void Report(ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("ASYNCNET_SOAK_REPORT") is { Length: > 0 } path)
        {
            lock (typeof(SoakRun))
            {
                File.AppendAllText(path, "  " + line + Environment.NewLine);
            }
        }
    }

    /// <summary>
    /// How many sockets, pipes and anonymous inodes (epoll, eventfd) this process has open (Linux: /proc/self/fd):
    /// every descriptor but the runtime's files, which it opens once as it loads an assembly and keeps.
    /// </summary>
    public static int OpenDescriptors() =>
        DescribeDescriptors().Count(d => d.Contains("-> socket:", StringComparison.Ordinal) || d.Contains("-> pipe:", StringComparison.Ordinal) || d.Contains("-> anon_inode:", StringComparison.Ordinal));

    /// <summary>What each open descriptor is ("17 -> socket:[12345]"), to name the ones a check left open.</summary>
    public static HashSet<string> DescribeDescriptors()
    {
        var described = new HashSet<string>();
        foreach (string path in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                described.Add($"{Path.GetFileName(path)} -> {new FileInfo(path).LinkTarget}");
            }
            catch (IOException)
            {
                // Closed while listed (the listing's own descriptor, for one).
            }
        }

        return described;
    }

    /// <summary>This process's resident set size in bytes (Linux: VmRSS of /proc/self/status).</summary>
    public static long ResidentBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                string kib = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("/proc/self/status has no VmRSS line.");
    }
}
