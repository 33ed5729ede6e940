using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace AsyncNet.Echo.Servers;

/// <summary>
/// The idiomatic System.IO.Pipelines baseline, as an application without Kestrel writes it: a <see cref="PipeReader"/>
/// and a <see cref="PipeWriter"/> over a <see cref="NetworkStream"/>; <c>ReadAsync</c>, copy the buffer into the writer,
/// <c>FlushAsync</c>, <c>AdvanceTo</c>.
/// </summary>
/// <remarks>
/// The reader's buffer is <see cref="EchoServerOptions.BufferSize"/> (as for the other echoes; the pipe's own default
/// of 4 KiB would cost it extra reads on pipelined loads), from the shared array pool. Each read is flushed as one write.
/// </remarks>
internal sealed class PipelinesEchoServer(EchoServerOptions options) : ThreadPoolEchoServer(options)
{
    public override EchoServerKind Kind => EchoServerKind.Pipelines;

    protected override async Task EchoAsync(Socket connection, CancellationToken stop)
    {
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        PipeReader input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: Options.BufferSize, leaveOpen: true));
        PipeWriter output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: Options.BufferSize, leaveOpen: true));
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync(stop).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    output.Write(segment.Span);
                }

                FlushResult flushed = await output.FlushAsync(stop).ConfigureAwait(false);
                input.AdvanceTo(buffer.End);
                if (result.IsCompleted || flushed.IsCompleted)
                {
                    return;
                }
            }
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }
}
