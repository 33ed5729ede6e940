using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AsyncNet.Cli.Tests.Support;

/// <summary>The CLI's <c>echo-server</c> in a child process (this test's own <c>asyncnet.dll</c>), and the port it reports.</summary>
internal static partial class EchoServerProcess
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    /// <summary>The CLI beside the test assembly.</summary>
    public static string CliPath => Path.Combine(AppContext.BaseDirectory, "asyncnet.dll");

    /// <summary>Starts <c>/bin/sh -c <paramref name="command"/></c> with its output redirected and <paramref name="environment"/> added.</summary>
    public static Process StartShell(string command, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException("Could not start the server process.");
    }

    /// <summary>Reads the server's standard output until its "listening on HOST:PORT" line; returns the port.</summary>
    public static async Task<int> ReadPortAsync(Process server)
    {
        while (await server.StandardOutput.ReadLineAsync().WaitAsync(s_limit) is { } line)
        {
            Match listening = ListeningLine().Match(line);
            if (listening.Success)
            {
                return int.Parse(listening.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("The server exited before it listened.");
    }

    [GeneratedRegex(@"listening on .*:(?<port>\d+)")]
    private static partial Regex ListeningLine();
}
