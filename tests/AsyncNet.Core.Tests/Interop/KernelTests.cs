using AsyncNet.Interop;

namespace AsyncNet.Tests.Interop;

/// <summary>The syscall seam in a process that does not turn faults on, as every production process is.</summary>
public sealed class KernelTests
{
    [Fact]
    public void FaultsEnabled_IsFalseWhereTheSwitchIsNotSet()
    {
        // This project sets no RuntimeHostConfigurationOption: the seam folds to the plain calls here.
        Assert.False(AppContext.TryGetSwitch(Kernel.FaultsSwitch, out bool on) && on);
        Assert.False(Kernel.FaultsEnabled);
        Assert.Null(Kernel.Faults);
    }

    [Fact]
    public void Faults_SetWhileTheSwitchIsOff_ThrowsInvalidOperationNamingTheSwitch()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Kernel.Faults = null);
        Assert.Contains("AsyncNet.Testing.SyscallFaults", error.Message, StringComparison.Ordinal);
        Assert.Contains("RuntimeHostConfigurationOption", error.Message, StringComparison.Ordinal);
    }
}
