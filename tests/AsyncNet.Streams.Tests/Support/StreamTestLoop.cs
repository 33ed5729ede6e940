using System.Text;
using AsyncNet.Loop;
using AsyncNet.Testing;

namespace AsyncNet.Streams.Tests.Support;

/// <summary>The shared bounded test loop plus scripted reader/writer pairs.</summary>
internal sealed class StreamTestLoop(EventLoopOptions? options = null, bool collectReports = true)
    : AsyncNet.Tests.Shared.BoundedTestLoop(options, collectReports)
{
    /// <summary>A reader/writer pair on a <see cref="ScriptedTransport"/>: the test decides every segment and every partial send.</summary>
    public Scripted CreateScripted(int limit = StreamOptions.DefaultLimit, int readSize = 64 * 1024, bool compact = true)
    {
        var protocol = new StreamProtocol(Loop, new StreamOptions { Limit = limit, CompactSegments = compact });
        var transport = new ScriptedTransport(Loop, protocol, readSize);
        transport.Start();
        return new Scripted(protocol, transport);
    }

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
