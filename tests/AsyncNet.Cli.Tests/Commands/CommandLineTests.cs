namespace AsyncNet.Cli.Tests.Commands;

public sealed class CommandLineTests
{
    private static readonly string[] s_values = ["port", "host", "seconds"];
    private static readonly string[] s_flags = ["framed"];

    [Fact]
    public void Parse_ValuesBothWays_AndFlags()
    {
        CommandLine line = CommandLine.Parse("bench", ["--port", "9000", "--host=example.org", "--framed", "--seconds", "0.5"], s_values, s_flags);

        Assert.Equal(9000, line.GetInt32("port", null, 1, 65535));
        Assert.Equal("example.org", line.GetString("host", "127.0.0.1"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), line.GetSeconds("seconds", 5, 0.1, 60));
        Assert.True(line.Has("framed"));
    }

    [Fact]
    public void Absent_OptionalOptions_TakeTheirFallbacks()
    {
        CommandLine line = CommandLine.Parse("bench", [], s_values, s_flags);

        Assert.Equal(50, line.GetInt32("port", 50, 1, 65535));
        Assert.Equal("127.0.0.1", line.GetString("host", "127.0.0.1"));
        Assert.Equal(TimeSpan.FromSeconds(5), line.GetSeconds("seconds", 5, 0.1, 60));
        Assert.False(line.Has("framed"));
    }

    [Theory]
    [InlineData(new[] { "--nope", "1" }, "bench: unknown option '--nope'")]
    [InlineData(new[] { "--port" }, "bench: --port needs a value")]
    [InlineData(new[] { "--port", "--framed" }, "bench: --port needs a value")]
    [InlineData(new[] { "--port", "1", "--port", "2" }, "bench: --port given twice")]
    [InlineData(new[] { "--framed", "--framed" }, "bench: --framed given twice")]
    [InlineData(new[] { "--framed=yes" }, "bench: --framed takes no value")]
    [InlineData(new[] { "9000" }, "bench: unexpected argument '9000'")]
    [InlineData(new[] { "--" }, "bench: unexpected argument '--'")]
    public void Parse_Malformed_ThrowsNamingTheProblem(string[] args, string message)
    {
        var error = Assert.Throws<UsageException>(() => CommandLine.Parse("bench", args, s_values, s_flags));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("1.5")]
    [InlineData("")]
    public void GetInt32_OutOfRangeOrNotANumber_NamesTheOptionAndTheRange(string value)
    {
        CommandLine line = CommandLine.Parse("bench", ["--port", value], s_values, s_flags);

        var error = Assert.Throws<UsageException>(() => line.GetInt32("port", null, 1, 65535));

        Assert.Equal($"bench: --port must be a whole number from 1 to 65535 (got '{value}')", error.Message);
    }

    [Fact]
    public void GetInt32_RequiredAndAbsent_SaysSo()
    {
        CommandLine line = CommandLine.Parse("bench", [], s_values, s_flags);

        Assert.Equal("bench: --port is required", Assert.Throws<UsageException>(() => line.GetInt32("port", null, 1, 65535)).Message);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("x")]
    [InlineData("1e9")]
    public void GetSeconds_Invalid_NamesTheOption(string value)
    {
        CommandLine line = CommandLine.Parse("bench", ["--seconds", value], s_values, s_flags);

        Assert.StartsWith("bench: --seconds must be a number of seconds from 0.1 to 60", Assert.Throws<UsageException>(() => line.GetSeconds("seconds", 5, 0.1, 60)).Message);
    }

    [Fact]
    public void GetString_Empty_IsRejected()
    {
        CommandLine line = CommandLine.Parse("bench", ["--host="], s_values, s_flags);

        Assert.Equal("bench: --host needs a non-empty value", Assert.Throws<UsageException>(() => line.GetString("host", "x")).Message);
    }
}
