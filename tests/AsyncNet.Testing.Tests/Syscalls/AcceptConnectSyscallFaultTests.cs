using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Testing.Syscalls;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;
using static AsyncNet.Testing.Tests.Support.SyscallTesting;

namespace AsyncNet.Testing.Tests.Syscalls;

/// <summary>
/// Faults in accept and connect: a server rides out EAGAIN and EINTR storms and pauses (reporting once) on EMFILE and
/// ENOBUFS, then serves; a connect started with EINTR or EAGAIN goes on, and one failed at its start or at its outcome
/// fails with the documented exception and leaves no socket open.
/// </summary>
public sealed class AcceptConnectSyscallFaultTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Theory]
    [InlineData(SocketError.WouldBlock)]
    [InlineData(SocketError.Interrupted)]
    public void AcceptStorm_TheConnectionIsAcceptedAfterIt_ThenTheLoopSleeps(SocketError error)
    {
        _test.Run(async () =>
        {
            Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () => new EchoProtocol());
            using SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.Calls(SyscallKind.Accept, 1, 100, SyscallFault.Fail(error)));
            await PingAsync(StreamFamily.Tcp4, server);
            Assert.Equal(100, injection.FaultCount(SyscallKind.Accept));
            Assert.Equal(1, server.AcceptedCount);
            Assert.False(server.IsAcceptPaused);
            await AssertLoopSleepsAsync(_test.Loop, injection);
            await server.DisposeAsync();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Theory]
    [InlineData(SocketError.TooManyOpenSockets, typeof(NetworkException))]
    [InlineData(SocketError.NoBufferSpaceAvailable, typeof(NetworkException))]
    [InlineData(SocketError.TimedOut, typeof(ConnectionTimedOutException))]
    [InlineData(SocketError.AccessDenied, typeof(NetworkException))]
    public void AcceptFailsWithAServerError_PausesAndReportsOnceClassified_ThenServes(SocketError error, Type expected)
    {
        _test.Run(async () =>
        {
            Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () => new EchoProtocol());
            using SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.Calls(SyscallKind.Accept, 1, 3, SyscallFault.Fail(error)));
            await PingAsync(StreamFamily.Tcp4, server);

            // Three failed accepts, each followed by a pause (50, 100, 200 ms), not by a spin on the readable listener.
            Assert.Equal(3, injection.FaultCount(SyscallKind.Accept));
            Assert.Equal(4, injection.CallCount(SyscallKind.Accept));
            Assert.Equal(1, server.AcceptedCount);
            await server.DisposeAsync();
        });

        // Once per episode, classified (an unexpected error used to escape as a raw SocketException, once per wake-up).
        LoopExceptionContext report = Assert.Single(_test.HandlerReports);
        Assert.IsType(expected, report.Exception);
        Assert.Equal(error, ((NetworkException)report.Exception!).SocketError);
        Assert.Contains("accepting pauses", report.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SocketError.ConnectionAborted)]
    [InlineData(SocketError.NetworkUnreachable)]
    [InlineData(SocketError.HostUnreachable)]
    [InlineData(SocketError.NetworkDown)]
    public void AcceptFailsWithThePendingConnectionsOwnError_IsSkippedSilently_AndServingGoesOn(SocketError error)
    {
        _test.Run(async () =>
        {
            Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () => new EchoProtocol());
            using SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.FailNth(SyscallKind.Accept, 1, error));
            await PingAsync(StreamFamily.Tcp4, server);
            Assert.Equal(2, injection.CallCount(SyscallKind.Accept));
            Assert.False(server.IsAcceptPaused);
            await server.DisposeAsync();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Theory]
    [MemberData(nameof(Families), MemberType = typeof(SyscallTesting))]
    public void ConnectStartedWithEintrOrEagain_GoesOn_ThroughSpuriousWritability(string family)
    {
        _test.Run(async () =>
        {
            Server server = await Family(family).CreateServerAsync(_test.Loop, () => new EchoProtocol());
            foreach (SyscallFault fault in new[] { SyscallFault.Interrupted, SyscallFault.WouldBlock })
            {
                using SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.Combine(
                    SyscallSchedule.FailNth(SyscallKind.Connect, 1, fault.Error),
                    SyscallSchedule.Calls(SyscallKind.ConnectResult, 1, 3, SyscallFault.WouldBlock)));
                await PingAsync(Family(family), server);
                Assert.Equal(4, injection.CallCount(SyscallKind.ConnectResult));
            }

            await server.DisposeAsync();
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Theory]
    [InlineData(SyscallKind.Connect, SocketError.ConnectionRefused, typeof(ConnectionRefusedException))]
    [InlineData(SyscallKind.Connect, SocketError.NoBufferSpaceAvailable, typeof(NetworkException))]
    [InlineData(SyscallKind.ConnectResult, SocketError.ConnectionRefused, typeof(ConnectionRefusedException))]
    [InlineData(SyscallKind.ConnectResult, SocketError.TimedOut, typeof(ConnectionTimedOutException))]
    [InlineData(SyscallKind.ConnectResult, SocketError.ConnectionReset, typeof(ConnectionResetException))]
    public void ConnectFailed_ThrowsItsException_NamingTheAddress_AndLeavesNoSocketOpen(SyscallKind kind, SocketError error, Type expected)
    {
        _test.Run(async () =>
        {
            Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () => new EchoProtocol());
            int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;

            // The outcome is checked only for a connect in progress: have the start say so.
            using SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.Combine(
                SyscallSchedule.FailNth(kind, 1, error),
                SyscallSchedule.FailNth(SyscallKind.Connect, 1, SocketError.WouldBlock)));
            Exception thrown = await Assert.ThrowsAnyAsync<Exception>(() => _test.Loop.CreateConnectionAsync(() => new RecordingProtocol(), "127.0.0.1", port));
            Assert.IsType(expected, thrown);
            Assert.Equal(error, ((NetworkException)thrown).SocketError);
            Assert.Contains($"127.0.0.1:{port}", thrown.Message, StringComparison.Ordinal);
            Assert.Equal(1, injection.FaultCount(kind));

            // The client's socket was closed (the injection saw it connect); the server's close everything else.
            await server.DisposeAsync();
            Assert.Empty(injection.OpenSockets());
        });
        Assert.Empty(_test.HandlerReports);
    }

    /// <summary>Connects a client to <paramref name="server"/> (an echo), sees "ping" come back, and closes it cleanly.</summary>
    private async Task PingAsync(StreamFamily family, Server server)
    {
        (IStreamTransport client, RecordingProtocol protocol) = await family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        client.Write("ping"u8);
        await protocol.WaitForBytesAsync(4);
        Assert.Equal("ping"u8.ToArray(), protocol.Received);
        client.Close();
        Assert.Null(await protocol.Lost);
    }
}
