using System.Security.Cryptography;
using System.Text;
using AsyncNet.Errors;
using AsyncNet.Samples.Http;
using AsyncNet.Tests.Shared;

namespace AsyncNet.Cli.Tests.Http;

/// <summary>The HTTP sample client against a raw responder on 127.0.0.1 that controls every byte and every segment.</summary>
public sealed class SimpleHttpClientTests : IDisposable
{
    private readonly BoundedTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void Get_ContentLength_ReturnsBodyAndSendsTheStandardHeaders()
    {
        _test.Run(async () =>
        {
            await using var server = RawHttpServer.Answering("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
            await using var client = new SimpleHttpClient(_test.Loop);

            HttpResponse response = await client.GetAsync(server.Url("/path?q=1"));

            Assert.Equal(200, response.StatusCode);
            Assert.Equal("OK", response.ReasonPhrase);
            Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
            Assert.Equal(BodyFraming.ContentLength, response.Framing);
            Assert.Equal("hello", Encoding.ASCII.GetString(response.Body.Span));
            Assert.True(response.Headers.TryGetValue("content-type", out string? type));
            Assert.Equal("text/plain", type);
            Assert.True(response.KeepAlive);

            string request = Assert.Single(server.Requests);
            string[] lines = request.Split("\r\n");
            Assert.Equal("GET /path?q=1 HTTP/1.1", lines[0]);
            Assert.Contains($"Host: 127.0.0.1:{server.Port}", lines);
            Assert.Contains("User-Agent: AsyncNet.Samples.Http/1.0", lines);
            Assert.Contains("Accept: */*", lines);
            Assert.Contains("Connection: keep-alive", lines);
            Assert.Empty(server.Failures);
        });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Get_ChunkedSplitIntoTinySegments_ReassemblesBodyAndReadsTrailers(int segment)
    {
        const string wire =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "5\r\nhello\r\n" +
            "7;name=value;quoted=\"a;b\"\r\n, world\r\n" +
            "1A \r\nabcdefghijklmnopqrstuvwxyz\r\n" +
            "000\r\nX-Checksum: 42\r\nX-Other: yes\r\n\r\n";
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                while (await c.ReadRequestAsync() is not null)
                {
                    await c.SendSegmentedAsync(wire, segment, delayMilliseconds: 1);
                }
            });
            await using var client = new SimpleHttpClient(_test.Loop);
            var destination = new MemoryStream();

            HttpResponse response = await client.GetAsync(server.Url(), destination);
            HttpResponse again = await client.GetAsync(server.Url());

            Assert.Equal(BodyFraming.Chunked, response.Framing);
            Assert.Equal("hello, worldabcdefghijklmnopqrstuvwxyz", Encoding.ASCII.GetString(destination.ToArray()));
            Assert.Equal(38, response.BodyLength);
            Assert.True(response.Body.IsEmpty, "The body went to the destination, not into the response");
            Assert.Equal(["X-Checksum: 42", "X-Other: yes"], response.Trailers.Select(t => $"{t.Name}: {t.Value}"));
            Assert.Equal("hello, worldabcdefghijklmnopqrstuvwxyz", Encoding.ASCII.GetString(again.Body.Span));
            Assert.Equal(1, server.Connections);
            Assert.Empty(server.Failures);
        });
    }

    [Theory]
    [InlineData("content-length", true)]
    [InlineData("content-length", false)]
    [InlineData("chunked", true)]
    [InlineData("chunked", false)]
    [InlineData("until-close", true)]
    public void Get_SeveralMiB_ArriveByteForByte(string framing, bool toDestination)
    {
        byte[] body = new byte[6 * 1024 * 1024 + 12345];
        new Random(8).NextBytes(body);
        _test.Run(
            async () =>
            {
                await using var server = new RawHttpServer(async c =>
                {
                    await c.ReadRequestAsync();
                    switch (framing)
                    {
                        case "content-length":
                            await c.SendAsync($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n");
                            await c.SendAsync(body);
                            break;
                        case "chunked":
                            await c.SendAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                            var sizes = new Random(9);
                            for (int offset = 0; offset < body.Length;)
                            {
                                int size = Math.Min(sizes.Next(1, 200_000), body.Length - offset);
                                await c.SendAsync($"{size:x}\r\n");
                                await c.SendAsync(body.AsSpan(offset, size).ToArray());
                                await c.SendAsync("\r\n");
                                offset += size;
                            }

                            await c.SendAsync("0\r\n\r\n");
                            break;
                        default:
                            await c.SendAsync("HTTP/1.0 200 OK\r\n\r\n");
                            await c.SendAsync(body);
                            c.Close();
                            return;
                    }

                    await c.ReadRequestAsync();
                });
                await using var client = new SimpleHttpClient(_test.Loop);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var destination = new HashingStream(hash);

                HttpResponse response = await client.GetAsync(server.Url("/big"), toDestination ? destination : null);

                byte[] actual = toDestination ? hash.GetHashAndReset() : SHA256.HashData(response.Body.Span);
                Assert.Equal(SHA256.HashData(body), actual);
                Assert.Equal(body.Length, response.BodyLength);
                Assert.Equal(body.Length, toDestination ? destination.Written : response.Body.Length);
                Assert.Equal(framing != "until-close", response.KeepAlive);
                Assert.Empty(server.Failures);
            },
            seconds: 60);
    }

    [Fact]
    public void KeepAlive_SeveralRequests_ServerSeesOneConnection()
    {
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                int n = 0;
                while (await c.ReadRequestAsync() is not null)
                {
                    n++;
                    string body = $"response {n} on connection {c.Index}";
                    await c.SendAsync(n % 2 == 0
                        ? $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}"
                        : $"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{body.Length:x}\r\n{body}\r\n0\r\n\r\n");
                }
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            for (int i = 1; i <= 5; i++)
            {
                HttpResponse response = await client.GetAsync(server.Url($"/{i}"));
                Assert.Equal($"response {i} on connection 1", Encoding.ASCII.GetString(response.Body.Span));
                Assert.Equal(i > 1, response.ConnectionReused);
            }

            Assert.Equal(1, client.ConnectionsOpened);
            Assert.Equal(1, server.Connections);
            Assert.Equal(5, server.Requests.Count);
            Assert.Empty(server.Failures);
        });
    }

    [Fact]
    public void ConnectionClose_AfterEachResponse_ClientReconnects()
    {
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                await c.ReadRequestAsync();
                await c.SendAsync($"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n{c.Index}");
                c.Close();
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            for (int i = 1; i <= 3; i++)
            {
                HttpResponse response = await client.GetAsync(server.Url());
                Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), Encoding.ASCII.GetString(response.Body.Span));
                Assert.False(response.KeepAlive);
                Assert.False(response.ConnectionReused);
            }

            Assert.Equal(3, client.ConnectionsOpened);
            Assert.Equal(3, server.Connections);
            Assert.Equal(0, client.OpenConnections);
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    public void ServerClosesKeptAliveConnection_NextRequestGoesOverANewOne(int pauseMilliseconds)
    {
        // The server promises keep-alive, then closes after one response: the client either sees the close before it
        // reuses the connection (pause) or meets it while sending (no pause) and retries the GET once.
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                await c.ReadRequestAsync();
                await c.SendAsync($"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n{c.Index}");
                c.Close();
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            HttpResponse first = await client.GetAsync(server.Url());
            Assert.True(first.KeepAlive);
            await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(pauseMilliseconds));
            HttpResponse second = await client.GetAsync(server.Url());

            Assert.Equal("1", Encoding.ASCII.GetString(first.Body.Span));
            Assert.Equal("2", Encoding.ASCII.GetString(second.Body.Span));
            Assert.Equal(2, client.ConnectionsOpened);
        });
    }

    [Theory]
    [InlineData("GET", true)]
    [InlineData("POST", false)]
    public void ReusedConnectionClosedWithoutAnswer_IdempotentRequestIsRetriedOnce(string method, bool retried)
    {
        // The first connection answers one request, then reads the next and closes without a word: the race a client
        // meets when a server's idle timeout fires as a request goes out.
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                await c.ReadRequestAsync();
                await c.SendAsync($"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n{c.Index}");
                if (c.Index == 1)
                {
                    await c.ReadRequestAsync();
                    c.Close();
                    return;
                }

                await c.ReadRequestAsync();
            });
            await using var client = new SimpleHttpClient(_test.Loop);
            await client.GetAsync(server.Url());
            var request = new HttpRequest(method, HttpUrl.Parse(server.Url())) { Body = "x"u8.ToArray() };

            if (retried)
            {
                HttpResponse response = await client.SendAsync(request);
                Assert.Equal("2", Encoding.ASCII.GetString(response.Body.Span));
                Assert.False(response.ConnectionReused);
                Assert.Equal(2, client.ConnectionsOpened);
            }
            else
            {
                var ex = await Assert.ThrowsAsync<MalformedResponseException>(() => client.SendAsync(request));
                Assert.Equal(ResponseError.NoResponse, ex.Error);
                Assert.Equal(1, client.ConnectionsOpened);
            }

            Assert.Contains(server.Requests, r => r.StartsWith(method + " ", StringComparison.Ordinal) && r.Contains("Content-Length: 1", StringComparison.Ordinal));
        });
    }

    [Fact]
    public void Http10_WithoutLength_ReadsUntilCloseAndDoesNotReuse()
    {
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                await c.ReadRequestAsync();
                await c.SendSegmentedAsync("HTTP/1.0 200 OK\r\nServer: raw\r\n\r\nuntil the end", 4, delayMilliseconds: 1);
                c.Close();
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            HttpResponse response = await client.GetAsync(server.Url());

            Assert.Equal("HTTP/1.0", response.Version);
            Assert.Equal(BodyFraming.UntilClose, response.Framing);
            Assert.Equal("until the end", Encoding.ASCII.GetString(response.Body.Span));
            Assert.False(response.KeepAlive);
            Assert.Equal(0, client.OpenConnections);
        });
    }

    [Fact]
    public void Head_HasNoBodyWhateverContentLengthSays_AndTheConnectionIsReused()
    {
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                while (await c.ReadRequestAsync() is { } request)
                {
                    await c.SendAsync(request.StartsWith("HEAD ", StringComparison.Ordinal)
                        ? "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
                        : "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nget");
                }
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            HttpResponse head = await client.HeadAsync(server.Url());
            HttpResponse get = await client.GetAsync(server.Url());

            Assert.Equal(BodyFraming.None, head.Framing);
            Assert.Equal(0, head.BodyLength);
            Assert.Equal("1000", head.Headers.GetValues("Content-Length").Single());
            Assert.StartsWith("HEAD / HTTP/1.1", server.Requests.First(), StringComparison.Ordinal);
            Assert.Equal("get", Encoding.ASCII.GetString(get.Body.Span));
            Assert.Equal(1, server.Connections);
        });
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n")]
    [InlineData("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")]
    public void NoBodyStatuses_ReadNoBody_AndKeepTheConnection(string wire)
    {
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                await c.ReadRequestAsync();
                await c.SendAsync(wire);
                await c.ReadRequestAsync();
                await c.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            HttpResponse first = await client.GetAsync(server.Url());
            HttpResponse next = await client.GetAsync(server.Url());

            Assert.Equal(BodyFraming.None, first.Framing);
            Assert.True(first.Body.IsEmpty);
            Assert.True(first.StatusCode is 204 or 304);
            Assert.Equal("next", Encoding.ASCII.GetString(next.Body.Span));
            Assert.Equal(1, server.Connections);
        });
    }

    [Theory]
    [InlineData("HTTP/1.1 OK\r\n\r\n", ResponseError.MalformedStatusLine)]
    [InlineData("ICY 200 OK\r\n\r\n", ResponseError.MalformedStatusLine)]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n", ResponseError.MalformedStatusLine)]
    [InlineData("HTTP/1.1 099 Low\r\n\r\n", ResponseError.MalformedStatusLine)]
    [InlineData("HTTP/1.1 200 O\x01K\r\n\r\n", ResponseError.MalformedStatusLine)]
    [InlineData("\r\nHTTP/1.1 200 OK\r\n\r\n", ResponseError.MalformedStatusLine)]
    [InlineData("HTTP/2.0 200 OK\r\n\r\n", ResponseError.UnsupportedVersion)]
    [InlineData("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", ResponseError.MalformedHeader)]
    [InlineData("HTTP/1.1 200 OK\r\nName : value\r\n\r\n", ResponseError.MalformedHeader)]
    [InlineData("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", ResponseError.MalformedHeader)]
    [InlineData("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", ResponseError.MalformedHeader)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello", ResponseError.InvalidContentLength)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", ResponseError.InvalidContentLength)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ResponseError.InvalidChunk)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n", ResponseError.InvalidChunk)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", ResponseError.InvalidChunk)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", ResponseError.InvalidChunk)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", ResponseError.TruncatedBody)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhello", ResponseError.TruncatedBody)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Le", ResponseError.ConnectionClosed)]
    [InlineData("", ResponseError.NoResponse)]
    public void MalformedResponse_ThrowsNamingTheFault_AndClosesTheConnection(string wire, ResponseError expected)
    {
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                await c.ReadRequestAsync();
                await c.SendAsync(wire);
                c.Close();
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            var ex = await Assert.ThrowsAsync<MalformedResponseException>(() => client.GetAsync(server.Url()));

            Assert.Equal(expected, ex.Error);
            Assert.Equal(0, client.OpenConnections);
        });
    }

    [Fact]
    public void MalformedStatusLine_MessageQuotesTheLine()
    {
        _test.Run(async () =>
        {
            await using var server = RawHttpServer.Answering("HTTP/1.1 OK\r\n\r\n");
            await using var client = new SimpleHttpClient(_test.Loop);

            var ex = await Assert.ThrowsAsync<MalformedResponseException>(() => client.GetAsync(server.Url()));

            Assert.Equal("HTTP/1.1 OK", ex.Line);
            Assert.Contains("status", ex.Message, StringComparison.Ordinal);
            Assert.Contains("\"HTTP/1.1 OK\"", ex.Message, StringComparison.Ordinal);
        });
    }

    [Theory]
    [InlineData(9 * 1024, true)]
    [InlineData(200 * 1024, true)]
    [InlineData(200 * 1024, false)]
    public void OverlongHeaderLine_ThrowsLineTooLong(int length, bool terminated)
    {
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                await c.ReadRequestAsync();
                await c.SendAsync("HTTP/1.1 200 OK\r\nX-Big: " + new string('a', length) + (terminated ? "\r\n\r\n" : string.Empty));
                await c.ReadRequestAsync();
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            var ex = await Assert.ThrowsAsync<MalformedResponseException>(() => client.GetAsync(server.Url()));

            Assert.Equal(ResponseError.LineTooLong, ex.Error);
            Assert.Contains("header line", ex.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void TooManyHeaders_AndTooLargeHeaderSection_AreRefused()
    {
        _test.Run(async () =>
        {
            var options = new HttpClientOptions { MaxHeaderCount = 10, MaxHeaderBytes = 4096 };
            string many = string.Concat(Enumerable.Range(0, 11).Select(i => $"X-{i}: v\r\n"));
            string large = string.Concat(Enumerable.Range(0, 9).Select(i => $"X-{i}: {new string('v', 500)}\r\n"));
            await using var server = new RawHttpServer(async c =>
            {
                await c.ReadRequestAsync();
                await c.SendAsync(c.Index == 1 ? $"HTTP/1.1 200 OK\r\n{many}\r\n" : $"HTTP/1.1 200 OK\r\n{large}\r\n");
                await c.ReadRequestAsync();
            });
            await using var client = new SimpleHttpClient(_test.Loop, options);

            var tooMany = await Assert.ThrowsAsync<MalformedResponseException>(() => client.GetAsync(server.Url()));
            var tooLarge = await Assert.ThrowsAsync<MalformedResponseException>(() => client.GetAsync(server.Url()));

            Assert.Equal(ResponseError.TooManyHeaders, tooMany.Error);
            Assert.Equal(ResponseError.HeadersTooLarge, tooLarge.Error);
        });
    }

    [Fact]
    public void ResetMidBody_FailsWithConnectionReset()
    {
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                await c.ReadRequestAsync();
                await c.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial");
                await Task.Delay(50);
                c.Reset();
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            await Assert.ThrowsAsync<ConnectionResetException>(() => client.GetAsync(server.Url()));
            Assert.Equal(0, client.OpenConnections);
        });
    }

    [Fact]
    public void RefusedPort_FailsWithConnectionRefused()
    {
        _test.Run(async () =>
        {
            await using var client = new SimpleHttpClient(_test.Loop);

            await Assert.ThrowsAsync<ConnectionRefusedException>(() => client.GetAsync($"http://127.0.0.1:{RawHttpServer.FreePort()}/"));
        });
    }

    [Fact]
    public void HttpsUrl_IsRefusedWithAClearError()
    {
        _test.Run(async () =>
        {
            await using var client = new SimpleHttpClient(_test.Loop);

            var ex = await Assert.ThrowsAsync<NotSupportedException>(() => client.GetAsync("https://127.0.0.1/"));

            Assert.Contains("TLS is not part of this sample", ex.Message, StringComparison.Ordinal);
            Assert.Contains("plain http only", ex.Message, StringComparison.Ordinal);
            Assert.Equal(0, client.ConnectionsOpened);
        });
    }

    [Fact]
    public void ConcurrentRequestsToOneHost_TakeTurnsOnOneConnection()
    {
        _test.Run(async () =>
        {
            await using var server = new RawHttpServer(async c =>
            {
                while (await c.ReadRequestAsync() is { } request)
                {
                    string path = request.Split(' ')[1];
                    await c.SendSegmentedAsync($"HTTP/1.1 200 OK\r\nContent-Length: {path.Length}\r\n\r\n{path}", 16, delayMilliseconds: 1);
                }
            });
            await using var client = new SimpleHttpClient(_test.Loop);

            HttpResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => client.GetAsync(server.Url($"/{i}"))));

            Assert.Equal(["/0", "/1", "/2", "/3"], responses.Select(r => Encoding.ASCII.GetString(r.Body.Span)));
            Assert.Equal(1, server.Connections);
        });
    }

    /// <summary>A write-only stream that hashes what it is given (so a large body is checked without keeping it).</summary>
    private sealed class HashingStream(IncrementalHash hash) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Written;

        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            Written += buffer.Length;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
