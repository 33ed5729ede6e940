using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;

namespace AsyncNet.Cli;

/// <summary>
/// <c>--version</c>: prints this tool's informational version (the package version, then <c>+</c> and the commit),
/// read from the tool's own assembly rather than the process's entry assembly, so a host running the tool in process
/// (a test) prints the same.
/// </summary>
internal sealed class VersionAction : SynchronousCommandLineAction
{
    /// <summary>The version printed.</summary>
    public static string Version { get; } =
        typeof(VersionAction).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(VersionAction).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <inheritdoc/>
    public override bool ClearsParseErrors => true;

    /// <inheritdoc/>
    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        parseResult.InvocationConfiguration.Output.WriteLine(Version);
        return ExitCodes.Ok;
    }
}
