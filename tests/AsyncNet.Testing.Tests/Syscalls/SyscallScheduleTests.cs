using System.Net.Sockets;
using AsyncNet.Testing.Syscalls;

namespace AsyncNet.Testing.Tests.Syscalls;

/// <summary>The schedules and faults on their own: which call gets which fault, without any socket.</summary>
public sealed class SyscallScheduleTests
{
    [Fact]
    public void Calls_FaultsExactlyTheNumberedCallsOfItsKinds()
    {
        SyscallSchedule schedule = SyscallSchedule.Calls(SyscallKind.Send | SyscallKind.Accept, 3, 2, SyscallFault.WouldBlock);

        Assert.Equal([false, false, true, true, false], Enumerable.Range(1, 5).Select(n => !schedule.Decide(Call(SyscallKind.Send, n)).IsNone));
        Assert.Equal(SyscallFault.WouldBlock, schedule.Decide(Call(SyscallKind.Accept, 4)));
        Assert.True(schedule.Decide(Call(SyscallKind.Receive, 3)).IsNone);
        Assert.Equal("Send, Accept #3..#4: EAGAIN", schedule.ToString());
    }

    [Fact]
    public void Calls_WithMaxCount_FaultsEveryCallFromTheFirstOn()
    {
        SyscallSchedule schedule = SyscallSchedule.Calls(SyscallKind.Receive, 2, int.MaxValue, SyscallFault.AtMost(1));

        Assert.True(schedule.Decide(Call(SyscallKind.Receive, 1)).IsNone);
        Assert.Equal(1, schedule.Decide(Call(SyscallKind.Receive, int.MaxValue)).MaxBytes);
    }

    [Fact]
    public void FailNth_FailsOnlyThatCall_WithTheError()
    {
        SyscallSchedule schedule = SyscallSchedule.FailNth(SyscallKind.Send, 2, SocketError.Shutdown);

        Assert.True(schedule.Decide(Call(SyscallKind.Send, 1)).IsNone);
        Assert.Equal(SyscallFault.BrokenPipe, schedule.Decide(Call(SyscallKind.Send, 2)));
        Assert.True(schedule.Decide(Call(SyscallKind.Send, 3)).IsNone);
    }

    [Fact]
    public void WouldBlockBeforeEach_BlocksKTimesThenLetsOneCallThrough_Repeatedly()
    {
        SyscallSchedule schedule = SyscallSchedule.WouldBlockBeforeEach(SyscallKind.Receive, 2);

        bool[] blocked = Enumerable.Range(1, 7).Select(n => schedule.Decide(Call(SyscallKind.Receive, n)) == SyscallFault.WouldBlock).ToArray();
        Assert.Equal([true, true, false, true, true, false, true], blocked);
    }

    [Fact]
    public void PartialTransfers_LimitsSendsAndReceivesByDefault_AndNothingElse()
    {
        SyscallSchedule schedule = SyscallSchedule.PartialTransfers(1);

        Assert.Equal(SyscallFault.AtMost(1), schedule.Decide(Call(SyscallKind.Send, 9)));
        Assert.Equal(SyscallFault.AtMost(1), schedule.Decide(Call(SyscallKind.Receive, 1)));
        Assert.True(schedule.Decide(Call(SyscallKind.Accept, 1)).IsNone);
    }

    [Fact]
    public void Random_SameSeed_SameChoices_AndOnlyFaultsThatApplyToTheKind()
    {
        SyscallFault[] faults = [SyscallFault.AtMost(1), SyscallFault.Interrupted, SyscallFault.ConnectionReset];
        SyscallFault[] first = Draw(SyscallSchedule.Random(42, SyscallKind.All, 0.5, faults), SyscallKind.SelectorWait);
        SyscallFault[] second = Draw(SyscallSchedule.Random(42, SyscallKind.All, 0.5, faults), SyscallKind.SelectorWait);

        Assert.Equal(first, second);

        // Only EINTR applies to the selector's wait; at p = 0.5 over 200 calls both outcomes occur.
        Assert.All(first, f => Assert.True(f.IsNone || f == SyscallFault.Interrupted, f.ToString()));
        Assert.Contains(SyscallFault.Interrupted, first);
        Assert.Contains(SyscallFault.None, first);

        SyscallFault[] sends = Draw(SyscallSchedule.Random(7, SyscallKind.Send, 1.0, faults), SyscallKind.Send);
        Assert.Equal(faults.ToHashSet(), sends.ToHashSet());
        Assert.All(Draw(SyscallSchedule.Random(7, SyscallKind.Send, 1.0, faults), SyscallKind.Receive), f => Assert.True(f.IsNone));

        static SyscallFault[] Draw(SyscallSchedule schedule, SyscallKind kind) =>
            Enumerable.Range(1, 200).Select(n => schedule.Decide(Call(kind, n))).ToArray();
    }

