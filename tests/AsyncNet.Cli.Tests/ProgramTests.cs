namespace AsyncNet.Cli.Tests;

public sealed class ProgramTests
{
    [Fact]
    public void UnknownCommand_ExitsWith2_NamingIt()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = Program.Run(["no-such-command"], stdout, stderr);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("asyncnet: Unrecognized command or argument 'no-such-command'.", stderr.ToString());
        Assert.Contains("usage: asyncnet <command> [options]", stderr.ToString());
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public void Main_UnknownCommand_ExitsWith2()
    {
        Assert.Equal(2, Program.Main(["no-such-command"]));
    }

    [Theory]
    [InlineData]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help_PrintsEveryCommandAndTheExitCodes_OnStdout(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = Program.Run(args, stdout, stderr);

        Assert.Equal(ExitCodes.Ok, code);
        string usage = stdout.ToString();
        foreach (string verb in new[] { "demo", "echo-server", "bench", "fuzz", "proxy" })
        {
            Assert.Contains($"  {verb} ", usage);
        }

        Assert.Matches(@"\n  6 +connection refused", usage);
        Assert.Matches(@"\n  130 +bench or fuzz interrupted", usage);
        Assert.Empty(stderr.ToString());
    }

    [Fact]
    public void Demo_WithAnArgument_ExitsWith2()
    {
        var stderr = new StringWriter();

        Assert.Equal(ExitCodes.Usage, Program.Run(["demo", "extra"], new StringWriter(), stderr));
        Assert.StartsWith("asyncnet: demo: Unrecognized command or argument 'extra'.", stderr.ToString());
    }

    [Fact]
    public void Demo_RunsAndSaysOk()
    {
        var stdout = new StringWriter();

        int code = Program.Run(["demo"], stdout, new StringWriter());

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("demo: OK", stdout.ToString());
    }

    [Fact]
    public void Fuzz_IsDispatched()
    {
        var stderr = new StringWriter();

        Assert.Equal(ExitCodes.Usage, Program.Run(["fuzz"], new StringWriter(), stderr));
        Assert.StartsWith("asyncnet: fuzz: Option '--port' is required.", stderr.ToString());
    }
}
