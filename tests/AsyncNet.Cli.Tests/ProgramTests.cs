using AsyncNet.Cli;

namespace AsyncNet.Cli.Tests;

public sealed class ProgramTests
{
    [Fact]
    public void UnknownCommand_ExitsWithUsageError()
    {
        Assert.Equal(2, Program.Main(["no-such-command"]));
    }
}
