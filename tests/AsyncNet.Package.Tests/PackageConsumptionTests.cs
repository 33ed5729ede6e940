using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AsyncNet.Package.Tests.Support;
using Xunit.Abstractions;

namespace AsyncNet.Package.Tests;

/// <summary>
/// What proves a user can consume a release: the packages' metadata, fresh C# and F# apps that reference them from a
/// folder feed only and run a framed echo round trip, and the asyncnet tool installed from it serving a bench.
/// </summary>
/// <remarks>One pack for the class (<see cref="PackedRelease"/>); the tests run one after the other.</remarks>
public sealed partial class PackageConsumptionTests(PackedRelease release, ITestOutputHelper log) : IClassFixture<PackedRelease>
{
    private static readonly TimeSpan s_buildTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(1);

    public static TheoryData<string> Libraries => ["AsyncNet.Core", "AsyncNet.Streams", "AsyncNet.Testing", "AsyncNet.Properties"];

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Library_IsPackedWithMetadataDocsReadmeAndSymbols(string id)
    {
        log.WriteLine($"pack took {release.PackTime.TotalSeconds:F1} s");
        using ZipArchive package = ZipFile.OpenRead(Path.Combine(release.Feed, $"{id}.{release.Version}.nupkg"));
        XElement metadata = Metadata(package);

        Assert.Equal(id, Value(metadata, "id"));
        Assert.Equal(release.Version, Value(metadata, "version"));
        Assert.Equal("MIT", Value(metadata, "license"));
        Assert.Equal("expression", metadata.Elements().Single(e => e.Name.LocalName == "license").Attribute("type")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(Value(metadata, "description")));
        Assert.False(string.IsNullOrWhiteSpace(Value(metadata, "tags")));
        Assert.Equal("README.md", Value(metadata, "readme"));
        string[] files = [.. package.Entries.Select(e => e.FullName)];
        Assert.Contains("README.md", files);
        Assert.Contains($"lib/net10.0/{id}.dll", files);
        Assert.Contains($"lib/net10.0/{id}.xml", files);

        using ZipArchive symbols = ZipFile.OpenRead(Path.Combine(release.Feed, $"{id}.{release.Version}.snupkg"));
        Assert.Contains($"lib/net10.0/{id}.pdb", symbols.Entries.Select(e => e.FullName));
    }

    [Fact]
    public void Dependencies_PinSiblingLibrariesToTheRelease_AndLetThirdPartiesFloatUp()
    {
        string exact = $"[{release.Version}]";

        Assert.Equal(new Dictionary<string, string> { ["Microsoft.Extensions.Logging.Abstractions"] = "10.0.0" }, Dependencies("AsyncNet.Core"));
        Assert.Equal(new Dictionary<string, string> { ["AsyncNet.Core"] = exact }, Dependencies("AsyncNet.Streams"));
        Assert.Equal(new Dictionary<string, string> { ["AsyncNet.Core"] = exact, ["AsyncNet.Streams"] = exact }, Dependencies("AsyncNet.Testing"));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["AsyncNet.Core"] = exact,
                ["AsyncNet.Streams"] = exact,
                ["AsyncNet.Testing"] = exact,
                ["FsCheck"] = "3.6.0",          // a bare version in a nuspec means ">= 3.6.0"
                ["FSharp.Core"] = "10.1.401",
            },
            Dependencies("AsyncNet.Properties"));
    }

    [Fact]
    public void CSharpConsoleApp_ReferencingThePackages_RunsAFramedEchoRoundTrip()
    {
        string output = BuildAndRun("CSharpEcho");

        Assert.Contains("csharp echo OK: 3 frames, 70005 bytes", output);
    }

    [Fact]
    public void FSharpConsoleApp_ReferencingAsyncNetProperties_RunsAFramedEchoRoundTripAndEchoFuzz()
    {
        string output = BuildAndRun("FSharpEcho");

        Assert.Contains("fsharp echo OK: 3 frames, 70005 bytes", output);
        Assert.Contains("fsharp fuzz OK: 10 cases", output);
    }

    [Fact]
    public void Tool_InstalledFromTheFeed_PrintsItsVersion_AndBenchesItsOwnEchoServer()
    {
        string tools = Path.Combine(release.Root, "tools");
        ChildProcess.Run(
            PackedRelease.Dotnet,
            ["tool", "install", "asyncnet", "--tool-path", tools, "--version", release.Version, "--configfile", Path.Combine(release.Root, "NuGet.config")],
            release.Root,
            release.Environment,
            s_buildTimeout);
        string asyncnet = Path.Combine(tools, "asyncnet");
        var environment = new Dictionary<string, string?>(release.Environment) { ["DOTNET_ROOT"] = Path.GetDirectoryName(PackedRelease.Dotnet) };

        string version = ChildProcess.Run(asyncnet, ["--version"], release.Root, environment, s_runTimeout).Trim();
        Assert.StartsWith($"{release.Version}+", version); // then the commit it was built from

        using ChildProcess server = ChildProcess.Start(asyncnet, ["echo-server", "--kind", "stream", "--port", "0"], release.Root, environment);
        string port = ListeningPort().Match(server.WaitForLine("listening on", s_runTimeout)).Groups[1].Value;
        string bench = ChildProcess.Run(asyncnet, ["bench", "--port", port, "--connections", "2", "--seconds", "0.5", "--warmup", "0"], release.Root, environment, s_runTimeout);
        Assert.Contains("every echoed byte matched", bench);

        // SIGTERM stops the server gracefully, with exit code 0.
        ChildProcess.Run("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], release.Root, environment, s_runTimeout);
        Assert.Equal(0, server.WaitForExit(s_runTimeout));
        Assert.Contains("echo-server: stopped", server.Output);
    }

    private string BuildAndRun(string consumer)
    {
        string directory = release.CopyConsumer(consumer);
        ChildProcess.Run(
            PackedRelease.Dotnet,
            ["build", "-c", "Release", $"-p:AsyncNetVersion={release.Version}", "-nodeReuse:false"],
            directory,
            release.Environment,
            s_buildTimeout);
        string output = ChildProcess.Run(PackedRelease.Dotnet, [Path.Combine(directory, "bin", "Release", "net10.0", $"{consumer}.dll")], directory, release.Environment, s_runTimeout);
        log.WriteLine(output);

        // The app ran on the packages from the release folder, not on anything the repository built.
        string assets = File.ReadAllText(Path.Combine(directory, "obj", "project.assets.json"));
        Assert.Contains($"\"AsyncNet.Core/{release.Version}\"", assets);
        Assert.DoesNotContain("\"type\": \"project\"", assets);
        return output;
    }

    private Dictionary<string, string> Dependencies(string id)
    {
        using ZipArchive package = ZipFile.OpenRead(Path.Combine(release.Feed, $"{id}.{release.Version}.nupkg"));
        return Metadata(package).Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
    }

    private static XElement Metadata(ZipArchive package)
    {
        ZipArchiveEntry nuspec = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
        using Stream stream = nuspec.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string? Value(XElement metadata, string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningPort();
}
