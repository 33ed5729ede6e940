using System.Net;
using System.Security.Cryptography;
using System.Text;
using AsyncNet.Samples.Http;
using AsyncNet.Tests.Shared;

namespace AsyncNet.Cli.Tests.Http;

/// <summary>The HTTP sample client against .NET's own HttpListener: a real server's framing and keep-alive.</summary>
public sealed class HttpListenerTests : IDisposable
{
    private readonly BoundedTestLoop _test = new();
    private readonly HttpListener _listener = new();
    private readonly HashSet<int> _clientPorts = [];
    private readonly Task _serving;
    private readonly int _port;

    public HttpListenerTests()
    {
        // A prefix on a free port; retried in the unlikely case another process takes it between the probe and Start.
        for (int attempt = 0; ; attempt++)
        {
            _port = RawHttpServer.FreePort();
            _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                _listener.Prefixes.Clear();
            }
        }

        _serving = Task.Run(ServeAsync);
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
        _test.Dispose();
    }

    [Fact]
    public void ContentLengthChunkedAndHead_OverOneKeptAliveConnection()
    {
        _test.Run(async () =>
        {
            await using var client = new SimpleHttpClient(_test.Loop);

            HttpResponse fixedLength = await client.GetAsync($"http://127.0.0.1:{_port}/fixed");
            HttpResponse chunked = await client.GetAsync($"http://127.0.0.1:{_port}/chunked");
            HttpResponse head = await client.HeadAsync($"http://127.0.0.1:{_port}/fixed");
            HttpResponse noContent = await client.GetAsync($"http://127.0.0.1:{_port}/204");

            Assert.Equal(BodyFraming.ContentLength, fixedLength.Framing);
            Assert.Equal("fixed body", Encoding.UTF8.GetString(fixedLength.Body.Span));
            Assert.Equal(BodyFraming.Chunked, chunked.Framing);
            Assert.Equal(Expected("/chunked"), chunked.Body.ToArray());
            Assert.Equal(BodyFraming.None, head.Framing);
            Assert.Equal(204, noContent.StatusCode);
            Assert.Equal(1, client.ConnectionsOpened);
            lock (_clientPorts)
            {
                Assert.Single(_clientPorts);
            }
        });
    }

    [Fact]
    public void SeveralMiBChunked_HashMatches()
    {
        _test.Run(
            async () =>
            {
                await using var client = new SimpleHttpClient(_test.Loop);
                var destination = new MemoryStream();

                await client.GetAsync($"http://127.0.0.1:{_port}/big", destination);

                Assert.Equal(SHA256.HashData(Expected("/big")), SHA256.HashData(destination.ToArray()));
            },
            seconds: 60);
    }

    private static byte[] Expected(string path) => path switch
    {
        "/fixed" => Encoding.UTF8.GetBytes("fixed body"),
        "/chunked" => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 500).Select(i => $"line {i}\n"))),
        "/big" => RandomBytes(5 * 1024 * 1024),
        _ => [],
    };

    private static byte[] RandomBytes(int length)
    {
        byte[] bytes = new byte[length];
        new Random(5).NextBytes(bytes);
        return bytes;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            lock (_clientPorts)
            {
                _clientPorts.Add(context.Request.RemoteEndPoint.Port);
            }

            // Close, not Dispose: the managed HttpListener's Dispose aborts the connection, Close keeps it alive.
            HttpListenerResponse response = context.Response;
            string path = context.Request.Url!.AbsolutePath;
            if (path == "/204")
            {
                response.StatusCode = 204;
                response.Close();
                continue;
            }

            byte[] body = Expected(path);
            if (path == "/fixed")
            {
                response.ContentLength64 = body.Length;
            }
            else
            {
                response.SendChunked = true;
            }

            if (context.Request.HttpMethod != "HEAD")
            {
                // Several writes, so a chunked response has several chunks.
                int step = body.Length > 100_000 ? 100_000 : 1000;
                for (int offset = 0; offset < body.Length; offset += step)
                {
                    await response.OutputStream.WriteAsync(body.AsMemory(offset, Math.Min(step, body.Length - offset)));
                }
            }

            response.Close();
        }
    }
}
