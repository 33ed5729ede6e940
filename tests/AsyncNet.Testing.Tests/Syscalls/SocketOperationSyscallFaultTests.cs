using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Testing.Syscalls;
using AsyncNet.Tests.Support;

namespace AsyncNet.Testing.Tests.Syscalls;

/// <summary>
/// Faults under the loop's socket operations (asyncio's <c>sock_*</c>): EAGAIN, EINTR and partial transfers are retried
/// until the operation completes; an error fails the operation's task with its classified exception.
/// </summary>
public sealed class SocketOperationSyscallFaultTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void TransientFaults_AcceptConnectSendAllAndReceive_AllComplete()
    {
        byte[] data = RawPeer.Pattern(10_000);
        _test.Run(async () =>
        {
            using SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.Combine(
                SyscallSchedule.Calls(SyscallKind.Accept | SyscallKind.Connect, 1, 1, SyscallFault.Interrupted),
                SyscallSchedule.Calls(SyscallKind.Accept | SyscallKind.ConnectResult, 1, 5, SyscallFault.WouldBlock),
                SyscallSchedule.WouldBlockBeforeEach(SyscallKind.Send | SyscallKind.Receive, 2),
                SyscallSchedule.PartialTransfers(7)));
            (Socket client, Socket accepted) = await ConnectedPairAsync();
            using (client)
            using (accepted)
            {
                ValueTask sending = _test.Loop.SockSendAllAsync(client, data);
                var received = new MemoryStream();
                while (received.Length < data.Length)
                {
                    received.Write(await _test.Loop.SockRecvAsync(accepted, 4096));
                }

                await sending;
                Assert.Equal(data, received.ToArray());
            }

            Assert.True(injection.FaultCount(SyscallKind.Accept) >= 5, injection.ToString());
            Assert.True(injection.FaultCount(SyscallKind.Receive) > data.Length / 7, injection.ToString());
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Fact]
    public void ReceiveReset_FailsTheTaskWithConnectionResetException()
    {
        _test.Run(async () =>
        {
            (Socket client, Socket accepted) = await ConnectedPairAsync();
            using (client)
            using (accepted)
            using (SyscallInjection injection = SyscallFaults.Inject(accepted, SyscallSchedule.FailNth(SyscallKind.Receive, 2, SocketError.ConnectionReset)))
            {
                // The first receive would block (nothing sent yet) for real; the second, on readiness, is reset.
                ValueTask<byte[]> receiving = _test.Loop.SockRecvAsync(accepted, 100);
                await _test.Loop.SockSendAllAsync(client, "x"u8.ToArray());
                await Assert.ThrowsAsync<ConnectionResetException>(async () => await receiving);
                Assert.Equal(2, injection.CallCount(SyscallKind.Receive));
            }
        });
        Assert.Empty(_test.HandlerReports);
    }

    /// <summary>A non-blocking client connected with <c>SockConnectAsync</c> to a connection taken with <c>SockAcceptAsync</c>.</summary>
    private async Task<(Socket Client, Socket Accepted)> ConnectedPairAsync()
    {
        using Socket listener = NonBlocking(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        Socket client = NonBlocking(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        ValueTask<(Socket Socket, EndPoint RemoteEndPoint)> accepting = _test.Loop.SockAcceptAsync(listener);
        await _test.Loop.SockConnectAsync(client, listener.LocalEndPoint!);
        return (client, (await accepting).Socket);
    }

    private static Socket NonBlocking(Socket socket)
    {
        socket.Blocking = false;
        return socket;
    }
}
