using AsyncNet.Cli.Fuzz;
using AsyncNet.Properties;

namespace AsyncNet.Cli.Tests.Fuzz;

public sealed class ReplayFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"asyncnet-replay-test-{Guid.NewGuid():N}.replay");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void SaveThenLoad_GivesTheSameWritesAndPauses_WithCommentsFirst()
    {
        EchoFuzzWrite[] writes = [new([0, 0, 0, 1], 2), new([0x7F], 0), new("x\n"u8.ToArray(), 3)];

        ReplayFile.Save(_path, writes, ["why it failed", "two\nlines"]);

        Assert.Equal(["# why it failed", "# two lines", "write 00000001", "pause 2", "write 7f", "write 780a", "pause 3"], File.ReadAllLines(_path));
        Assert.Equal(writes, ReplayFile.Load(_path));
    }

    [Theory]
    [InlineData(new[] { "pause 2" }, "line 1: expected 'write HEX' (at least one byte), 'pause MS' after a write")]
    [InlineData(new[] { "write 0g" }, "line 1: expected 'write HEX'")]
    [InlineData(new[] { "write" }, "line 1: expected 'write HEX'")]
    [InlineData(new[] { "# nothing", "" }, "has no 'write HEX' line: nothing to replay.")]
    [InlineData(new[] { "write 0a", "pause -1" }, "line 2: expected 'write HEX'")]
    public void Load_RejectsWhatIsNotAReplay_NamingTheLine(string[] lines, string message)
    {
        File.WriteAllLines(_path, lines);

        var e = Assert.Throws<FormatException>(() => ReplayFile.Load(_path));

        Assert.Contains(message, e.Message);
    }
}
