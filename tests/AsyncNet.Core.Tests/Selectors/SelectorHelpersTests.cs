using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

public sealed class SelectorHelpersTests
{
    public static TheoryData<TimeSpan?, int> Timeouts => new()
    {
        { null, -1 },
        { TimeSpan.Zero, 0 },
        { TimeSpan.FromMilliseconds(-3), 0 },
        { TimeSpan.MinValue, 0 },
        { TimeSpan.FromTicks(1), 1 },
        { TimeSpan.FromMilliseconds(1), 1 },
        { TimeSpan.FromMilliseconds(1) + TimeSpan.FromTicks(1), 2 },
        { TimeSpan.FromMilliseconds(49.5), 50 },
        { TimeSpan.FromMilliseconds(int.MaxValue), int.MaxValue },
        { TimeSpan.FromMilliseconds(int.MaxValue) + TimeSpan.FromTicks(1), int.MaxValue },
        { TimeSpan.MaxValue, int.MaxValue },
    };

    [Theory]
    [MemberData(nameof(Timeouts))]
    public void ToTimeoutMilliseconds_RoundsUpAndCaps(TimeSpan? timeout, int expected)
    {
        Assert.Equal(expected, SelectorHelpers.ToTimeoutMilliseconds(timeout));
    }

    [Theory]
    // interest, readable, writable, error, hangUp => reported
    [InlineData(SelectorEvents.Read, false, true, false, false, SelectorEvents.None)]
    [InlineData(SelectorEvents.Read, true, true, false, false, SelectorEvents.Read)]
    [InlineData(SelectorEvents.Write, true, true, false, false, SelectorEvents.Write)]
    [InlineData(SelectorEvents.Read | SelectorEvents.Write, true, true, false, false, SelectorEvents.Read | SelectorEvents.Write)]
    [InlineData(SelectorEvents.Read, false, false, true, false, SelectorEvents.Read | SelectorEvents.Error)]
    [InlineData(SelectorEvents.Write, false, false, false, true, SelectorEvents.Write | SelectorEvents.HangUp)]
    [InlineData(SelectorEvents.Read | SelectorEvents.Write, false, false, true, true, SelectorEvents.Read | SelectorEvents.Write | SelectorEvents.Error | SelectorEvents.HangUp)]
    public void ToReady_ReportsErrorAndHangUpBesideTheInterest(
        SelectorEvents interest, bool readable, bool writable, bool error, bool hangUp, SelectorEvents expected)
    {
        Assert.Equal(expected, SelectorHelpers.ToReady(interest, readable, writable, error, hangUp));
    }
}
