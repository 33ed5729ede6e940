using System.Text;
using AsyncNet.Loop;
using AsyncNet.Samples.Hosting;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Cli.Tests.Samples;

/// <summary>The hosting sample: a loop on a background thread serving requests made by ordinary multi-threaded code.</summary>
public sealed class FramedBackendClientTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(60);
    private static readonly LengthFieldFormat s_format = new(lengthFieldSize: 4);

    [Fact]
    public async Task RequestsFromManyThreadPoolThreads_EachGetTheirOwnAnswer_AndResumeOffTheLoop()
    {
        await using var backendLoops = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 2 });
        await using GroupServer backend = await backendLoops.StartFramedServerAsync(
            async connection =>
            {
                // Upper-cases every request, after a pause that keeps several requests in flight at once.
                while (await connection.Reader.ReadFrameAsync() is { } frame)
                {
                    byte[] upper = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(System.Buffers.BuffersExtensions.ToArray(frame.Payload)).ToUpperInvariant());
                    await EventLoop.Current!.SleepAsync(TimeSpan.FromMilliseconds(1));
                    await connection.Writer.WriteAsync(0, upper);
                }
            },
            "127.0.0.1",
            0,
            s_format);

        await using FramedBackendClient client = await FramedBackendClient.ConnectAsync("127.0.0.1", backend.Port, s_format, connections: 3);
        int onLoopThread = 0;

        // Thirty-two "request handlers" at once, as an ASP.NET server would run them, on the thread pool.
        await Task.WhenAll(Enumerable.Range(0, 32).Select(caller => Task.Run(async () =>
        {
            for (int i = 0; i < 20; i++)
            {
                string question = $"caller {caller} request {i}";
                byte[] answer = await client.RequestAsync(Encoding.ASCII.GetBytes(question));
                Assert.Equal(question.ToUpperInvariant(), Encoding.ASCII.GetString(answer));
                if (EventLoop.Current is not null)
                {
                    Interlocked.Increment(ref onLoopThread);
                }
            }
        }))).WaitAsync(s_limit);

        Assert.Equal(0, onLoopThread);
        Assert.Equal(3, backend.GetAcceptedCounts().Sum());
    }

    [Fact]
    public async Task ACallerWaitingForAFreeConnection_CanGiveUp()
    {
        await using var backendLoops = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 1 });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using GroupServer backend = await backendLoops.StartFramedServerAsync(
            async connection =>
            {
                while (await connection.Reader.ReadFrameAsync() is { } frame)
                {
                    await release.Task;
                    await connection.Writer.WriteAsync(frame);
                }
            },
            "127.0.0.1",
            0,
            s_format);
        await using FramedBackendClient client = await FramedBackendClient.ConnectAsync("127.0.0.1", backend.Port, s_format, connections: 1);

        Task<byte[]> first = client.RequestAsync("first"u8.ToArray());
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.RequestAsync("second"u8.ToArray(), giveUp.Token)).WaitAsync(s_limit);

        release.SetResult();
        Assert.Equal("first"u8.ToArray(), await first.WaitAsync(s_limit));
        Assert.Equal("third"u8.ToArray(), await client.RequestAsync("third"u8.ToArray()).WaitAsync(s_limit));
    }
}
