using System.Buffers;
using AsyncNet.Streams;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Echo.Servers;

/// <summary>
/// The stream echo without copies: <c>data = await reader.ReadBufferedAsync()</c>, <c>writer.Write(data)</c>,
/// <c>reader.AdvanceTo(data.End)</c>, <c>await writer.DrainAsync()</c>, on the same server as <see cref="StreamEchoServer"/>.
/// </summary>
/// <remarks>
/// The bytes are written back from the receive buffer they arrived in, whatever its size (a whole 256 KiB read at
/// once), so the write is one send and nothing is copied in user space unless the kernel leaves part of it (then the
/// transport keeps a copy of that part). Nothing is allocated per message, and there is no per-connection buffer.
/// </remarks>
internal sealed class ZeroCopyEchoServer(EchoServerOptions options) : StreamServerEchoBase(options)
{
    public override EchoServerKind Kind => EchoServerKind.ZeroCopy;

    protected override async Task EchoAsync(StreamReader reader, StreamWriter writer)
    {
        while (true)
        {
            ReadOnlySequence<byte> data = await reader.ReadBufferedAsync();
            if (data.IsEmpty)
            {
                return;
            }

            writer.Write(data);
            reader.AdvanceTo(data.End);
            await writer.DrainAsync();
        }
    }
}
