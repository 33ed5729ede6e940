using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using AsyncNet.Echo;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Cli;

/// <summary>
/// The typed options the verbs share, each checking its range while the command line is parsed, so a bad value is a
/// parse error (exit code 2) whose message names the option, the range and the value:
/// "--port must be a whole number from 1 to 65535 (got 'http')".
/// </summary>
internal static class ValueOptions
{
    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    /// <param name="name">The option's name, with its dashes.</param>
    /// <param name="description">What it sets, for the help.</param>
    /// <param name="min">The smallest value accepted.</param>
    /// <param name="max">The largest value accepted.</param>
    /// <param name="defaultValue">The value when the option is absent; <see langword="null"/> makes it required.</param>
    /// <returns>The option.</returns>
    public static Option<int> WholeNumber(string name, string description, int min, int max, int? defaultValue)
    {
        var option = new Option<int>(name)
        {
            Description = description,
            Required = defaultValue is null,
            CustomParser = result => ParseOrError<int>(
                result,
                text => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max ? value : (int?)null,
                $"{name} must be a whole number from {min} to {max}"),
        };
        if (defaultValue is int fallback)
        {
            option.DefaultValueFactory = _ => fallback;
        }

        return option;
    }

    /// <summary>A number of seconds from <paramref name="min"/> to <paramref name="max"/>; fractions are allowed (<c>0.5</c>).</summary>
    /// <param name="name">The option's name, with its dashes.</param>
    /// <param name="description">What it sets, for the help.</param>
    /// <param name="min">The smallest value accepted, in seconds.</param>
    /// <param name="max">The largest value accepted, in seconds.</param>
    /// <param name="defaultValue">The value when the option is absent, in seconds.</param>
    /// <returns>The option; its value is in seconds.</returns>
    public static Option<double> Seconds(string name, string description, double min, double max, double defaultValue) => new(name)
    {
        Description = description,
        HelpName = "seconds",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseOrError<double>(
            result,
            text => double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) && value >= min && value <= max ? value : (double?)null,
            string.Create(CultureInfo.InvariantCulture, $"{name} must be a number of seconds from {min} to {max}")),
    };

    /// <summary>The host to listen on or connect to: an IP literal or a name. The default is 127.0.0.1.</summary>
    /// <param name="description">What the host is, for the help.</param>
    /// <returns>The option.</returns>
    public static Option<string> Host(string description)
    {
        var option = new Option<string>("--host") { Description = description, DefaultValueFactory = _ => "127.0.0.1" };
        option.Validators.Add(result =>
        {
            if (string.IsNullOrEmpty(result.GetValueOrDefault<string>()))
            {
                result.AddError("--host needs a non-empty value");
            }
        });
        return option;
    }

    /// <summary>The TCP port: 1 to 65535 and required when connecting, 0 to 65535 with 0 by default when listening.</summary>
    /// <param name="listening">Whether the port is listened on (0 lets the OS choose).</param>
    /// <returns>The option.</returns>
    public static Option<int> Port(bool listening) => listening
        ? WholeNumber("--port", "The TCP port to listen on; 0 lets the OS choose (the listening line says which).", 0, 65535, 0)
        : WholeNumber("--port", "The server's TCP port.", 1, 65535, null);

    /// <summary>An echo server kind: any of <see cref="EchoServerKinds.Names"/>, or only AsyncNet's (which run on loops).</summary>
    /// <param name="name">The option's name, with its dashes.</param>
    /// <param name="description">What it chooses, for the help.</param>
    /// <param name="onLoopsOnly">Whether only the kinds that run on event loops (raw, stream, framed) are accepted.</param>
    /// <returns>The option; its value is the kind, <see cref="EchoServerKind.Protocol"/> (raw) when absent (the help says so in words, not as an enum name).</returns>
    public static Option<EchoServerKind> EchoKind(string name, string description, bool onLoopsOnly)
    {
        string names = onLoopsOnly ? "raw (or protocol), stream, zerocopy, framed" : EchoServerKinds.Names;
        var option = new Option<EchoServerKind>(name)
        {
            Description = description,
            HelpName = "kind",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (EchoServerKinds.TryParse(text, out EchoServerKind kind) && (!onLoopsOnly || kind.RunsOnLoops()))
                {
                    return kind;
                }

                result.AddError($"{name} must be one of {names} (got '{text}')");
                return default;
            },
        };
        option.CompletionSources.Add(onLoopsOnly ? ["raw", "stream", "zerocopy", "framed"] : ["raw", "stream", "zerocopy", "framed", "socket", "pipelines"]);
        return option;
    }

    /// <summary>How a server on several loops spreads its connections over them: <c>auto</c> (the default), <c>reuseport</c>, <c>round-robin</c>, <c>least-connections</c>.</summary>
    /// <param name="name">The option's name, with its dashes.</param>
    /// <returns>The option; its value is <see cref="AcceptDistribution.Auto"/> when absent.</returns>
    public static Option<AcceptDistribution> Distribution(string name) => new(name)
    {
        Description = "How connections spread over the loops: reuseport (one SO_REUSEPORT listener per loop, Linux; the kernel balances by a hash), " +
            "round-robin (one loop accepts and hands connections out in turn: exactly even), least-connections (to the loop with the fewest open); " +
            "auto (the default): reuseport on Linux with more than one loop, else round-robin.",
        HelpName = "auto|reuseport|round-robin|least-connections",
        CustomParser = result => ParseOrError<AcceptDistribution>(
            result,
            text => text switch
            {
                "auto" => AcceptDistribution.Auto,
                "reuseport" => AcceptDistribution.ReusePort,
                "round-robin" => AcceptDistribution.RoundRobin,
                "least-connections" => AcceptDistribution.LeastConnections,
                _ => null,
            },
            $"{name} must be one of auto, reuseport, round-robin, least-connections"),
    };

    /// <summary>The command line's name of a distribution, as <see cref="Distribution"/> reads it.</summary>
    /// <param name="distribution">The distribution.</param>
    /// <returns>For example "round-robin".</returns>
    public static string NameOf(AcceptDistribution distribution) => distribution switch
    {
        AcceptDistribution.ReusePort => "reuseport",
        AcceptDistribution.RoundRobin => "round-robin",
        AcceptDistribution.LeastConnections => "least-connections",
        _ => "auto",
    };

    /// <summary>A frame layout in <see cref="FrameFormatText"/>'s form, checked while parsing.</summary>
    /// <param name="description">What the layout is for, for the help.</param>
    /// <returns>The option; <see langword="null"/> when absent.</returns>
    public static Option<LengthFieldFormat?> FrameFormat(string description) => new("--format")
    {
        Description = $"{description} Comma-separated items, each optional: {FrameFormatText.Keys}; e.g. \"offset=1,length=4,type=1,adjust=-4,checksum=crc32c,max=64KiB\". The default is a 4-byte big-endian length of the payload, then the payload.",
        HelpName = "spec",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            if (FrameFormatText.TryParse(text, out LengthFieldFormat? format, out string? error))
            {
                return format;
            }

            result.AddError($"--format: {error}");
            return null;
        },
    };

    private static T ParseOrError<T>(ArgumentResult result, Func<string, T?> parse, string problem)
        where T : struct
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (parse(text) is T value)
        {
            return value;
        }

        result.AddError($"{problem} (got '{text}')");
        return default;
    }
}
