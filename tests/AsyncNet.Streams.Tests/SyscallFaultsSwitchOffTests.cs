using AsyncNet.Loop;
using AsyncNet.Testing.Syscalls;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// AsyncNet.Testing's syscall faults in a process without their switch. Here because this test project references
/// AsyncNet.Testing and, like production, leaves the switch off (AsyncNet.Testing.Tests turns it on).
/// </summary>
public sealed class SyscallFaultsSwitchOffTests
{
    [Fact]
    public void Inject_WithoutTheSwitch_ThrowsInvalidOperationSayingHowToTurnItOn()
    {
        Assert.False(SyscallFaults.IsEnabled);
        using var loop = new EventLoop();
        foreach (Action inject in new Action[]
        {
            () => SyscallFaults.Inject(SyscallSchedule.None),
            () => SyscallFaults.Inject(loop, SyscallSchedule.PartialTransfers(1)),
        })
        {
            var error = Assert.Throws<InvalidOperationException>(inject);
            Assert.Contains($"\"{SyscallFaults.SwitchName}\"", error.Message, StringComparison.Ordinal);
            Assert.Contains("runtimeconfig", error.Message, StringComparison.Ordinal);
        }
    }
}
