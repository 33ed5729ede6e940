using System.CommandLine;

namespace AsyncNet.Cli;

/// <summary>A verb of <c>asyncnet</c>: a command that also states its exit codes, which its <c>--help</c> ends with.</summary>
/// <param name="name">The verb.</param>
/// <param name="description">What it does, for the help.</param>
/// <param name="exitCodes">Its exit codes, one "CODE  meaning" per line.</param>
internal sealed class Verb(string name, string description, string exitCodes) : Command(name, description)
{
    /// <summary>The exit codes, one "CODE  meaning" per line.</summary>
    public string ExitCodesHelp { get; } = exitCodes;
}
