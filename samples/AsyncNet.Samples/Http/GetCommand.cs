using System.CommandLine;
using System.Globalization;
using System.Text;
using AsyncNet.Errors;
using AsyncNet.Loop;

namespace AsyncNet.Samples.Http;

/// <summary>
/// <c>get URL [--include|-i] [--output|-o FILE] [--repeat N]</c>: fetches a plain-http URL with
/// <see cref="SimpleHttpClient"/> on its own event loop, curl style (the samples program's verb, see <see cref="Program"/>).
/// </summary>
/// <remarks>
/// <para>
/// Options: <c>--include</c> (<c>-i</c>) prints the status line and headers before the body; <c>--output FILE</c>
/// (<c>-o</c>) writes the body to FILE byte for byte (without it, the body is decoded as UTF-8 onto standard output);
/// <c>--repeat N</c> fetches the URL N times over one kept-alive connection where the server allows it, and reports on
/// standard error how many connections were used. With <c>--output</c> the file holds the last response's body.
/// </para>
/// <para>
/// Exit codes (any complete response counts as success, whatever its status, as with curl without <c>--fail</c>):
/// <list type="table">
/// <item><term>0</term><description>every response arrived whole.</description></item>
/// <item><term>2</term><description><see cref="ExitUsage"/>: bad arguments (no URL, an unknown option, a missing or bad value).</description></item>
/// <item><term>3</term><description><see cref="ExitBadUrl"/>: the URL is not valid.</description></item>
/// <item><term>4</term><description><see cref="ExitUnsupportedScheme"/>: https (TLS is not part of the sample) or another non-http scheme.</description></item>
/// <item><term>5</term><description><see cref="ExitNameNotResolved"/>: the host name could not be resolved.</description></item>
/// <item><term>6</term><description><see cref="ExitConnectionRefused"/>: nothing listens at the address.</description></item>
/// <item><term>7</term><description><see cref="ExitConnectionFailed"/>: the connection was reset, aborted, timed out or otherwise failed.</description></item>
/// <item><term>8</term><description><see cref="ExitProtocolError"/>: the server's response is not valid HTTP/1.x, or it closed the connection mid-response.</description></item>
/// <item><term>9</term><description><see cref="ExitOutputError"/>: the output file could not be created or written.</description></item>
/// </list>
/// Every failure prints one line "get: what: details" on standard error.
/// </para>
/// </remarks>
public static class GetCommand
{
    /// <summary>Every response arrived whole.</summary>
    public const int ExitOk = 0;

    /// <summary>The arguments are malformed.</summary>
    public const int ExitUsage = 2;

    /// <summary>The URL is not valid.</summary>
    public const int ExitBadUrl = 3;

    /// <summary>The URL is https or another scheme than http.</summary>
    public const int ExitUnsupportedScheme = 4;

    /// <summary>The host name could not be resolved.</summary>
    public const int ExitNameNotResolved = 5;

    /// <summary>The connection was refused.</summary>
    public const int ExitConnectionRefused = 6;

    /// <summary>The connection was reset or failed otherwise.</summary>
    public const int ExitConnectionFailed = 7;

    /// <summary>The response broke HTTP/1.x or was cut short.</summary>
    public const int ExitProtocolError = 8;

    /// <summary>The output file could not be written.</summary>
    public const int ExitOutputError = 9;

