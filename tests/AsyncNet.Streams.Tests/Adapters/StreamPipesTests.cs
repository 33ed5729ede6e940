using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using AsyncNet.Streams.Adapters;

namespace AsyncNet.Streams.Tests.Adapters;

/// <summary><see cref="StreamPipes"/>: a System.IO.Pipelines parser over a real loopback connection.</summary>
public sealed class StreamPipesTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void PipeReader_ParsesLengthPrefixedMessages_SplitAnywhere_AndPipeWriterEchoesThem()
    {
        var random = new Random(11);
        byte[][] messages = [.. Enumerable.Range(0, 200).Select(i => Bytes.Random(i == 0 ? 0 : random.Next(1, 20_000), seed: i))];
        byte[] wire = [.. messages.SelectMany(Frame)];
        _test.Run(async () =>
        {
            var served = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await _test.Loop.StartServerAsync(
                async (reader, writer) =>
                {
                    try
                    {
                        await using StreamDuplexPipe pipe = StreamPipes.Create(reader, writer);
                        served.SetResult(await EchoFramesAsync(pipe));
                    }
                    catch (Exception e)
                    {
                        served.SetException(e);
                    }
                },
                "127.0.0.1",
                0);

            (StreamReader reader, StreamWriter writer) = await _test.Loop.OpenConnectionAsync(
                "127.0.0.1", ((System.Net.IPEndPoint)server.Sockets[0].LocalEndPoint!).Port);

            // Send in odd-sized pieces, so headers and payloads split across reads, while reading the echoes.
            Task sending = SendAsync(writer, wire, random);
            foreach (byte[] expected in messages)
            {
                byte[] header = await reader.ReadExactlyAsync(4);
                Assert.Equal(expected.Length, BinaryPrimitives.ReadInt32BigEndian(header));
                Assert.Equal(expected, await reader.ReadExactlyAsync(expected.Length));
            }

            await sending;
            Assert.Equal(messages.Length, await served.Task);
            Assert.Empty(await reader.ReadToEndAsync());
            await writer.DisposeAsync();
            Assert.Empty(_test.HandlerReports);
        }, seconds: 60);
    }

    private static async Task SendAsync(StreamWriter writer, byte[] wire, Random random)
    {
        for (int offset = 0; offset < wire.Length;)
        {
            int n = Math.Min(random.Next(1, 7_000), wire.Length - offset);
            writer.Write(wire.AsSpan(offset, n));
            await writer.DrainAsync();
            offset += n;
        }

        writer.WriteEof();
    }

    // The parser a Pipelines user would write: it never sees the loop, only PipeReader/PipeWriter.
    private static async Task<int> EchoFramesAsync(IDuplexPipe pipe)
    {
        int count = 0;
        while (true)
        {
            ReadResult result = await pipe.Input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (TryReadFrame(ref buffer, out ReadOnlySequence<byte> payload))
            {
                Span<byte> header = pipe.Output.GetSpan(4);
                BinaryPrimitives.WriteInt32BigEndian(header, checked((int)payload.Length));
                pipe.Output.Advance(4);
                foreach (ReadOnlyMemory<byte> segment in payload)
                {
                    pipe.Output.Write(segment.Span);
                }

                count++;
            }

            pipe.Input.AdvanceTo(buffer.Start, buffer.End);
            await pipe.Output.FlushAsync();
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty, $"{buffer.Length} bytes of a partial frame were left at EOF.");
                return count;
            }
        }
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadBigEndian(out int length) || reader.Remaining < length)
        {
            return false;
        }

        payload = buffer.Slice(4, length);
        buffer = buffer.Slice(4 + length);
        return true;
    }

    private static byte[] Frame(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }
}
