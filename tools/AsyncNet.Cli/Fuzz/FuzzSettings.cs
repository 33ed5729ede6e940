using System.Globalization;
using AsyncNet.Echo;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Testing.Faults;

namespace AsyncNet.Cli;

/// <summary>What <c>asyncnet fuzz</c> was asked to do: the server, the messages, how much, and the faults on the way.</summary>
public sealed record FuzzSettings
{
    /// <summary>The server's address: an IP literal or a host name. The default is 127.0.0.1.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The server's TCP port. Required.</summary>
    public int Port { get; init; }

    /// <summary>The frame layout, or <see langword="null"/> (the default) for <see cref="EchoFraming.DefaultFormat"/>; ignored with <see cref="MaxLine"/>.</summary>
    public LengthFieldFormat? Format { get; init; }

    /// <summary>To send lines instead of frames, the longest line in bytes before its newline; <see langword="null"/> (the default) sends frames.</summary>
    public int? MaxLine { get; init; }

    /// <summary>The most messages in one case. The default is 8.</summary>
    public int Messages { get; init; } = 8;

    /// <summary>How many cases to run. The default is 500.</summary>
    public int Cases { get; init; } = 500;

    /// <summary>The most time to spend. The default is 30 seconds.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one case may wait for its echo. The default is 5 seconds.</summary>
    public TimeSpan CaseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The random seed. The default is 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>The faults from the fuzzer to the server; not <see cref="FaultSpec.None"/> here or in <see cref="FaultsDown"/> puts a fault proxy between them. The default is none.</summary>
    public FaultSpec FaultsUp { get; init; } = FaultSpec.None;

    /// <summary>The faults from the server back to the fuzzer. The default is none.</summary>
    public FaultSpec FaultsDown { get; init; } = FaultSpec.None;

    /// <summary>Where a failure's replay file goes, or <see langword="null"/> (the default) for asyncnet-fuzz-SEED.replay in the temporary directory.</summary>
    public string? SavePath { get; init; }

    /// <summary>The command-line options that choose these messages: " --lines --max-line N", " --format SPEC", or nothing for the default frames.</summary>
    /// <returns>The options, each with a leading space.</returns>
    internal string FormatArguments() => MaxLine is { } maxLine
        ? string.Create(CultureInfo.InvariantCulture, $" --lines --max-line {maxLine}")
        : Format is { } format && FrameFormatText.Format(format) is var spec && spec != FrameFormatText.Format(EchoFraming.DefaultFormat)
            ? $" --format \"{spec}\""
            : string.Empty;

    /// <summary>The command-line options that ask for these faults, or nothing when there are none.</summary>
    /// <returns>The options, each with a leading space.</returns>
    internal string FaultArguments() => (FaultsUp == FaultSpec.None ? string.Empty : $" --fault-up \"{FaultsUp}\"")
        + (FaultsDown == FaultSpec.None ? string.Empty : $" --fault-down \"{FaultsDown}\"");
}
