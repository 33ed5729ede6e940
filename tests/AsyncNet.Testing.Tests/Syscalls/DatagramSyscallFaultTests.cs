using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Testing.Syscalls;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Testing.Tests.Syscalls;

/// <summary>
/// Faults under a datagram transport: EAGAIN and EINTR delay datagrams without losing or reordering them, a byte limit
/// never cuts one, and an error on one send or receive reaches <c>ErrorReceived</c> while the others still go through.
/// </summary>
public sealed class DatagramSyscallFaultTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TransientFaultsOnBothEnds_EveryDatagramArrivesWhole_InOrder(bool connected)
    {
        _test.Run(async () =>
        {
            var (receiver, received, sender, _, to) = await PairAsync(connected);
            using SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.Combine(
                SyscallSchedule.Calls(SyscallKind.Send, 1, 3, SyscallFault.WouldBlock),
                SyscallSchedule.Calls(SyscallKind.Send | SyscallKind.Receive, 1, 10, SyscallFault.Interrupted),
                SyscallSchedule.WouldBlockBeforeEach(SyscallKind.Receive, 2),
                SyscallSchedule.PartialTransfers(1)));
            for (int i = 0; i < 8; i++)
            {
                sender.SendTo(RawPeer.Pattern(100 + i, seed: i), to);
            }

            for (int i = 0; i < 8; i++)
            {
                Assert.Equal(RawPeer.Pattern(100 + i, seed: i), (await received.NextDatagramAsync()).Data);
            }

            Assert.True(injection.FaultCount(SyscallKind.Send) >= 10, injection.ToString());
            Assert.DoesNotContain("error", received.Events);
            sender.Close();
            receiver.Close();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SendFailsWithNoBufferSpace_ErrorReceivedHasIt_OnlyThatDatagramIsLost(bool connected)
    {
        _test.Run(async () =>
        {
            var (receiver, received, sender, sent, to) = await PairAsync(connected);
            using SyscallInjection injection = SyscallFaults.Inject((Socket)sender.GetExtraInfo("socket")!, SyscallSchedule.FailNth(SyscallKind.Send, 2, SocketError.NoBufferSpaceAvailable));
            for (int i = 0; i < 3; i++)
            {
                sender.SendTo(new[] { (byte)i }, to);
            }

            Assert.Equal(SocketError.NoBufferSpaceAvailable, Assert.IsAssignableFrom<NetworkException>(await sent.NextErrorAsync()).SocketError);
            Assert.Equal([0], (await received.NextDatagramAsync()).Data);
            Assert.Equal([2], (await received.NextDatagramAsync()).Data);
            Assert.False(sender.IsClosing);
            sender.Close();
            receiver.Close();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Fact]
    public void ReceiveFailsWithConnectionRefused_ErrorReceivedHasIt_TheDatagramWaitingStillArrives()
    {
        _test.Run(async () =>
        {
            var (receiver, received, sender, _, to) = await PairAsync(connected: false);
            using SyscallInjection injection = SyscallFaults.Inject((Socket)receiver.GetExtraInfo("socket")!, SyscallSchedule.FailNth(SyscallKind.Receive, 1, SocketError.ConnectionRefused));
            sender.SendTo("one"u8, to);
            Assert.IsType<ConnectionRefusedException>(await received.NextErrorAsync());

            // The failed call took nothing from the kernel: the datagram is read on the next readiness.
            Assert.Equal("one"u8.ToArray(), (await received.NextDatagramAsync()).Data);
            Assert.Equal(["made", "error", "datagram"], received.Events);
            sender.Close();
            receiver.Close();
        });
        Assert.Empty(_test.HandlerReports);
    }

    /// <summary>A receiving endpoint on 127.0.0.1 and a sender, connected to it or not (then it names the receiver in each send).</summary>
    private async Task<(IDatagramTransport Receiver, RecordingDatagramProtocol Received, IDatagramTransport Sender, RecordingDatagramProtocol Sent, EndPoint? To)> PairAsync(bool connected)
    {
        var received = new RecordingDatagramProtocol();
        var (receiver, _) = await _test.Loop.CreateDatagramEndpointAsync(() => received, new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint address = (EndPoint)receiver.GetExtraInfo("sockname")!;
        var sent = new RecordingDatagramProtocol();
        var (sender, _) = connected
            ? await _test.Loop.CreateDatagramEndpointAsync(() => sent, remoteEndPoint: address)
            : await _test.Loop.CreateDatagramEndpointAsync(() => sent, new IPEndPoint(IPAddress.Loopback, 0));
        return (receiver, received, sender, sent, connected ? null : address);
    }
}
