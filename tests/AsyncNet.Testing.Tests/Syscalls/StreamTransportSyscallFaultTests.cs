using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Testing.Syscalls;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;
using static AsyncNet.Testing.Tests.Support.SyscallTesting;

namespace AsyncNet.Testing.Tests.Syscalls;

/// <summary>
/// Each fault kind under a stream transport (a protocol's view), over TCP on 127.0.0.1 and ::1 and Unix sockets:
/// transient faults (EAGAIN storms, EINTR, partial transfers) change nothing but timing, and the loop sleeps again once
/// they stop; ECONNRESET, EPIPE and ENOBUFS at any send end the connection with their documented exception after the
/// bytes sent before them.
/// </summary>
public sealed class StreamTransportSyscallFaultTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    private static Socket SocketOf(IStreamTransport transport) => (Socket)transport.GetExtraInfo("socket")!;

    public static TheoryData<string, string> FamiliesAndTerminalErrors => new()
    {
        { "tcp4", "reset" }, { "tcp4", "pipe" }, { "tcp6", "reset" }, { "unix", "pipe" }, { "unix", "reset" },
    };

    [Theory]
    [MemberData(nameof(Families), MemberType = typeof(SyscallTesting))]
    public void EverySendAndReceiveOneByte_EchoArrivesWhole_InOrder(string family)
    {
        byte[] data = RawPeer.Pattern(3000);
        _test.Run(async () =>
        {
            (Server server, IStreamTransport client, RecordingProtocol protocol) = await ConnectAsync(Family(family), () => new EchoProtocol());
            using (SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.PartialTransfers(1)))
            {
                client.Write(data.AsSpan(0, 1000));
                client.Write(data.AsSpan(1000));
                await protocol.WaitForBytesAsync(data.Length);

                // Both ends on this loop, one byte a call: each byte is sent and received twice, once each way.
                Assert.True(injection.FaultCount(SyscallKind.Receive) >= 2 * data.Length, injection.ToString());
                Assert.True(injection.FaultCount(SyscallKind.Send) >= 2 * data.Length, injection.ToString());
                await AssertLoopSleepsAsync(_test.Loop, injection);
            }

            Assert.Equal(data, protocol.Received);
            client.Close();
            Assert.Null(await protocol.Lost);
            await server.DisposeAsync();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Fact]
    public void GatheredSend_CutAnywhere_DeliversEverySegmentInOrder()
    {
        byte[] data = RawPeer.Pattern(60_000);
        int gathered = 0;
        _test.Run(async () =>
        {
            var peer = new RecordingProtocol();
            (Server server, IStreamTransport client, RecordingProtocol protocol) = await ConnectAsync(StreamFamily.Tcp4, () => peer);

            // An odd limit, so that the cuts fall inside the first segment, across into the next, and at every offset.
            using SyscallInjection injection = SyscallFaults.Inject(SocketOf(client), SyscallSchedule.Create(call =>
            {
                gathered += call.IsGathered ? 1 : 0;
                return SyscallFault.AtMost(7001);
            }));

            // Writes inside one callback are queued (in 16 KiB-or-larger segments) and leave in gathered sends.
            client.WriteLines(Enumerable.Range(0, 3).Select(i => new ReadOnlyMemory<byte>(data, i * 20_000, 20_000)));
            await peer.WaitForBytesAsync(data.Length);
            Assert.Equal(data, peer.Received);
            Assert.True(gathered >= 2, $"{gathered} gathered sends ({injection})");
            client.Close();
            Assert.Null(await protocol.Lost);
            await server.DisposeAsync();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Theory]
    [InlineData(SyscallKind.Send)]
    [InlineData(SyscallKind.Receive)]
    [InlineData(SyscallKind.Send | SyscallKind.Receive)]
    public void WouldBlockStorm_EchoArrivesWhole_WithOneWaitPerWouldBlock_ThenTheLoopSleeps(SyscallKind kinds)
    {
        byte[] data = RawPeer.Pattern(50_000);
        const int Storm = 40;
        _test.Run(async () =>
        {
            (Server server, IStreamTransport client, RecordingProtocol protocol) = await ConnectAsync(StreamFamily.Tcp4, () => new EchoProtocol());
            using (SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.WouldBlockBeforeEach(kinds, Storm)))
            {
                client.Write(data);
                await protocol.WaitForBytesAsync(data.Length);
                int wouldBlocks = injection.FaultCount(kinds);
                Assert.True(wouldBlocks >= Storm * 2, injection.ToString());

                // A would-block on a ready socket costs the next iteration (level-triggered), and no more than that.
                Assert.True(injection.CallCount(SyscallKind.SelectorWait) <= wouldBlocks + 50, injection.ToString());
                await AssertLoopSleepsAsync(_test.Loop, injection);
            }

            Assert.Equal(data, protocol.Received);
            client.Close();
            Assert.Null(await protocol.Lost);
            await server.DisposeAsync();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Theory]
    [InlineData(SyscallKind.Send)]
    [InlineData(SyscallKind.Receive)]
    public void Eintr_IsRetried_TheConnectionCarriesOn(SyscallKind kinds)
    {
        byte[] data = RawPeer.Pattern(20_000);
        _test.Run(async () =>
        {
            (Server server, IStreamTransport client, RecordingProtocol protocol) = await ConnectAsync(StreamFamily.Tcp4, () => new EchoProtocol());
            using (SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.Calls(kinds, 1, 6, SyscallFault.Interrupted)))
            {
                client.Write(data.AsSpan(0, 7000));
                client.Write(data.AsSpan(7000));
                await protocol.WaitForBytesAsync(data.Length);
                Assert.Equal(6, injection.FaultCount(kinds));
            }

            Assert.Equal(data, protocol.Received);
            client.Close();
            Assert.Null(await protocol.Lost);
            await server.DisposeAsync();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Theory]
    [MemberData(nameof(FamiliesAndTerminalErrors))]
    public void ErrorOnTheNthSend_LosesTheConnectionWithItsException_AfterExactlyTheBytesSentBefore(string family, string error)
    {
        (SocketError socketError, Type expected) = error == "reset"
            ? (SocketError.ConnectionReset, typeof(ConnectionResetException))
            : (SocketError.Shutdown, typeof(BrokenPipeException));
        byte[] data = RawPeer.Pattern(5000);
        foreach (int n in new[] { 1, 2, 7 })
        {
            _test.Run(async () =>
            {
                var peer = new RecordingProtocol();
                (Server server, IStreamTransport client, RecordingProtocol protocol) = await ConnectAsync(Family(family), () => peer);
                using SyscallInjection injection = SyscallFaults.Inject(SocketOf(client), SyscallSchedule.Combine(
                    SyscallSchedule.FailNth(SyscallKind.Send, n, socketError),
                    SyscallSchedule.PartialTransfers(100, SyscallKind.Send)));

                client.Write(data);
                Exception? lost = await protocol.Lost;
                Assert.IsType(expected, lost);
                Assert.Equal(socketError, ((NetworkException)lost!).SocketError);
                Assert.Contains("write", lost.Message, StringComparison.Ordinal);

                // The kernel took 100 bytes per send before the failing one; the peer gets those and then EOF.
                Assert.Null(await peer.Lost);
                Assert.Equal(data.AsSpan(0, (n - 1) * 100).ToArray(), peer.Received);
                Assert.Empty(injection.OpenSockets());
                await server.DisposeAsync();
            });
        }

        // Resets and broken pipes are how connections end: the loop's handler hears nothing of them.
        Assert.Empty(_test.HandlerReports);
    }

    [Fact]
    public void ResetOnReceive_LosesTheConnectionWithConnectionResetException()
    {
        _test.Run(async () =>
        {
            (Server server, IStreamTransport client, RecordingProtocol protocol) = await ConnectAsync(StreamFamily.Tcp4, () => new EchoProtocol());
            using SyscallInjection injection = SyscallFaults.Inject(SocketOf(client), SyscallSchedule.FailNth(SyscallKind.Receive, 2, SocketError.ConnectionReset));

            client.Write(RawPeer.Pattern(10));
            await protocol.WaitForBytesAsync(10);
            client.Write(RawPeer.Pattern(10));
            var lost = Assert.IsType<ConnectionResetException>(await protocol.Lost);
            Assert.Contains("read", lost.Message, StringComparison.Ordinal);
            Assert.Equal(["made", "data", "lost"], protocol.Events);
            await server.DisposeAsync();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Fact]
    public void NoBufferSpaceOnSend_LosesTheConnectionWithANetworkExceptionCarryingIt_AndTheHandlerHearsOnce()
    {
        _test.Run(async () =>
        {
            (Server server, IStreamTransport client, RecordingProtocol protocol) = await ConnectAsync(StreamFamily.Tcp4, () => new RecordingProtocol());
            using SyscallInjection injection = SyscallFaults.Inject(SocketOf(client), SyscallSchedule.FailNth(SyscallKind.Send, 1, SocketError.NoBufferSpaceAvailable));

            client.Write(RawPeer.Pattern(10));
            Exception? lost = await protocol.Lost;
            Assert.Equal(SocketError.NoBufferSpaceAvailable, Assert.IsType<NetworkException>(lost).SocketError);
            await server.DisposeAsync();
        });
        LoopExceptionContext report = Assert.Single(_test.HandlerReports);
        Assert.Equal(SocketError.NoBufferSpaceAvailable, Assert.IsType<NetworkException>(report.Exception).SocketError);
    }

    /// <summary>A server of <paramref name="serverSide"/> protocols and a recording client connected to it, on this loop.</summary>
    private async Task<(Server Server, IStreamTransport Client, RecordingProtocol Protocol)> ConnectAsync(StreamFamily family, Func<RecordingProtocol> serverSide)
    {
        Server server = await family.CreateServerAsync(_test.Loop, serverSide);
        (IStreamTransport client, RecordingProtocol protocol) = await family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        return (server, client, protocol);
    }
}
