using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AsyncNet.Cli.Tests.Support;

namespace AsyncNet.Cli.Tests.Echo;

/// <summary>
/// The syscall seam (AsyncNet.Core's Interop/Kernel) costs nothing in production: in the tier-1 code the JIT makes of an
/// echo server's hot path (receive, flush, the selector's wait) nothing of the fault seam is left, because its switch is
/// a static readonly bool the JIT folds. The same server with the switch on keeps the seam's calls, which shows that the
/// check looks where the seam would be. The JIT's own disassembly (<c>DOTNET_JitDisasm</c>) of a child process is read.
/// </summary>
public sealed partial class SyscallSeamJitTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    /// <summary>The hot-path methods whose tier-1 bodies are read: each calls the seam once per message or iteration.</summary>
    private static readonly string[] s_hotPath = ["SocketStreamTransport:ReadIntoLoopBuffer", "SocketStreamTransport:Flush", "EpollSelector:Select"];

    [Fact]
    public async Task SwitchOff_TheTier1HotPathKeepsNothingOfTheSeam_SwitchOn_ItKeepsTheFaultCalls()
    {
        Assert.True(OperatingSystem.IsLinux(), "The echo server's selector is epoll: Linux only.");
        Dictionary<string, string> off = await Tier1ListingsAsync(switchOn: false);
        Dictionary<string, string> on = await Tier1ListingsAsync(switchOn: true);
        foreach (string method in s_hotPath)
        {
            Assert.True(off.ContainsKey(method), $"No tier-1 code of {method} with the switch off; compiled: {string.Join(", ", off.Keys)}");
            Assert.True(on.ContainsKey(method), $"No tier-1 code of {method} with the switch on; compiled: {string.Join(", ", on.Keys)}");
            Assert.False(SeamCall().IsMatch(off[method]), $"{method} keeps the fault seam in production code:\n{off[method]}");
            Assert.True(SeamCall().IsMatch(on[method]), $"{method} shows no fault seam even with the switch on, so the check sees nothing:\n{on[method]}");
        }
    }

    /// <summary>
    /// Runs the CLI's protocol-level echo server under an echo load long enough for its hot path to reach tier 1, with
    /// the JIT writing the disassembly of <see cref="s_hotPath"/> to a file; returns each method's tier-1 listing.
    /// </summary>
    private static async Task<Dictionary<string, string>> Tier1ListingsAsync(bool switchOn)
    {
        string directory = Directory.CreateTempSubdirectory("asyncnet-jit-").FullName;
        try
        {
            string listing = Path.Combine(directory, "jit.txt");
            string runtimeConfig = Path.Combine(AppContext.BaseDirectory, "asyncnet.runtimeconfig.json");
            if (switchOn)
            {
                JsonNode config = JsonNode.Parse(await File.ReadAllTextAsync(runtimeConfig))!;
                config["runtimeOptions"]!["configProperties"]!["AsyncNet.Testing.SyscallFaults"] = true;
                runtimeConfig = Path.Combine(directory, "asyncnet.runtimeconfig.json");
                await File.WriteAllTextAsync(runtimeConfig, config.ToJsonString());
            }

            var environment = new Dictionary<string, string>
            {
                ["DOTNET_JitDisasm"] = string.Join(' ', s_hotPath.Select(m => m.Split(':')[1])),
                ["DOTNET_JitStdOutFile"] = listing,

                // Promote to tier 1 after the call count alone, without the usual 100 ms quiet period, and in one step
                // (without the instrumented tier PGO puts between): a few hundred calls then reach tier 1 even on a busy
                // machine. The folding looked for does not depend on either; it happens in any tier-1 compilation.
                ["DOTNET_TC_CallCountingDelayMs"] = "0",
                ["DOTNET_TieredPGO"] = "0",
            };
            using Process server = EchoServerProcess.StartShell(
                $"exec dotnet exec --runtimeconfig \"{runtimeConfig}\" \"{EchoServerProcess.CliPath}\" echo-server --kind raw --host 127.0.0.1 --port 0",
                environment);
            try
            {
                int port = await EchoServerProcess.ReadPortAsync(server);
                await EchoRoundTripsAsync(port, TimeSpan.FromSeconds(2));
            }
            finally
            {
                // SIGTERM: the server exits cleanly, so the JIT's buffered listing reaches its file.
                using (Process kill = Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync().WaitAsync(s_limit);
                }

                await server.WaitForExitAsync().WaitAsync(s_limit);
            }

            return Tier1Listings(await File.ReadAllTextAsync(listing));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Sends 64-byte messages one at a time and reads each echo back, for at least <paramref name="duration"/> and 1,000
    /// messages: long enough for the background tier-1 compilations to finish on a loaded machine.
    /// </summary>
    private static Task EchoRoundTripsAsync(int port, TimeSpan duration) => Task.Run(() =>
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000 };
        client.Connect(IPAddress.Loopback, port);
        byte[] message = new byte[64];
        byte[] echo = new byte[64];
        var elapsed = Stopwatch.StartNew();
        for (int i = 0; i < 1000 || elapsed.Elapsed < duration; i++)
        {
            message[0] = (byte)i;
            client.Send(message);
            for (int got = 0; got < echo.Length;)
            {
                got += client.Receive(echo, got, echo.Length - got, SocketFlags.None);
            }

            Assert.Equal(message, echo);
        }
    });

    /// <summary>Each method's last tier-1 listing ("Type:Method" → the listing), from the JIT's disassembly output.</summary>
    private static Dictionary<string, string> Tier1Listings(string output)
    {
        var listings = new Dictionary<string, string>();
        foreach (string listing in output.Split("; Assembly listing for method ", StringSplitOptions.RemoveEmptyEntries))
        {
            string header = listing[..listing.IndexOf('\n', StringComparison.Ordinal)];
            Match name = MethodName().Match(header);
            if (name.Success && header.Contains("(Tier1", StringComparison.Ordinal))
            {
                listings[$"{name.Groups["type"].Value}:{name.Groups["method"].Value}"] = listing;
            }
        }

        return listings;
    }

    /// <summary>A call into the seam's fault paths (reached only when a schedule may be in force).</summary>
    [GeneratedRegex(@"Kernel:(SendFaulted|ReceiveFaulted|WaitInterrupted)")]
    private static partial Regex SeamCall();

    [GeneratedRegex(@"^AsyncNet\.[\w.]*\.(?<type>\w+):(?<method>\w+)\(")]
    private static partial Regex MethodName();
}