    [Fact]
    public void Combine_FirstScheduleNamingAnApplicableFaultWins()
    {
        SyscallSchedule schedule = SyscallSchedule.Combine(
            SyscallSchedule.Calls(SyscallKind.All, 1, 1, SyscallFault.AtMost(1)),
            SyscallSchedule.FailNth(SyscallKind.All, 1, SocketError.Interrupted),
            SyscallSchedule.PartialTransfers(5));

        // A byte limit does not apply to an accept, so the next schedule decides.
        Assert.Equal(SyscallFault.Interrupted, schedule.Decide(Call(SyscallKind.Accept, 1)));
        Assert.Equal(SyscallFault.AtMost(1), schedule.Decide(Call(SyscallKind.Send, 1)));
        Assert.Equal(SyscallFault.AtMost(5), schedule.Decide(Call(SyscallKind.Send, 2)));
        Assert.True(SyscallSchedule.Combine().Decide(Call(SyscallKind.Send, 1)).IsNone);
    }

    [Fact]
    public void Fault_AppliesTo_ByteLimitsOnlyToTransfers_AndOnlyEintrToTheSelectorWait()
    {
        Assert.True(SyscallFault.AtMost(3).AppliesTo(SyscallKind.Receive));
        Assert.False(SyscallFault.AtMost(3).AppliesTo(SyscallKind.Connect));
        Assert.True(SyscallFault.Interrupted.AppliesTo(SyscallKind.SelectorWait));
        Assert.False(SyscallFault.WouldBlock.AppliesTo(SyscallKind.SelectorWait));
        Assert.True(SyscallFault.TooManyOpenFiles.AppliesTo(SyscallKind.Accept));
        Assert.True(SyscallFault.None.AppliesTo(SyscallKind.SelectorWait));
    }

    [Fact]
    public void Fault_NamesAndTransience_FollowErrno()
    {
        Assert.Equal(
            ["none", "at most 1 byte", "at most 7 bytes", "EINTR", "EAGAIN", "ECONNRESET", "EPIPE", "ENOBUFS", "EMFILE"],
            new[]
            {
                SyscallFault.None, SyscallFault.AtMost(1), SyscallFault.AtMost(7), SyscallFault.Interrupted, SyscallFault.WouldBlock,
                SyscallFault.ConnectionReset, SyscallFault.BrokenPipe, SyscallFault.NoBufferSpace, SyscallFault.TooManyOpenFiles,
            }.Select(f => f.ToString()));
        Assert.Equal(SyscallFault.None, default);
        Assert.True(SyscallFault.AtMost(1).IsTransient && SyscallFault.Interrupted.IsTransient && SyscallFault.WouldBlock.IsTransient);
        Assert.False(SyscallFault.ConnectionReset.IsTransient || SyscallFault.NoBufferSpace.IsTransient);
        Assert.Equal(int.MaxValue, SyscallFault.None.MaxBytes);
    }

    [Fact]
    public void Arguments_OutOfRange_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SyscallFault.Fail(SocketError.Success));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyscallFault.AtMost(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyscallSchedule.Calls(SyscallKind.Send, 0, 1, SyscallFault.WouldBlock));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyscallSchedule.WouldBlockBeforeEach(SyscallKind.Send, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyscallSchedule.Random(1, SyscallKind.Send, 1.5, SyscallFault.WouldBlock));
        Assert.Throws<ArgumentException>(() => SyscallSchedule.Random(1, SyscallKind.Send, 0.5));
        Assert.Throws<ArgumentNullException>(() => SyscallSchedule.Combine(SyscallSchedule.None, null!));
    }

    private static SyscallCall Call(SyscallKind kind, int number) => new(kind, number, null, 0, false, false);
}
