using System.Text;
using AsyncNet.Loop;
using AsyncNet.Streams.Testing;

namespace AsyncNet.Streams.Tests.Support;

/// <summary>Runs a test body on a fresh loop on the test thread, bounded in time, and collects loop-handler reports.</summary>
internal sealed class StreamTestLoop : IDisposable
{
    public StreamTestLoop()
    {
        Loop.ExceptionHandler = (_, context) =>
        {
            lock (HandlerReports)
            {
                HandlerReports.Add(context);
            }
        };
    }

    public EventLoop Loop { get; } = new();

    /// <summary>What reached the loop's exception handler.</summary>
    public List<LoopExceptionContext> HandlerReports { get; } = [];

    /// <summary>Runs <paramref name="body"/> on the loop; fails with <see cref="TimeoutException"/> past <paramref name="seconds"/>.</summary>
    public void Run(Func<Task> body, int seconds = 20)
    {
        TimerHandle guard = Loop.CallLater(TimeSpan.FromSeconds(seconds), Loop.Stop);
        Task task = Loop.CreateTask(body);
        try
        {
            Loop.RunUntilComplete(task);
        }
        catch (InvalidOperationException) when (!task.IsCompleted)
        {
            throw new TimeoutException($"The test body did not finish within {seconds} s.");
        }
        finally
        {
            guard.Cancel();
        }
    }

    /// <summary>Lets callbacks scheduled now (connection-lost, flow-control re-checks) run.</summary>
    public async Task YieldAsync(int iterations = 3)
    {
        for (int i = 0; i < iterations; i++)
        {
            await Loop.SleepAsync(TimeSpan.Zero);
        }
    }

    /// <summary>A reader/writer pair on a <see cref="ScriptedTransport"/>: the test decides every segment and every partial send.</summary>
    public Scripted CreateScripted(int limit = StreamOptions.DefaultLimit, int readSize = 64 * 1024, bool compact = true)
    {
        var protocol = new StreamProtocol(Loop, new StreamOptions { Limit = limit, CompactSegments = compact });
        var transport = new ScriptedTransport(Loop, protocol, readSize);
        transport.Start();
        return new Scripted(protocol, transport);
    }

    public void Dispose() => Loop.Close();
}

/// <summary>A stream pair over a scripted transport.</summary>
internal sealed record Scripted(StreamProtocol Protocol, ScriptedTransport Transport)
{
    public StreamReader Reader => Protocol.Reader;

    public StreamWriter Writer => Protocol.Writer;

    /// <summary>Delivers each chunk as one segment (chunks larger than the read size are split).</summary>
    public void Feed(params string[] chunks)
    {
        foreach (string chunk in chunks)
        {
            Feed(Encoding.ASCII.GetBytes(chunk));
        }
    }

    public void Feed(byte[] bytes)
    {
        int offset = 0;
        while (offset < bytes.Length)
        {
            int n = Transport.Deliver(bytes.AsSpan(offset));
            Assert.True(n > 0, $"The transport refused data: {Transport}, {Reader}");
            offset += n;
        }
    }
}

internal static class Bytes
{
    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static string Text(byte[] bytes) => Encoding.ASCII.GetString(bytes);

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Random(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
