using AsyncNet.Loop;
using AsyncNet.Testing;

namespace AsyncNet.Streams.Tests;

/// <summary>StreamProtocol's thread rule: its callbacks are the transport's, on the loop thread; debug mode checks it.</summary>
public sealed class StreamProtocolTests
{
    [Fact]
    public async Task DebugMode_CallbacksAndTheWritersTransportFromAnotherThreadWhileTheLoopRuns_Throw()
    {
        await using EventLoop loop = EventLoop.StartOnNewThread(new EventLoopOptions { Debug = true });
        (StreamProtocol protocol, _) = await StartAsync(loop);

        Assert.Throws<InvalidOperationException>(() => protocol.GetBuffer(100));
        Assert.Throws<InvalidOperationException>(() => protocol.BufferUpdated(1));
        Assert.Throws<InvalidOperationException>(() => protocol.EofReceived());
        Assert.Throws<InvalidOperationException>(protocol.PauseWriting);
        Assert.Throws<InvalidOperationException>(protocol.ResumeWriting);
        Assert.Throws<InvalidOperationException>(() => protocol.ConnectionLost(null));
        Assert.Throws<InvalidOperationException>(() => protocol.Writer.Transport);
        Assert.False(protocol.Reader.AtEof, "nothing reached the reader");
    }

    [Fact]
    public async Task WithoutDebugMode_TheThreadIsNotChecked()
    {
        await using EventLoop loop = EventLoop.StartOnNewThread(new EventLoopOptions { Debug = false });
        (StreamProtocol protocol, ScriptedTransport transport) = await StartAsync(loop);

        Assert.Same(transport, protocol.Writer.Transport);
        Assert.False(protocol.GetBuffer(100).IsEmpty);
    }

    private static Task<(StreamProtocol, ScriptedTransport)> StartAsync(EventLoop loop) => loop.RunCoroutineThreadSafe(() =>
    {
        var protocol = new StreamProtocol(loop);
        var transport = new ScriptedTransport(loop, protocol);
        transport.Start();
        return Task.FromResult((protocol, transport));
    });
}
