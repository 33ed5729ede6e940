using System.Buffers;
using System.Net;
using System.Text;
using System.Threading.Tasks.Dataflow;
using AsyncNet.Errors;
using AsyncNet.Samples.Dataflow;
using AsyncNet.Streams;
using AsyncNet.Streams.Dataflow;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Tests.Shared;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Cli.Tests.Samples;

/// <summary>The Dataflow sample end to end: real loopback connections, a client that is itself a linked pipeline.</summary>
public sealed class FramedRequestResponseServerTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);
    private static readonly LengthFieldFormat s_crcFormat = new(typeFieldSize: 2, lengthFieldOffset: 2, checksum: ChecksumAlgorithm.Crc32C);

    private readonly BoundedTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    public static TheoryData<string> FormatNames => ["u32", "type+crc32c"];

    private static LengthFieldFormat Format(string name) => name == "u32" ? LengthFieldFormat.Default : s_crcFormat;

    private Task<StreamServer> StartAsync(LengthFieldFormat format) =>
        FramedRequestResponseServer.StartAsync(_test.Loop, new IPEndPoint(IPAddress.Loopback, 0), format, FramedRequestResponseServer.UpperCase);

    private static int Port(StreamServer server) => ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;

    private static List<(uint Type, string Text)> Requests(LengthFieldFormat format, int count, int seed)
    {
        var random = new Random(seed);
        var requests = new List<(uint, string)>();
        for (int i = 0; i < count; i++)
        {
            int length = i % 10 == 0 ? 0 : random.Next(1, i % 3 == 0 ? 20_000 : 200);
            var text = new StringBuilder(length);
            for (int j = 0; j < length; j++)
            {
                text.Append((char)random.Next('a', 'z' + 1));
            }

            requests.Add((format.HasTypeField ? (uint)random.Next(0, 1000) : 0, text.ToString()));
        }

        return requests;
    }

    /// <summary>A client as a pipeline: encoder → connection → decoder; sends every request, then EOF, and collects the responses.</summary>
    private async Task<List<Frame>> ExchangeAsync(LengthFieldFormat format, int port, List<(uint Type, string Text)> requests)
    {
        (StreamReader reader, StreamWriter writer) = await _test.Loop.OpenConnectionAsync("127.0.0.1", port);
        var connection = new DataflowConnection(reader, writer);
        IPropagatorBlock<Frame, ReadOnlyMemory<byte>> encoder = FramingBlocks.CreateEncoder(format);
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(format);
        var responses = new BufferBlock<Frame>();
        var link = new DataflowLinkOptions { PropagateCompletion = true };
        encoder.LinkTo(connection.Target, link);
        connection.Source.LinkTo(decoder, link);
        decoder.LinkTo(responses, link);

        // Responses are taken while requests are still being sent: every block is bounded, so a client that only
        // sent would stall once the server's pipeline filled up.
        var received = new List<Frame>();
        Task collecting = CollectAsync();
        foreach ((uint type, string text) in requests)
        {
            Assert.True(await encoder.SendAsync(new Frame(type, Encoding.ASCII.GetBytes(text))).WaitAsync(s_timeout));
        }

        encoder.Complete();
        await collecting.WaitAsync(s_timeout);
        await connection.Completion.WaitAsync(s_timeout);
        return received;

        async Task CollectAsync()
        {
            while (await responses.OutputAvailableAsync())
            {
                while (responses.TryReceive(out Frame frame))
                {
                    received.Add(frame);
                }
            }

            await responses.Completion;
        }
    }

    private static void AssertAnswers(List<(uint Type, string Text)> requests, List<Frame> responses)
    {
        Assert.Equal(requests.Count, responses.Count);
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(requests[i].Type, responses[i].Type);
            Assert.Equal(requests[i].Text.ToUpperInvariant(), Encoding.ASCII.GetString(responses[i].Payload.ToArray()));
        }
    }

    [Theory]
    [MemberData(nameof(FormatNames))]
    public void EveryRequest_IsAnsweredInOrder_ThenTheConnectionClosesGracefully(string formatName)
    {
        _test.Run(async () =>
        {
            LengthFieldFormat format = Format(formatName);
            StreamServer server = await StartAsync(format);
            List<(uint Type, string Text)> requests = Requests(format, count: 400, seed: 1);

            AssertAnswers(requests, await ExchangeAsync(format, Port(server), requests));

            await server.ShutdownAsync().WaitAsync(s_timeout);
            Assert.Empty(_test.HandlerReports);
        });
    }

    [Fact]
    public void SeveralClientsAtOnce_EachGetsItsOwnAnswers()
    {
        _test.Run(async () =>
        {
            StreamServer server = await StartAsync(s_crcFormat);
            List<(uint Type, string Text)>[] requests = Enumerable.Range(0, 6).Select(i => Requests(s_crcFormat, count: 150, seed: 10 + i)).ToArray();

            List<Frame>[] responses = await Task.WhenAll(requests.Select(r => ExchangeAsync(s_crcFormat, Port(server), r)));
            for (int i = 0; i < requests.Length; i++)
            {
                AssertAnswers(requests[i], responses[i]);
            }

            await server.ShutdownAsync().WaitAsync(s_timeout);
            Assert.Empty(_test.HandlerReports);
        });
    }

    [Fact]
    public void CorruptRequest_ServerAbortsTheConnection_AndReportsTheFault()
    {
        _test.Run(async () =>
        {
            StreamServer server = await StartAsync(s_crcFormat);
            (StreamReader reader, StreamWriter writer) = await _test.Loop.OpenConnectionAsync("127.0.0.1", Port(server));
            var encoder = new FrameEncoder(s_crcFormat);
            byte[] corrupt = encoder.Encode(2, "second"u8);
            corrupt[^1] ^= 0x01;
            writer.Write(encoder.Encode(1, "first"u8));
            writer.Write(corrupt);
            await writer.DrainAsync();

            // The connection ends (EOF or reset); whatever came before is a prefix of the answers.
            byte[] answered;
            try
            {
                answered = await reader.ReadToEndAsync().AsTask().WaitAsync(s_timeout);
            }
            catch (NetworkException)
            {
                answered = [];
            }

            byte[] first = encoder.Encode(1, "FIRST"u8);
            Assert.True(answered.Length == 0 || answered.AsSpan().SequenceEqual(first), Convert.ToHexString(answered));

            await server.ShutdownAsync().WaitAsync(s_timeout);
            Assert.Contains(_test.HandlerReports, report => report.Exception is ChecksumMismatchException);
            writer.Close();
        });
    }
}
