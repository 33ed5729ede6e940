using AsyncNet.Loop;
using AsyncNet.Selectors;
using AsyncNet.Testing.Syscalls;
using AsyncNet.Tests.Shared;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Testing.Tests.Syscalls;

/// <summary>
/// EINTR in the selector's wait, on each selector: an interrupted wait reports nothing ready, and the next one finds
/// every readiness still there (level-triggered) and every timer still due: no event and no timer is lost.
/// </summary>
public sealed class SelectorSyscallFaultTests
{
    public static TheoryData<SelectorKind> Selectors => OperatingSystem.IsLinux()
        ? [SelectorKind.Epoll, SelectorKind.Poll, SelectorKind.Portable]
        : [SelectorKind.Poll, SelectorKind.Portable];

    [Theory]
    [MemberData(nameof(Selectors))]
    public void InterruptedWaits_LoseNoReadinessAndNoTimer(SelectorKind kind)
    {
        using var test = new BoundedTestLoop(new EventLoopOptions { SelectorKind = kind });
        byte[] data = RawPeer.Pattern(100_000);
        test.Run(async () =>
        {
            Server server = await StreamFamily.Tcp4.CreateServerAsync(test.Loop, () => new EchoProtocol());
            (IStreamTransport client, RecordingProtocol protocol) = await StreamFamily.Tcp4.ConnectAsync(test.Loop, server, () => new RecordingProtocol());

            // Half of all waits interrupted, at random; a run of 30 in a row first, while the echo and a timer are due.
            using SyscallInjection injection = SyscallFaults.Inject(test.Loop, SyscallSchedule.Combine(
                SyscallSchedule.Calls(SyscallKind.SelectorWait, 1, 30, SyscallFault.Interrupted),
                SyscallSchedule.Random(7, SyscallKind.SelectorWait, 0.5, SyscallFault.Interrupted)));
            var timer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            test.Loop.CallLater(TimeSpan.FromMilliseconds(1), timer.SetResult);
            client.Write(data);
            await protocol.WaitForBytesAsync(data.Length);
            await timer.Task;
            Assert.Equal(data, protocol.Received);
            Assert.True(injection.FaultCount(SyscallKind.SelectorWait) >= 30, injection.ToString());

            // The wait's own timeout is kept across interruptions: a sleep still takes its time.
            TimeSpan start = test.Loop.Time;
            await test.Loop.SleepAsync(TimeSpan.FromMilliseconds(30));
            Assert.True(test.Loop.Time - start >= TimeSpan.FromMilliseconds(29), $"slept {(test.Loop.Time - start).TotalMilliseconds} ms");
            client.Close();
            Assert.Null(await protocol.Lost);
            await server.DisposeAsync();
        });
        Assert.Empty(test.HandlerReports);
    }
}
