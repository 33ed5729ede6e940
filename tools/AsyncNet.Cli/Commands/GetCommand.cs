using System.Text;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Samples.Http;

namespace AsyncNet.Cli;

/// <summary>
/// <c>asyncnet get URL [--include] [--output FILE] [--repeat N]</c>: fetches a plain-http URL with the HTTP sample
/// client (<see cref="SimpleHttpClient"/>) on its own event loop, curl style.
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
/// <item><term>2</term><description>bad arguments: <see cref="UsageException"/> is thrown, which <c>Program</c> turns into usage and 2.</description></item>
/// <item><term>3</term><description><see cref="ExitBadUrl"/>: the URL is not valid.</description></item>
/// <item><term>4</term><description><see cref="ExitUnsupportedScheme"/>: https (TLS is not part of the sample) or another non-http scheme.</description></item>
/// <item><term>5</term><description><see cref="ExitNameNotResolved"/>: the host name could not be resolved.</description></item>
/// <item><term>6</term><description><see cref="ExitConnectionRefused"/>: nothing listens at the address.</description></item>
/// <item><term>7</term><description><see cref="ExitConnectionFailed"/>: the connection was reset, aborted, timed out or otherwise failed.</description></item>
/// <item><term>8</term><description><see cref="ExitProtocolError"/>: the server's response is not valid HTTP/1.x, or it closed the connection mid-response.</description></item>
/// <item><term>9</term><description><see cref="ExitOutputError"/>: the output file could not be created or written.</description></item>
/// </list>
/// Every failure prints one line "get: what: details" on standard error (network failures through <see cref="ExitCodes.Report"/>).
/// </para>
/// </remarks>
public static class GetCommand
{
    /// <summary>Every response arrived whole (<see cref="ExitCodes.Ok"/>).</summary>
    public const int ExitOk = ExitCodes.Ok;

    /// <summary>The URL is not valid.</summary>
    public const int ExitBadUrl = 3;

    /// <summary>The URL is https or another scheme than http.</summary>
    public const int ExitUnsupportedScheme = 4;

    /// <summary>The host name could not be resolved (<see cref="ExitCodes.NameNotResolved"/>).</summary>
    public const int ExitNameNotResolved = ExitCodes.NameNotResolved;

    /// <summary>The connection was refused (<see cref="ExitCodes.ConnectionRefused"/>).</summary>
    public const int ExitConnectionRefused = ExitCodes.ConnectionRefused;

    /// <summary>The connection was reset or failed otherwise (<see cref="ExitCodes.ConnectionFailed"/>).</summary>
    public const int ExitConnectionFailed = ExitCodes.ConnectionFailed;

    /// <summary>The response broke HTTP/1.x or was cut short.</summary>
    public const int ExitProtocolError = 8;

    /// <summary>The output file could not be written.</summary>
    public const int ExitOutputError = 9;

    /// <summary>The usage line.</summary>
    public const string Usage = "asyncnet get URL [--include|-i] [--output|-o FILE] [--repeat N]";

    /// <summary>Runs the command.</summary>
    /// <param name="args">The arguments after <c>get</c>.</param>
    /// <param name="stdout">Where the body (and with <c>--include</c> the head) goes.</param>
    /// <param name="stderr">Where errors and the <c>--repeat</c> report go.</param>
    /// <returns>The exit code (see the class remarks).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="UsageException">The arguments are malformed: no URL, an unknown option, a missing or bad value.</exception>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        Arguments arguments = Arguments.Parse(args);

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
                return ExitCodes.Report("get", ex, stderr);
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
        for (int i = 0; i < arguments.Repeat; i++)
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

        if (arguments.RepeatGiven)
        {
            stderr.WriteLine(
                $"get: {arguments.Repeat} request{(arguments.Repeat == 1 ? string.Empty : "s")} over " +
                $"{client.ConnectionsOpened} connection{(client.ConnectionsOpened == 1 ? string.Empty : "s")}");
        }
    }

    private sealed record Arguments(string Url, bool Include, string? OutputPath, int Repeat, bool RepeatGiven)
    {
        private static readonly string[] s_valueOptions = ["output", "repeat"];
        private static readonly string[] s_flags = ["include"];

        /// <summary>Takes the URL (the one argument that is not an option or an option's value), then parses the options with <see cref="CommandLine"/>.</summary>
        public static Arguments Parse(string[] args)
        {
            string? url = null;
            var options = new List<string>();
            for (int i = 0; i < args.Length; i++)
            {
                // curl's short spellings.
                string arg = args[i] switch
                {
                    "-i" => "--include",
                    "-o" => "--output",
                    _ => args[i],
                };
                if (arg.StartsWith('-') && arg.Length > 1)
                {
                    options.Add(arg);
                    if (arg is "--output" or "--repeat" && i + 1 < args.Length)
                    {
                        options.Add(args[++i]);
                    }
                }
                else if (url is null)
                {
                    url = arg;
                }
                else
                {
                    throw new UsageException($"get: one URL only (got '{url}' and '{arg}')");
                }
            }

            CommandLine parsed = CommandLine.Parse("get", options, s_valueOptions, s_flags);
            string output = parsed.GetString("output", string.Empty);
            int repeat = parsed.GetInt32("repeat", 1, 1, 1_000_000);
            bool repeatGiven = options.Exists(o => o == "--repeat" || o.StartsWith("--repeat=", StringComparison.Ordinal));
            return url is null
                ? throw new UsageException($"get: a URL is required (usage: {Usage})")
                : new Arguments(url, parsed.Has("include"), output.Length > 0 ? output : null, repeat, repeatGiven);
        }
    }

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