    /// <summary>Creates the <c>get</c> command.</summary>
    /// <returns>The command, with its arguments, options and action.</returns>
    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "The plain-http URL to fetch." };
        var include = new Option<bool>("--include", "-i") { Description = "Print the status line and headers before the body." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the body to FILE byte for byte (with --repeat, the last body).", HelpName = "FILE" };
        var repeat = new Option<int?>("--repeat")
        {
            Description = "Fetch the URL N times over one kept-alive connection where the server allows; report the connections used on standard error.",
            HelpName = "N",
            CustomParser = result =>
            {
                string text = result.Tokens[^1].Value;
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int times) && times >= 1)
                {
                    return times;
                }

                result.AddError($"--repeat must be a whole number of at least 1 (got '{text}')");
                return null;
            },
        };
        var command = new Command("get", "Fetch a plain-http URL with the sample HTTP client, curl style.") { url, include, output, repeat };
        command.SetAction(result => Run(
            new Arguments(result.GetRequiredValue(url), result.GetValue(include), result.GetValue(output), result.GetValue(repeat)),
            result.InvocationConfiguration.Output,
            result.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(Arguments arguments, TextWriter stdout, TextWriter stderr)
    {
        HttpUrl url;
        try
        {
            url = HttpUrl.Parse(arguments.Url);
        }
        catch (FormatException ex)
        {
            return Fail(stderr, ExitBadUrl, $"bad URL: {ex.Message}");
        }
        catch (NotSupportedException ex)
        {
            return Fail(stderr, ExitUnsupportedScheme, $"not supported: {ex.Message}");
        }

        FileStream? file = null;
        try
        {
            if (arguments.OutputPath is { } path)
            {
                try
                {
                    file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    return Fail(stderr, ExitOutputError, $"cannot write '{path}': {ex.Message}");
                }
            }

            using var loop = new EventLoop();
            try
            {
                loop.RunUntilComplete(() => FetchAsync(loop, url, arguments, file, stdout, stderr));
                return ExitOk;
            }
            catch (NetworkException ex)
            {
                (string what, int code) = ex switch
                {
                    ConnectionRefusedException => ("connection refused", ExitConnectionRefused),
                    NameResolutionException => ("name not resolved", ExitNameNotResolved),
                    ConnectionResetException => ("connection reset", ExitConnectionFailed),
                    _ => ("connection failed", ExitConnectionFailed),
                };
                return Fail(stderr, code, $"{what}: {ex.Message}");
            }
            catch (MalformedResponseException ex)
            {
                return Fail(stderr, ExitProtocolError, $"bad response: {ex.Message}");
            }
            catch (Exception ex) when (file is not null && ex is IOException or UnauthorizedAccessException)
            {
                return Fail(stderr, ExitOutputError, $"cannot write '{arguments.OutputPath}': {ex.Message}");
            }
        }
        finally
        {
            file?.Dispose();
            stdout.Flush();
        }
    }

    private static int Fail(TextWriter stderr, int exitCode, string message)
    {
        stderr.WriteLine($"get: {message}");
        return exitCode;
    }

    private static async Task FetchAsync(EventLoop loop, HttpUrl url, Arguments arguments, FileStream? file, TextWriter stdout, TextWriter stderr)
    {
        await using var client = new SimpleHttpClient(loop);
        var text = new TextWriterStream(stdout);
        int times = arguments.Repeat ?? 1;
        for (int i = 0; i < times; i++)
        {
            Stream Choose(HttpResponse head)
            {
                if (arguments.Include)
                {
                    stdout.Write($"{head.StatusLine}\r\n{head.Headers}\r\n");
                }

                if (file is null)
                {
                    return text;
                }

                file.SetLength(0);
                return file;
            }

            await client.SendAsync(new HttpRequest("GET", url), Choose);
            text.Complete();
        }

        if (arguments.Repeat is not null)
        {
            stderr.WriteLine(
                $"get: {times} request{(times == 1 ? string.Empty : "s")} over " +
                $"{client.ConnectionsOpened} connection{(client.ConnectionsOpened == 1 ? string.Empty : "s")}");
        }
    }

    /// <summary>The parsed command line: the URL, <c>--include</c>, <c>--output</c> and <c>--repeat</c> (null when not given).</summary>
    private sealed record Arguments(string Url, bool Include, string? OutputPath, int? Repeat);

    /// <summary>A write-only stream that decodes UTF-8 onto a <see cref="TextWriter"/>, a character split across writes included.</summary>
    private sealed class TextWriterStream(TextWriter writer) : Stream
    {
        private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetDecoder();
        private char[] _chars = new char[1024];

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => Decode(buffer, flush: false);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Decode(buffer.Span, flush: false);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Decode(buffer.AsSpan(offset, count), flush: false);
            return Task.CompletedTask;
        }

        /// <summary>Ends one body: an incomplete character at its end becomes U+FFFD instead of joining the next body.</summary>
        public void Complete() => Decode([], flush: true);

        public override void Flush() => writer.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private void Decode(ReadOnlySpan<byte> bytes, bool flush)
        {
            int needed = _decoder.GetCharCount(bytes, flush);
            if (needed > _chars.Length)
            {
                _chars = new char[Math.Max(needed, _chars.Length * 2)];
            }

            int produced = _decoder.GetChars(bytes, _chars, flush);
            writer.Write(_chars, 0, produced);
        }
    }
}
