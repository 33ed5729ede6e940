using System.Net;
using System.Net.Sockets;
using System.Reflection;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// <see cref="HeartbeatOptions"/>: defaults, validation, the idle options it stands for, a ping the format cannot carry;
/// and how the framed endpoints put it into the caller's options (every other setting kept).
/// </summary>
public sealed class HeartbeatOptionsTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void Defaults_ThirtySecondInterval_DeadlineOfThreeIntervals_EmptyHiddenPingOfTypeZero()
    {
        var options = new HeartbeatOptions();
        Assert.Equal(TimeSpan.FromSeconds(30), options.Interval);
        Assert.Equal(HeartbeatOptions.DefaultInterval, options.Interval);
        Assert.Null(options.Deadline);
        Assert.Equal(TimeSpan.FromSeconds(90), options.EffectiveDeadline);
        Assert.Equal(0u, options.PingType);
        Assert.True(options.PingPayload.IsEmpty);
        Assert.True(options.HidePings);
        Assert.Equal("HeartbeatOptions(Interval=30 s, Deadline=90 s (3 intervals), PingType=0, PingPayload=0 bytes, HidePings)", options.ToString());
    }

    [Fact]
    public void ToIdleOptions_WriteIdleIsTheInterval_ReadIdleTheDeadline_AndItCloses()
    {
        IdleOptions idle = new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(100), Deadline = TimeSpan.FromMilliseconds(250) }.ToIdleOptions();
        Assert.Equal(TimeSpan.FromMilliseconds(100), idle.WriteIdle);
        Assert.Equal(TimeSpan.FromMilliseconds(250), idle.ReadIdle);
        Assert.Null(idle.AllIdle);
        Assert.True(idle.CloseOnIdle);

        Assert.Equal(TimeSpan.FromMilliseconds(300), new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(100) }.ToIdleOptions().ReadIdle);
        Assert.Equal(TimeSpan.MaxValue, new HeartbeatOptions { Interval = TimeSpan.MaxValue / 2 }.ToIdleOptions().ReadIdle);
    }

    public static TheoryData<int, int?> BadTimes => new() { { 0, null }, { -5, null }, { 100, 100 }, { 100, 50 } };

    [Theory]
    [MemberData(nameof(BadTimes))]
    public void IntervalNotPositive_OrDeadlineNotAboveIt_Throws(int intervalMs, int? deadlineMs)
    {
        var options = new HeartbeatOptions
        {
            Interval = TimeSpan.FromMilliseconds(intervalMs),
            Deadline = deadlineMs is int d ? TimeSpan.FromMilliseconds(d) : null,
        };
        Assert.Throws<ArgumentOutOfRangeException>(() => options.ToIdleOptions());
        Assert.Throws<ArgumentOutOfRangeException>(() => options.CreatePingSender(LengthFieldFormat.Default));
        _test.Run(() =>
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = _test.Loop.OpenFramedConnectionAsync("127.0.0.1", 1, LengthFieldFormat.Default, options); });
            Assert.Equal("heartbeat", e.ParamName);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void PingThatTheFormatCannotCarry_ThrowsArgumentException_NamingThePing()
    {
        var typeTooLarge = new HeartbeatOptions { PingType = 300 };
        var tooLong = new HeartbeatOptions { PingPayload = new byte[300] };
        var typed = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1);
        var oneByteLength = new LengthFieldFormat(lengthFieldSize: 1);

        // The encoder's own exception is the inner one; the outer one says it is about the heartbeat's ping.
        var type = Assert.Throws<ArgumentException>(() => typeTooLarge.CreatePingSender(typed));
        Assert.Contains("type 300, 0 payload bytes", type.Message);
        Assert.IsType<ArgumentOutOfRangeException>(type.InnerException);
        Assert.Throws<ArgumentException>(() => new HeartbeatOptions { PingType = 1 }.CreatePingSender(LengthFieldFormat.Default));
        var length = Assert.Throws<ArgumentException>(() => tooLong.CreatePingSender(oneByteLength));
        Assert.Contains("type 0, 300 payload bytes", length.Message);

        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            var fromReader = Assert.Throws<ArgumentException>(() => new FrameReader(s.Reader, oneByteLength, tooLong));
            Assert.Equal("heartbeat", fromReader.ParamName);

            // A reader that shows pings never needs to recognise one.
            _ = new FrameReader(s.Reader, oneByteLength, new HeartbeatOptions { PingPayload = new byte[300], HidePings = false });
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void PingPayload_IsCopiedWhenEncoded()
    {
        byte[] payload = Bytes.Ascii("abc");
        Action<StreamWriter, IdleEvent> send = new HeartbeatOptions { PingPayload = payload }.CreatePingSender(LengthFieldFormat.Default);
        payload[0] = (byte)'X';
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            send(s.Writer, new IdleEvent(IdleKind.Write, true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
            Assert.Equal([0, 0, 0, 3, .. Bytes.Ascii("abc")], s.Transport.Sent);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void Endpoints_IdleOptionsBesideAHeartbeat_ThrowArgumentException()
    {
        var heartbeat = new HeartbeatOptions();
        var idle = new IdleOptions { ReadIdle = TimeSpan.FromSeconds(1) };
        _test.Run(async () =>
        {
            var client = Assert.Throws<ArgumentException>(() =>
            {
                _ = _test.Loop.OpenFramedConnectionAsync("127.0.0.1", 1, LengthFieldFormat.Default, heartbeat, connectionOptions: new ConnectionOptions { Idle = idle });
            });
            Assert.Equal("connectionOptions", client.ParamName);
            var server = Assert.Throws<ArgumentException>(() =>
            {
                _ = _test.Loop.StartFramedServerAsync(_ => Task.CompletedTask, "127.0.0.1", 0, LengthFieldFormat.Default, heartbeat, serverOptions: new ServerOptions { Idle = idle });
            });
            Assert.Equal("serverOptions", server.ParamName);
            Assert.Equal("format", Assert.Throws<ArgumentNullException>(() => { _ = _test.Loop.OpenFramedConnectionAsync("127.0.0.1", 1, null!); }).ParamName);

            // Without a heartbeat, the caller's idle options are the caller's business.
            await using StreamServer plain = await _test.Loop.StartFramedServerAsync(_ => Task.CompletedTask, "127.0.0.1", 0, LengthFieldFormat.Default, serverOptions: new ServerOptions { Idle = idle });
        });
    }

    [Fact]
    public void CallersOnIdle_StillHearsTheWriteIdleReports_AndThePingsGoOut()
    {
        _test.Run(async () =>
        {
            var heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(30), Deadline = TimeSpan.FromSeconds(5) };
            var reports = new List<IdleKind>();
            var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var options = new StreamOptions
            {
                Limit = 4096,
                OnIdle = (writer, idle) =>
                {
                    reports.Add(idle.Kind);
                    if (reports.Count == 2)
                    {
                        heard.TrySetResult();
                    }
                },
            };

            var pings = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await _test.Loop.StartFramedServerAsync(
                async c => pings.SetResult(await c.Reader.ReadFrameAsync() is null ? c.Reader.PingsSkipped : -1), "127.0.0.1", 0, LengthFieldFormat.Default, heartbeat);
            int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;
            await using FramedConnection client = await _test.Loop.OpenFramedConnectionAsync("127.0.0.1", port, LengthFieldFormat.Default, heartbeat, options);
            Assert.Equal(4096, client.Reader.Reader.Limit);

            await heard.Task;
            Assert.All(reports, kind => Assert.Equal(IdleKind.Write, kind));
            client.Writer.Writer.WriteEof();
            Assert.True(await pings.Task >= 2, "A ping went out on each report the caller's callback heard");
        });
    }

    [Fact]
    public void OptionsCopies_KeepEverySetting()
    {
        var idle = new IdleOptions { WriteIdle = TimeSpan.FromSeconds(1) };
        var connection = new ConnectionOptions
        {
            NoDelay = false, KeepAlive = true, Cork = true, SendBufferSize = 1111, ReceiveBufferSize = 2222, ReadBufferSize = 3333,
            WriteBufferHighWaterMark = 4444, WriteBufferLowWaterMark = 555, AddressFamily = AddressFamily.InterNetworkV6, LocalEndPoint = new IPEndPoint(IPAddress.IPv6Loopback, 7),
        };
        AssertCopied(connection, FramedOptions.WithIdle(connection, idle, "x"), idle);

        var server = new ServerOptions
        {
            NoDelay = false, KeepAlive = true, Cork = true, SendBufferSize = 1111, ReceiveBufferSize = 2222, ReadBufferSize = 3333,
            WriteBufferHighWaterMark = 4444, WriteBufferLowWaterMark = 555, Backlog = 7, ReuseAddress = false, ReusePort = true, StartServing = false,
        };
        AssertCopied(server, FramedOptions.WithIdle(server, idle, "x"), idle);

        Action<StreamWriter, IdleEvent> onIdle = (_, _) => { };
        StreamOptions stream = FramedOptions.WithOnIdle(new StreamOptions { Limit = 77, CompactSegments = false }, onIdle);
        Assert.Equal((77, false), (stream.Limit, stream.CompactSegments));
        Assert.Same(onIdle, stream.OnIdle);
        Assert.Equal((StreamOptions.DefaultLimit, true), (FramedOptions.WithOnIdle(null, onIdle).Limit, FramedOptions.WithOnIdle(null, onIdle).CompactSegments));
    }

    private static void AssertCopied<T>(T original, T copy, IdleOptions idle)
    {
        foreach (PropertyInfo property in typeof(T).GetProperties(BindingFlags.Instance | BindingFlags.Public).Where(p => p.SetMethod is not null))
        {
            object? expected = property.Name == "Idle" ? idle : property.GetValue(original);
            Assert.True(Equals(expected, property.GetValue(copy)), $"{typeof(T).Name}.{property.Name}: {expected} was not copied");
        }
    }
}
