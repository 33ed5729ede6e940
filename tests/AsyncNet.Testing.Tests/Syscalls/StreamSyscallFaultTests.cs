using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Streams;
using AsyncNet.Testing.Syscalls;
using AsyncNet.Tests.Support;
using static AsyncNet.Testing.Tests.Support.ProxyTestLoop;
using static AsyncNet.Testing.Tests.Support.SyscallTesting;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Testing.Tests.Syscalls;

/// <summary>
/// Faults under <see cref="StreamReader"/> and <see cref="StreamWriter"/>: partial transfers and EAGAIN are invisible to
/// reads and drains; ECONNRESET and EPIPE reach the reads (after no more than the bytes received before them), drains and
/// <c>WaitClosedAsync</c> as their documented exception.
/// </summary>
public sealed class StreamSyscallFaultTests : IDisposable
{
    private readonly ProxyTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void OneByteTransfersAndWouldBlocks_ReadsAndDrainsSeeEveryByteInOrder()
    {
        byte[] data = RawPeer.Pattern(4000);
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint endPoint) = await _test.StartUpstreamAsync(EchoAsync);
            await using (server)
            {
                var (reader, writer) = await _test.Loop.OpenConnectionAsync("127.0.0.1", ((IPEndPoint)endPoint).Port);
                using SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.Combine(
                    SyscallSchedule.WouldBlockBeforeEach(SyscallKind.Send | SyscallKind.Receive, 3),
                    SyscallSchedule.PartialTransfers(1)));
                Task<byte[]> echoed = ReadToEndAsync(reader);
                for (int offset = 0; offset < data.Length; offset += 1000)
                {
                    writer.Write(data.AsSpan(offset, 1000));
                    await writer.DrainAsync();
                }

                writer.WriteEof();
                Assert.Equal(data, await echoed);
                writer.Close();
                await writer.WaitClosedAsync();
                Assert.True(injection.FaultCount(SyscallKind.Receive) > data.Length, injection.ToString());
            }
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Theory]
    [InlineData(SocketError.ConnectionReset, typeof(ConnectionResetException))]
    [InlineData(SocketError.Shutdown, typeof(BrokenPipeException))]
    public void ErrorMidWrite_DrainReadAndWaitClosedThrowItsException(SocketError error, Type expected)
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint endPoint) = await _test.StartUpstreamAsync(EchoUntilEndAsync);
            await using (server)
            {
                var (reader, writer) = await _test.Loop.OpenConnectionAsync("127.0.0.1", ((IPEndPoint)endPoint).Port);
                using SyscallInjection injection = SyscallFaults.Inject((Socket)writer.GetExtraInfo("socket")!, SyscallSchedule.Combine(
                    SyscallSchedule.FailNth(SyscallKind.Send, 4, error),
                    SyscallSchedule.PartialTransfers(500, SyscallKind.Send)));

                // 200 KB: past the high mark, so the drain waits while the sends (500 bytes each) fail on the fourth.
                writer.Write(RawPeer.Pattern(200_000));
                Exception drained = await Assert.ThrowsAnyAsync<Exception>(async () => await writer.DrainAsync());
                Assert.IsType(expected, drained);
                (byte[] echoed, Exception readError) = await ReadUntilFailureAsync(reader);
                Assert.IsType(expected, readError);
                Assert.Equal(RawPeer.Pattern(200_000).AsSpan(0, echoed.Length).ToArray(), echoed);
                Assert.IsType(expected, await Assert.ThrowsAnyAsync<Exception>(() => writer.WaitClosedAsync()));

                // The writer's bytes after the fault are dropped with the connection; another drain says so again.
                Assert.IsType(expected, await Assert.ThrowsAnyAsync<Exception>(async () => await writer.DrainAsync()));
                Assert.Equal(4, injection.CallCount(SyscallKind.Send));

                // The socket closes right after ConnectionLost returns, which may be after a continuation ran inside it.
                await _test.YieldAsync();
                Assert.Empty(injection.OpenSockets());
            }
        });
        Assert.Empty(_test.HandlerReports);
    }

    [Fact]
    public void ResetOnReceive_ReadsEndInConnectionResetException_AfterNoMoreThanTheBytesBeforeIt()
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint endPoint) = await _test.StartUpstreamAsync(EchoUntilEndAsync);
            await using (server)
            {
                var (reader, writer) = await _test.Loop.OpenConnectionAsync("127.0.0.1", ((IPEndPoint)endPoint).Port);
                using SyscallInjection injection = SyscallFaults.Inject((Socket)writer.GetExtraInfo("socket")!, SyscallSchedule.Combine(
                    SyscallSchedule.FailNth(SyscallKind.Receive, 3, SocketError.ConnectionReset),
                    SyscallSchedule.PartialTransfers(2, SyscallKind.Receive)));
                writer.Write("hello"u8);
                await writer.DrainAsync();

                // Two receives of 2 bytes ("he", "ll") arrive, then the reset: the reads return at most those, then fail.
                (byte[] before, Exception error) = await ReadUntilFailureAsync(reader);
                Assert.IsType<ConnectionResetException>(error);
                Assert.Equal("hell"u8[..before.Length].ToArray(), before);
                await Assert.ThrowsAsync<ConnectionResetException>(async () => await reader.ReadAsync(1));
                await Assert.ThrowsAsync<ConnectionResetException>(() => writer.WaitClosedAsync());
                Assert.Equal(3, injection.CallCount(SyscallKind.Receive));
            }
        });
        Assert.Empty(_test.HandlerReports);
    }
}
