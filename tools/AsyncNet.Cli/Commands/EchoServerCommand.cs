using AsyncNet.Echo;
using AsyncNet.Errors;

namespace AsyncNet.Cli;

/// <summary>
/// <c>asyncnet echo-server [--kind raw|stream|framed|socket|pipelines] [--host 127.0.0.1] [--port P]</c>: runs an echo
/// server until stopped (Ctrl-C or SIGTERM), then closes it gracefully.
/// </summary>
/// <remarks>
/// <para>
/// <c>raw</c> (the default) is AsyncNet's transport-level echo, <c>stream</c> its stream echo, <c>framed</c> its framed
/// echo (frames of <see cref="EchoFraming.DefaultFormat"/>: a 4-byte big-endian payload length, then the payload);
/// <c>socket</c> and <c>pipelines</c> are the .NET baselines. <c>--port 0</c> (the default) lets the OS choose; the line
/// "echo-server: … listening on HOST:PORT" on standard output says where.
/// </para>
/// <para>
/// Exit codes: 0 after a graceful stop; 2 for bad arguments; 5 when the host does not resolve; 10 when the address is in
/// use; 7 for another network failure.
/// </para>
/// </remarks>
public static class EchoServerCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "echo-server [--kind raw|stream|framed|socket|pipelines] [--host 127.0.0.1] [--port 0]";

    /// <summary>Runs an echo server until <paramref name="cancellationToken"/> fires, then closes it gracefully.</summary>
    /// <param name="args">The arguments after <c>echo-server</c>.</param>
    /// <param name="stdout">Where the listening and stopped lines go.</param>
    /// <param name="stderr">Where failures go.</param>
    /// <param name="cancellationToken">Stops the server (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="UsageException">The arguments are malformed.</exception>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        CommandLine options = CommandLine.Parse("echo-server", args, ["kind", "host", "port"], []);
        string kindName = options.GetString("kind", "raw");
        if (!EchoServerKinds.TryParse(kindName, out EchoServerKind kind))
        {
            throw new UsageException($"echo-server: --kind must be one of {EchoServerKinds.Names} (got '{kindName}')");
        }

        string host = options.GetString("host", "127.0.0.1");
        int port = options.GetInt32("port", 0, 0, 65535);

        IEchoServer server;
        try
        {
            server = EchoServers.StartAsync(kind, host, port).GetAwaiter().GetResult();
        }
        catch (NetworkException ex)
        {
            return ExitCodes.Report("echo-server", ex, stderr);
        }

        string frames = kind.IsFramed() ? $", frames: {EchoFraming.DefaultFormat}" : string.Empty;
        stdout.WriteLine($"echo-server: {server.Name} echo listening on {server.EndPoint}{frames} (Ctrl-C to stop)");
        stdout.Flush();
        cancellationToken.WaitHandle.WaitOne();
        stdout.WriteLine("echo-server: stopping (closing connections gracefully)");
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        stdout.WriteLine("echo-server: stopped");
        return ExitCodes.Ok;
    }
}
