using System.CommandLine;
using AsyncNet.Testing.Faults;

namespace AsyncNet.Cli;

/// <summary>
/// The fault options <c>proxy</c> and <c>fuzz</c> share: <c>--fault SPEC</c> for both directions, <c>--fault-up SPEC</c>
/// (client to upstream) and <c>--fault-down SPEC</c> (upstream to client) over it, each in <see cref="FaultSpec"/>'s
/// text form and checked while the command line is parsed.
/// </summary>
internal sealed class FaultOptions
{
    /// <summary>The faults of both directions.</summary>
    public Option<FaultSpec?> Both { get; } = Create(
        "--fault",
        "The faults of both directions: comma-separated items such as latency=50ms, jitter=10ms, bandwidth=64KiB/s, slice=16, slice-variation=8, " +
        "slice-delay=1ms, blackhole, reset-after=1000, close-after=N, half-close-after=N; none for no fault.");

    /// <summary>The faults from the client to the upstream, over <see cref="Both"/>.</summary>
    public Option<FaultSpec?> Up { get; } = Create("--fault-up", "The faults from clients to the upstream server, as for --fault (over it).");

    /// <summary>The faults from the upstream to the client, over <see cref="Both"/>.</summary>
    public Option<FaultSpec?> Down { get; } = Create("--fault-down", "The faults from the upstream server to clients, as for --fault (over it).");

    /// <summary>The three options, to add to a verb.</summary>
    public IEnumerable<Option> All => [Both, Up, Down];

    /// <summary>Whether any of the options was given.</summary>
    /// <param name="result">The parsed command line.</param>
    /// <returns>Whether a fault option is on the command line.</returns>
    public bool AnyGiven(ParseResult result) => All.Any(o => result.GetResult(o) is { Implicit: false });

    /// <summary>The faults of each direction the command line asks for (<see cref="FaultSpec.None"/> where none).</summary>
    /// <param name="result">The parsed command line.</param>
    /// <returns>The faults from the client to the upstream, and back.</returns>
    public (FaultSpec Up, FaultSpec Down) Read(ParseResult result)
    {
        FaultSpec both = result.GetValue(Both) ?? FaultSpec.None;
        return (result.GetValue(Up) ?? both, result.GetValue(Down) ?? both);
    }

    private static Option<FaultSpec?> Create(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "SPEC",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            try
            {
                return FaultSpec.Parse(text);
            }
            catch (FormatException ex)
            {
                result.AddError($"{name}: {ex.Message}");
                return null;
            }
        },
    };
}
