using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace AsyncNet.Cli;

/// <summary>
/// The <c>asyncnet</c> command line on System.CommandLine: the verbs, <c>--help</c> on each (ending with its exit codes),
/// <c>--version</c>, typo suggestions, and completions through the <c>[suggest]</c> directive.
/// </summary>
/// <remarks>
/// A bad command line (an unknown verb or option, a missing or out-of-range value) prints one
/// "asyncnet: VERB: problem" line per problem on standard error, then System.CommandLine's suggestions for mistyped
/// words, then where the usage is, and exits with <see cref="ExitCodes.Usage"/>; nothing goes to standard output.
/// </remarks>
public static class CommandLine
{
    /// <summary>Builds the root command with every verb.</summary>
    /// <returns>The root command; <see cref="Invoke"/> parses and runs a command line with it.</returns>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("AsyncNet's command-line tool: echo servers, a verifying echo load, a fuzzer for echo servers of any framing or lines, a fault-injecting proxy and a demo, on asyncio's model for .NET.")
        {
            DemoCommand.Create(),
            EchoServerCommand.Create(),
            BenchCommand.Create(),
            FuzzCommand.Create(),
            ProxyCommand.Create(),
        };
        HelpOption helpOption = root.Options.OfType<HelpOption>().Single();
        var help = new HelpWithExitCodesAction((HelpAction)helpOption.Action!, ExitCodes.Help);
        helpOption.Action = help;
        root.Options.OfType<VersionOption>().Single().Action = new VersionAction();

        // Without a verb, and for "asyncnet help", the root's help (exit code 0), as before the parser changed.
        root.SetAction(help.Invoke);
        var helpVerb = new Command("help", "Show this help.") { Hidden = true };
        helpVerb.SetAction(result => root.Parse(["--help"]).Invoke(result.InvocationConfiguration));
        root.Add(helpVerb);
        return root;
    }

    /// <summary>Parses <paramref name="args"/> and runs the verb they name.</summary>
    /// <param name="args">The verb, then its arguments.</param>
    /// <param name="stdout">The verb's standard output (the help and the version go here too).</param>
    /// <param name="stderr">The verb's standard error: usage errors, failures, progress.</param>
    /// <param name="cancellationToken">Stops <c>echo-server</c>, <c>bench</c>, <c>fuzz</c> and <c>proxy</c>.</param>
    /// <returns>The verb's exit code; <see cref="ExitCodes.Usage"/> for a bad command line.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static int Invoke(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ParseResult parsed = CreateRoot().Parse(args);
        if (parsed.Action is ParseErrorAction errorAction)
        {
            ReportUsageErrors(parsed, errorAction, stderr);
            return ExitCodes.Usage;
        }

        // Program.Main turns Ctrl-C and SIGTERM into the token itself, so System.CommandLine's own handler stays off.
        var configuration = new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
        return parsed.InvokeAsync(configuration, cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>Reports a usage error found after parsing: "asyncnet: VERB: problem", then where the usage is.</summary>
    /// <param name="verb">The verb whose arguments are wrong.</param>
    /// <param name="problem">What is wrong, naming the option.</param>
    /// <param name="stderr">Where to report it.</param>
    /// <returns><see cref="ExitCodes.Usage"/>.</returns>
    internal static int UsageError(Command verb, string problem, TextWriter stderr) => UsageError(verb.Name, problem, stderr);

    /// <summary>Reports a usage error found while running: "asyncnet: VERB: problem", then where the usage is.</summary>
    /// <param name="verb">The name of the verb whose arguments are wrong.</param>
    /// <param name="problem">What is wrong, naming the option.</param>
    /// <param name="stderr">Where to report it.</param>
    /// <returns><see cref="ExitCodes.Usage"/>.</returns>
    internal static int UsageError(string verb, string problem, TextWriter stderr)
    {
        stderr.WriteLine($"asyncnet: {verb}: {problem}");
        WriteUsageHint(verb, stderr);
        return ExitCodes.Usage;
    }

    private static void ReportUsageErrors(ParseResult parsed, ParseErrorAction errorAction, TextWriter stderr)
    {
        Command command = parsed.CommandResult.Command;
        string prefix = command is RootCommand ? "asyncnet" : $"asyncnet: {command.Name}";
        foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
        {
            stderr.WriteLine($"{prefix}: {error.Message}");
        }

        // System.CommandLine writes its typo suggestions to Output and the errors (written above already) to Error.
        errorAction.ShowHelp = false;
        errorAction.ShowTypoCorrections = true;
        parsed.Invoke(new InvocationConfiguration { Output = stderr, Error = TextWriter.Null, EnableDefaultExceptionHandler = false });
        WriteUsageHint(command, stderr);
    }

    private static void WriteUsageHint(Command command, TextWriter stderr) => WriteUsageHint(command is RootCommand ? null : command.Name, stderr);

    /// <summary>Where the usage is: the verb's help, or the root's for <see langword="null"/>.</summary>
    private static void WriteUsageHint(string? verb, TextWriter stderr) =>
        stderr.WriteLine(verb is null
            ? "usage: asyncnet <command> [options]; 'asyncnet --help' lists the commands"
            : $"usage: asyncnet {verb} [options]; 'asyncnet {verb} --help' describes them");
}
