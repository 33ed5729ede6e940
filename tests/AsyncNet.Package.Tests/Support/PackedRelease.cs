using System.Diagnostics;
using System.Reflection;
using System.Security;

namespace AsyncNet.Package.Tests.Support;

/// <summary>
/// The release, packed once for the test class by <c>./build.sh pack --no-build</c> into a temporary folder feed, with
/// a NuGet.config beside it and a package cache of its own.
/// </summary>
/// <remarks>
/// Layout of the temporary folder: <c>feed/</c> (every .nupkg and .snupkg), <c>NuGet.config</c> (the folder feed for
/// AsyncNet's packages, the machine's feed from <c>ASYNCNET_NUGET_FEED</c> for everything else),
/// <c>packages/</c> and <c>http-cache/</c> (NuGet's caches, so the user's are neither read nor written), and one folder
/// per consumer. It is deleted when the class's tests are done.
/// </remarks>
public sealed class PackedRelease : IDisposable
{
    private static readonly TimeSpan s_packTimeout = TimeSpan.FromMinutes(5);

    public PackedRelease()
    {
        RepositoryRoot = FindRepositoryRoot();
        Version = File.ReadAllText(Path.Combine(RepositoryRoot, "version")).Trim();
        string feedUrl = System.Environment.GetEnvironmentVariable("ASYNCNET_NUGET_FEED") is { Length: > 0 } url
            ? url
            : throw new InvalidOperationException("ASYNCNET_NUGET_FEED is not set: run the tests through ./build.sh test, which sets it from the machine's NuGet configuration.");
        Root = Directory.CreateTempSubdirectory("asyncnet-package-").FullName;
        Feed = Path.Combine(Root, "feed");
        Environment = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = Path.Combine(Root, "packages"),
            ["NUGET_HTTP_CACHE_PATH"] = Path.Combine(Root, "http-cache"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            // No build servers: nothing of the test may outlive it, or hold its folder.
            ["DOTNET_CLI_DO_NOT_USE_MSBUILD_SERVER"] = "1",
            ["UseSharedCompilation"] = "false",
            ["MSBUILDDISABLENODEREUSE"] = "1",
        };
        File.WriteAllText(Path.Combine(Root, "NuGet.config"), NuGetConfig(Feed, feedUrl));

        string configuration = typeof(PackedRelease).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var clock = Stopwatch.StartNew();
        PackOutput = ChildProcess.Run(
            "bash",
            ["build.sh", "pack", "--no-build"],
            RepositoryRoot,
            new Dictionary<string, string?>(Environment) { ["ASYNCNET_ARTIFACTS"] = Feed, ["ASYNCNET_CONFIGURATION"] = configuration },
            s_packTimeout);
        PackTime = clock.Elapsed;
    }

    /// <summary>The repository's root (where build.sh is).</summary>
    public string RepositoryRoot { get; }

    /// <summary>The version every package has: the repository's <c>version</c> file.</summary>
    public string Version { get; }

    /// <summary>The temporary folder.</summary>
    public string Root { get; }

    /// <summary>The folder feed the packages were written to.</summary>
    public string Feed { get; }

    /// <summary>The variables every child process gets: the private caches, no telemetry, no build servers.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }

    /// <summary>What <c>./build.sh pack</c> printed.</summary>
    public string PackOutput { get; }

    /// <summary>How long packing took.</summary>
    public TimeSpan PackTime { get; }

    /// <summary>The dotnet executable running these tests, for the children.</summary>
    public static string Dotnet { get; } = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Copies a consumer app's sources (from this test's output) into a fresh folder of the temporary folder.</summary>
    public string CopyConsumer(string name)
    {
        string source = Path.Combine(AppContext.BaseDirectory, "Consumers", name);
        string target = Path.Combine(Root, name);
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary folder left behind is harmless.
        }
    }

    private static string NuGetConfig(string feed, string feedUrl) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <clear />
            <add key="asyncnet-release" value="{SecurityElement.Escape(feed)}" />
            <add key="machine-feed" value="{SecurityElement.Escape(feedUrl)}" />
          </packageSources>
          <!-- AsyncNet's packages only from the folder just packed, whatever another feed holds under their names. -->
          <packageSourceMapping>
            <packageSource key="asyncnet-release">
              <package pattern="AsyncNet.*" />
              <package pattern="asyncnet" />
            </packageSource>
            <packageSource key="machine-feed">
              <package pattern="*" />
            </packageSource>
          </packageSourceMapping>
        </configuration>
        """;

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "build.sh")) && File.Exists(Path.Combine(directory.FullName, "version")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root (build.sh and version) above {AppContext.BaseDirectory}.");
    }
}
