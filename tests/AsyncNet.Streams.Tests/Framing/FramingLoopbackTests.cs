using System.Buffers;
using AsyncNet.Loop;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>FrameReader and FrameWriter over real connections: TCP on loopback and Unix sockets.</summary>
public sealed class FramingLoopbackTests : IDisposable
{
    private const int MiB = 1024 * 1024;

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    public static TheoryData<string, string> FamiliesAndFormats
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (string family in new[] { "tcp4", "unix" })
            {
                foreach (string format in new[] { "default", "varint", "typed", "crc32c" })
                {
                    data.Add(family, format);
                }
            }

            return data;
        }
    }

    public static TheoryData<string> Families => ["tcp4", "tcp6", "unix"];

    private static LengthFieldFormat FormatNamed(string name) => name switch
    {
        "default" => LengthFieldFormat.Default,
        "varint" => new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint),
        "typed" => new LengthFieldFormat(typeFieldSize: 2, lengthFieldOffset: 2, byteOrder: ByteOrder.LittleEndian),
        "crc32c" => new LengthFieldFormat(lengthFieldSize: 3, checksum: ChecksumAlgorithm.Crc32C, checksumCoverage: ChecksumCoverage.Payload),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(FamiliesAndFormats))]
    public void Frames_OfNoneOneAndAMebibyteOfPayload_GoThereAndBackIntact(string familyName, string formatName)
    {
        StreamFamily family = StreamFamily.Get(familyName);
        LengthFieldFormat format = FormatNamed(formatName);
        uint maxType = format.HasTypeField ? 1000u : 0u;
        (uint Type, byte[] Payload)[] sent =
        [
            (0, []),
            (maxType == 0 ? 0u : 1u, [42]),
            (maxType, Bytes.Random(MiB, seed: 11)),
            (0, Bytes.Random(1000, seed: 12)),
            (maxType, []),
        ];

        _test.Run(async () =>
        {
            // The server echoes each frame as it received it: the payload goes back out from the receive buffers.
            StreamServer server = await family.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                var frames = new FrameReader(reader, format);
                var replies = new FrameWriter(writer, format);
                while (await frames.ReadFrameAsync() is { } frame)
                {
                    await replies.WriteAsync(frame);
                }

                writer.Close();
            });

            (StreamReader clientReader, StreamWriter clientWriter) = await family.OpenAsync(_test.Loop, server);
            var requests = new FrameWriter(clientWriter, format);
            var echoes = new FrameReader(clientReader, format);
            Task<List<(uint, byte[])>> received = ReadAllAsync(echoes);
            foreach ((uint type, byte[] payload) in sent)
            {
                await requests.WriteAsync(type, payload);
            }

            clientWriter.WriteEof();
            List<(uint Type, byte[] Payload)> got = await received;
            Assert.Equal(sent.Length, got.Count);
            for (int i = 0; i < sent.Length; i++)
            {
                Assert.Equal(sent[i].Type, got[i].Type);
                Assert.True(sent[i].Payload.AsSpan().SequenceEqual(got[i].Payload), $"frame {i}: {sent[i].Payload.Length} bytes sent, {got[i].Payload.Length} received");
            }

            clientWriter.Close();
            await server.DisposeAsync();
        }, seconds: 60);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Frames_SplitIntoTinyWritesWithPauses_ArriveWhole(string familyName)
    {
        StreamFamily family = StreamFamily.Get(familyName);
        var format = new LengthFieldFormat(typeFieldSize: 1, lengthFieldSize: LengthFieldFormat.Varint, lengthFieldOffset: 1, checksum: ChecksumAlgorithm.Crc32C);
        var encoder = new FrameEncoder(format);
        (uint Type, byte[] Payload)[] sent = Enumerable.Range(0, 40).Select(i => ((uint)i, Bytes.Random(i * 7 % 200, seed: i))).ToArray();
        byte[] wire = sent.SelectMany(f => encoder.Encode(f.Type, f.Payload)).ToArray();

        _test.Run(async () =>
        {
            var received = new TaskCompletionSource<List<(uint, byte[])>>();
            StreamServer server = await family.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                received.SetResult(await ReadAllAsync(new FrameReader(reader, format)));
                writer.Close();
            }, new StreamOptions { Limit = 64 });

            (_, StreamWriter writer) = await family.OpenAsync(_test.Loop, server);
            var random = new Random(5);
            int offset = 0;
            while (offset < wire.Length)
            {
                int n = Math.Min(random.Next(1, 8), wire.Length - offset);
                writer.Write(wire.AsSpan(offset, n));
                offset += n;
                await writer.DrainAsync();
                if (random.Next(4) == 0)
                {
                    await _test.Loop.SleepAsync(TimeSpan.Zero);
                }
            }

            writer.WriteEof();
            List<(uint Type, byte[] Payload)> got = await received.Task;
            Assert.Equal(sent.Select(f => f.Type), got.Select(f => f.Type));
            Assert.All(Enumerable.Range(0, sent.Length), i => Assert.Equal(sent[i].Payload, got[i].Payload));
            writer.Close();
            await server.DisposeAsync();
        });
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void EofInsideAFrame_ThrowsIncompleteRead(string familyName)
    {
        StreamFamily family = StreamFamily.Get(familyName);
        byte[] wire = new FrameEncoder(LengthFieldFormat.Default).Encode(0, Bytes.Ascii("truncated"));

        _test.Run(async () =>
        {
            var outcome = new TaskCompletionSource<(Exception? Error, Frame? Next)>();
            StreamServer server = await family.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                var frames = new FrameReader(reader, LengthFieldFormat.Default);
                Exception? error = null;
                try
                {
                    await frames.ReadFrameAsync();
                }
                catch (Exception ex)
                {
                    error = ex;
                }

                outcome.SetResult((error, await frames.ReadFrameAsync()));
                writer.Close();
            });

            (_, StreamWriter writer) = await family.OpenAsync(_test.Loop, server);
            writer.Write(wire.AsSpan(0, 7));
            writer.WriteEof();
            (Exception? error, Frame? next) = await outcome.Task;
            var e = Assert.IsType<IncompleteReadException>(error);
            Assert.Equal(wire[..7], e.Partial);
            Assert.Equal(13, e.Expected);
            Assert.Null(next);
            writer.Close();
            await server.DisposeAsync();
        });
    }

    public static TheoryData<string, string> FamiliesAndFaults
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (string family in new[] { "tcp4", "unix" })
            {
                foreach (string fault in new[] { "too-large", "negative", "checksum" })
                {
                    data.Add(family, fault);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(FamiliesAndFaults))]
    public void BadInput_EarlierFramesFirst_ThenTheFault_ThenThePeerSeesTheConnectionClose(string familyName, string fault)
    {
        StreamFamily family = StreamFamily.Get(familyName);
        (LengthFieldFormat format, Type expected) = fault switch
        {
            "too-large" => (new LengthFieldFormat(maxFrameLength: 1000), typeof(FrameTooLargeException)),
            "negative" => (new LengthFieldFormat(lengthFieldSize: 8), typeof(CorruptFrameException)),
            _ => (new LengthFieldFormat(checksum: ChecksumAlgorithm.Crc32C), typeof(ChecksumMismatchException)),
        };
        var encoder = new FrameEncoder(format);
        byte[] bad = fault switch
        {
            "too-large" => [0, 0, 0x10, 0],
            "negative" => [0x80, 0, 0, 0, 0, 0, 0, 1],
            _ => encoder.Encode(0, Bytes.Ascii("flipped")),
        };
        if (fault == "checksum")
        {
            bad[5] ^= 1;
        }

        _test.Run(async () =>
        {
            var delivered = new List<string>();
            var outcome = new TaskCompletionSource<Exception?>();
            StreamServer server = await family.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                var frames = new FrameReader(reader, format);
                try
                {
                    while (await frames.ReadFrameAsync() is { } frame)
                    {
                        delivered.Add(Bytes.Text(frame.Payload.ToArray()));
                    }

                    outcome.SetResult(null);
                }
                catch (Exception ex)
                {
                    outcome.SetResult(ex);
                }
            });

            (StreamReader reader, StreamWriter writer) = await family.OpenAsync(_test.Loop, server);
            writer.Write(encoder.Encode(0, Bytes.Ascii("one")));
            writer.Write(encoder.Encode(0, Bytes.Ascii("two")));
            writer.Write(bad);
            writer.Write(encoder.Encode(0, Bytes.Ascii("never")));
            await writer.DrainAsync();

            Exception? thrown = await outcome.Task;
            Assert.IsType(expected, thrown);
            Assert.Equal(["one", "two"], delivered);

            // The server closed the connection: the client reads EOF (or a reset, if its last bytes were still unread).
            try
            {
                Assert.Empty(await reader.ReadToEndAsync());
            }
            catch (IOException)
            {
            }

            writer.Close();
            await server.DisposeAsync();
        });
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void CancelledRead_LosesNoBytes_TheNextReadReturnsTheWholeFrame(string familyName)
    {
        StreamFamily family = StreamFamily.Get(familyName);
        var format = new LengthFieldFormat(checksum: ChecksumAlgorithm.Crc32C);
        byte[] payload = Bytes.Random(5000, seed: 9);
        byte[] wire = new FrameEncoder(format).Encode(0, payload);

        _test.Run(async () =>
        {
            var halfReceived = new TaskCompletionSource();
            var sendRest = new TaskCompletionSource();
            var result = new TaskCompletionSource<byte[]>();
            StreamServer server = await family.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                var frames = new FrameReader(reader, format);
                using var cts = new CancellationTokenSource();
                ValueTask<Frame?> read = frames.ReadFrameAsync(cts.Token);
                while (reader.BufferedBytes < 1000)
                {
                    await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(1));
                }

                cts.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
                halfReceived.SetResult();
                Frame frame = (await frames.ReadFrameAsync())!.Value;
                result.SetResult(frame.Payload.ToArray());
                writer.Close();
            });

            (_, StreamWriter writer) = await family.OpenAsync(_test.Loop, server);
            writer.Write(wire.AsSpan(0, 1000));
            await halfReceived.Task;
            writer.Write(wire.AsSpan(1000));
            Assert.Equal(payload, await result.Task);
            writer.Close();
            await server.DisposeAsync();
        });
    }

    private static async Task<List<(uint, byte[])>> ReadAllAsync(FrameReader frames)
    {
        var received = new List<(uint, byte[])>();
        while (await frames.ReadFrameAsync() is { } frame)
        {
            received.Add((frame.Type, frame.Payload.ToArray()));
        }

        return received;
    }
}
