using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Testing.Syscalls;
using AsyncNet.Tests.Support;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Testing.Tests.Support;

/// <summary>Helpers of the syscall-fault tests.</summary>
internal static class SyscallTesting
{
    /// <summary>The stream families, by name, for theories.</summary>
    public static TheoryData<string> Families => ["tcp4", "tcp6", "unix"];

    public static StreamFamily Family(string name) => name switch
    {
        "tcp4" => StreamFamily.Tcp4,
        "tcp6" => StreamFamily.Tcp6,
        "unix" => StreamFamily.Unix,
        _ => throw new ArgumentException(name),
    };

    /// <summary>
    /// A server handler that echoes until EOF, or until its connection breaks: a client whose connection failed closes
    /// with the echo unread, which resets this end for real.
    /// </summary>
    public static async Task EchoUntilEndAsync(StreamReader reader, StreamWriter writer)
    {
        try
        {
            await ProxyTestLoop.EchoAsync(reader, writer);
        }
        catch (NetworkException)
        {
            // The client's fault, reported to the client.
        }
    }

    /// <summary>
    /// Reads until a read throws; returns what the reads returned first and the exception. Whether bytes received before
    /// a connection's error are still returned first is the reader's rule; either way they come in order, then the error.
    /// </summary>
    public static async Task<(byte[] Before, Exception Error)> ReadUntilFailureAsync(StreamReader reader)
    {
        var before = new MemoryStream();
        while (true)
        {
            byte[] bytes;
            try
            {
                bytes = await reader.ReadAsync(1024);
            }
            catch (Exception ex)
            {
                return (before.ToArray(), ex);
            }

            Assert.True(bytes.Length > 0, $"The stream ended cleanly after {before.Length} bytes instead of failing");
            before.Write(bytes);
        }
    }

    /// <summary>
    /// Asserts that <paramref name="loop"/> sleeps in its selector while nothing happens: over a quiet stretch its waits
    /// (counted by <paramref name="injection"/>, which must cover the loop) grow by no more than the stretch's own timer
    /// needs. A loop that spins on a readiness nobody consumes makes thousands of waits in that time.
    /// </summary>
    public static async Task AssertLoopSleepsAsync(EventLoop loop, SyscallInjection injection, int milliseconds = 100)
    {
        int before = injection.CallCount(SyscallKind.SelectorWait);
        await loop.SleepAsync(TimeSpan.FromMilliseconds(milliseconds));
        int waits = injection.CallCount(SyscallKind.SelectorWait) - before;
        Assert.True(waits <= 4, $"{waits} selector waits in a quiet {milliseconds} ms: the loop spins ({injection})");
    }
}
