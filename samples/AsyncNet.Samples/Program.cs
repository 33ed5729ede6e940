using System.CommandLine;
using System.CommandLine.Invocation;
using AsyncNet.Samples.Http;

namespace AsyncNet.Samples;

/// <summary>
/// The samples as one program: <c>dotnet run --project samples/AsyncNet.Samples -- VERB ...</c>, with <c>--help</c>
/// on every verb.
/// </summary>
/// <remarks>
/// Verbs: <c>get URL</c> (<see cref="GetCommand"/>, the HTTP/1.1 client). Bad arguments exit with 2, after System.CommandLine's
/// message and typo suggestions.
/// </remarks>
public static class Program
{
    /// <summary>Runs the verb named by the first argument.</summary>
    /// <param name="args">The verb, then its arguments.</param>
    /// <returns>The verb's exit code.</returns>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the verb named by <c>args[0]</c> in this process, writing to the given writers (what tests call).</summary>
    /// <param name="args">The verb, then its arguments.</param>
    /// <param name="stdout">The verb's standard output.</param>
    /// <param name="stderr">The verb's standard error.</param>
    /// <returns>The verb's exit code; 2 for bad arguments.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var root = new RootCommand("AsyncNet's samples, runnable.") { GetCommand.Create() };
        ParseResult parsed = root.Parse(args);
        int code = parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return parsed.Action is ParseErrorAction ? GetCommand.ExitUsage : code;
    }
}
