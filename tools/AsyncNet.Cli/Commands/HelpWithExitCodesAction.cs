using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace AsyncNet.Cli;

/// <summary>System.CommandLine's help, followed by an "Exit codes:" section: the verb's own, or at the root every code.</summary>
/// <param name="help">The standard help action it extends.</param>
/// <param name="rootExitCodes">The root's section, one "CODE  meaning" per line.</param>
internal sealed class HelpWithExitCodesAction(HelpAction help, string rootExitCodes) : SynchronousCommandLineAction
{
    /// <inheritdoc/>
    public override bool ClearsParseErrors => true;

    /// <inheritdoc/>
    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        int code = help.Invoke(parseResult);
        string exitCodes = parseResult.CommandResult.Command is Verb verb ? verb.ExitCodesHelp : rootExitCodes;
        TextWriter output = parseResult.InvocationConfiguration.Output;
        output.WriteLine("Exit codes:");
        foreach (string line in exitCodes.Split('\n'))
        {
            output.WriteLine($"  {line}");
        }

        output.WriteLine();
        return code;
    }
}
