using System.CommandLine;
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
    /// <summary>Creates the <c>echo-server</c> verb.</summary>
    /// <returns>The verb, with its options and action.</returns>
    public static Command Create()
    {
        var kind = new Option<string>("--kind")
        {
            Description = "raw: AsyncNet's protocol echo; stream: its stream echo; framed: its framed echo (4-byte big-endian length, then the payload); socket, pipelines: the .NET baselines.",
            DefaultValueFactory = _ => "raw",
        };
        kind.CompletionSources.Add("raw", "stream", "framed", "socket", "pipelines");
        kind.Validators.Add(result =>
        {
            string? name = result.GetValueOrDefault<string>();
            if (!EchoServerKinds.TryParse(name, out _))
            {
                result.AddError($"--kind must be one of {EchoServerKinds.Names} (got '{name}')");
            }
        });
        Option<string> host = ValueOptions.Host("The address to listen on.");
        Option<int> port = ValueOptions.Port(listening: true);
        var verb = new Verb(
            "echo-server",
            "Run an echo server until Ctrl-C or SIGTERM, then close it gracefully.",
            "0    stopped gracefully\n2    bad arguments\n5    the host name did not resolve\n7    another network failure\n10   the address is in use")
        {
            kind, host, port,
        };
        verb.SetAction((result, cancellationToken) =>
        {
            EchoServerKinds.TryParse(result.GetValue(kind), out EchoServerKind parsedKind);
            int code = Run(parsedKind, result.GetRequiredValue(host), result.GetValue(port), result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, cancellationToken);
            return Task.FromResult(code);
        });
        return verb;
    }

    /// <summary>Runs an echo server until <paramref name="cancellationToken"/> fires, then closes it gracefully.</summary>
    /// <param name="kind">Which echo server.</param>
    /// <param name="host">The address to listen on.</param>
    /// <param name="port">The port to listen on; 0 lets the OS choose.</param>
    /// <param name="stdout">Where the listening and stopped lines go.</param>
    /// <param name="stderr">Where failures go.</param>
    /// <param name="cancellationToken">Stops the server (Program fires it on Ctrl-C and SIGTERM).</param>
    /// <returns>An exit code of <see cref="ExitCodes"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="host"/>, <paramref name="stdout"/> or <paramref name="stderr"/> is null.</exception>
    public static int Run(EchoServerKind kind, string host, int port, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
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
