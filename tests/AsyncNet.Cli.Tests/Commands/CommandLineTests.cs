using System.Reflection;

namespace AsyncNet.Cli.Tests.Commands;

/// <summary>The command line itself (System.CommandLine): help, version, suggestions, completions and usage errors.</summary>
public sealed class CommandLineTests
{
    public static TheoryData<string> Verbs => ["demo", "echo-server", "bench", "fuzz", "proxy"];

    [Theory]
    [MemberData(nameof(Verbs))]
    public void Help_ForEveryVerb_DescribesItsOptionsAndExitCodes_OnStdout(string verb)
    {
        (int code, string stdout, string stderr) = Run(verb, "--help");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains($" {verb} [options]", stdout);
        Assert.Contains("-h, --help", stdout);
        Assert.Contains("Exit codes:", stdout);
        Assert.Matches(@"\n  2 +bad arguments", stdout);
        Assert.Empty(stderr);
    }

    [Fact]
    public void Help_ForBench_ListsEveryOptionWithItsDefault_AndTheInProcessServer()
    {
        (_, string stdout, _) = Run("bench", "--help");

        Assert.Matches(@"--port <port> +The server's TCP port \(or --server-loops", stdout);
        foreach (string option in new[] { "--host", "--server-loops", "--server-kind", "--distribution", "--connections", "--size", "--depth", "--seconds", "--warmup", "--framed" })
        {
            Assert.Contains(option, stdout);
        }

        Assert.Contains("[default: 50]", stdout);
        Assert.Contains("[default: 127.0.0.1]", stdout);
        Assert.Matches(@"\n  130 +interrupted", stdout);
    }

    [Fact]
    public void Version_PrintsTheAssemblysInformationalVersion()
    {
        string expected = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        (int code, string stdout, string stderr) = Run("--version");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(expected, stdout.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", stdout);
        Assert.Empty(stderr);
    }

    [Theory]
    [InlineData(new[] { "bnech", "--port", "1" }, "asyncnet: Unrecognized command or argument 'bnech'.", "'bnech' was not matched. Did you mean one of the following?\nbench\n")]
    [InlineData(new[] { "bench", "--prot", "1" }, "asyncnet: bench: Unrecognized command or argument '--prot'.", "'--prot' was not matched. Did you mean one of the following?\n--port\n")]
    [InlineData(new[] { "echo-server", "--kidn", "raw" }, "asyncnet: echo-server: Unrecognized command or argument '--kidn'.", "Did you mean one of the following?\n--kind\n")]
    public void Typo_ExitsWith2_SuggestingTheNearestName_OnStderr(string[] args, string error, string suggestion)
    {
        (int code, string stdout, string stderr) = Run(args);

        Assert.Equal(ExitCodes.Usage, code);
        string normalized = stderr.ReplaceLineEndings("\n");
        Assert.StartsWith(error, normalized);
        Assert.Contains(suggestion, normalized);
        Assert.Contains("usage: asyncnet", normalized);
        Assert.Empty(stdout);
    }

    [Theory]
    [InlineData(new[] { "bench", "--port", "9", "--depth", "0" }, "asyncnet: bench: --depth must be a whole number from 1 to 4096 (got '0')")]
    [InlineData(new[] { "bench", "--port", "9", "--seconds", "1e9" }, "asyncnet: bench: --seconds must be a number of seconds from 0.1 to 86400 (got '1e9')")]
    [InlineData(new[] { "bench", "--port", "9", "--warmup", "-1" }, "asyncnet: bench: --warmup must be a number of seconds from 0 to 3600 (got '-1')")]
    [InlineData(new[] { "bench", "--port", "1.5" }, "asyncnet: bench: --port must be a whole number from 1 to 65535 (got '1.5')")]
    [InlineData(new[] { "bench", "--port", "1", "--port", "2" }, "asyncnet: bench: Option '--port' expects a single argument but 2 were provided.")]
    [InlineData(new[] { "bench", "--port", "9", "--host=" }, "asyncnet: bench: Required argument missing for option: '--host'.")]
    [InlineData(new[] { "bench", "--port", "9", "--host", "" }, "asyncnet: bench: --host needs a non-empty value")]
    public void BadArgument_ExitsWith2_WithOneLineNamingTheOption_AndNothingOnStdout(string[] args, string error)
    {
        (int code, string stdout, string stderr) = Run(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal(error, stderr.ReplaceLineEndings("\n").Split('\n')[0]);
        Assert.Contains($"'asyncnet {args[0]} --help' describes them", stderr);
        Assert.Empty(stdout);
    }

    [Theory]
    [InlineData("[suggest] ech", new[] { "echo-server" })]
    [InlineData("[suggest:19] \"echo-server --kind \"", new[] { "framed", "pipelines", "raw", "socket", "stream" })]
    public void SuggestDirective_CompletesVerbsAndValues(string directive, string[] expected)
    {
        string[] args = System.CommandLine.Parsing.CommandLineParser.SplitCommandLine(directive).ToArray();

        (int code, string stdout, _) = Run(args);

        Assert.Equal(ExitCodes.Ok, code);
        string[] completions = stdout.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected, completions.Intersect(expected).ToArray());
        Assert.DoesNotContain("bench", completions);
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
