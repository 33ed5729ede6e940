using System.Globalization;

namespace AsyncNet.Cli;

/// <summary>
/// The options of one command, parsed: <c>--name value</c>, <c>--name=value</c> and <c>--flag</c>. Anything else (an
/// unknown option, a missing value, a repeated option, a stray argument) is a <see cref="UsageException"/> whose message
/// names the command and the option.
/// </summary>
/// <remarks>
/// Values are read with typed getters that check ranges and say what was expected:
/// "bench: --port must be a whole number from 1 to 65535 (got 'x')".
/// </remarks>
public sealed class CommandLine
{
    private readonly string _command;
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private CommandLine(string command) => _command = command;

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <param name="command">The command's name, for messages.</param>
    /// <param name="args">The arguments after the command's name.</param>
    /// <param name="valueOptions">The options that take a value, without the leading <c>--</c>.</param>
    /// <param name="flags">The options that take none.</param>
    /// <returns>The parsed options.</returns>
    /// <exception cref="UsageException">An argument is not one of the options, lacks its value, or repeats.</exception>
    public static CommandLine Parse(string command, IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flags)
    {
        var parsed = new CommandLine(command);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new UsageException($"{command}: unexpected argument '{arg}'");
            }

            string name = arg[2..];
            string? value = null;
            int equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }

            if (flags.Contains(name))
            {
                if (value is not null)
                {
                    throw new UsageException($"{command}: --{name} takes no value");
                }

                if (!parsed._flags.Add(name))
                {
                    throw new UsageException($"{command}: --{name} given twice");
                }

                continue;
            }

            if (!valueOptions.Contains(name))
            {
                throw new UsageException($"{command}: unknown option '--{name}'");
            }

            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new UsageException($"{command}: --{name} needs a value");
                }

                value = args[++i];
            }

            if (!parsed._values.TryAdd(name, value))
            {
                throw new UsageException($"{command}: --{name} given twice");
            }
        }

        return parsed;
    }

    /// <summary>Whether the flag was given.</summary>
    /// <param name="flag">The flag, without <c>--</c>.</param>
    /// <returns><see langword="true"/> if it was.</returns>
    public bool Has(string flag) => _flags.Contains(flag);

    /// <summary>The option's value, or <paramref name="fallback"/>.</summary>
    /// <param name="name">The option, without <c>--</c>.</param>
    /// <param name="fallback">The value when the option is absent.</param>
    /// <returns>The value.</returns>
    /// <exception cref="UsageException">The value is empty.</exception>
    public string GetString(string name, string fallback)
    {
        if (!_values.TryGetValue(name, out string? value))
        {
            return fallback;
        }

        return value.Length > 0 ? value : throw new UsageException($"{_command}: --{name} needs a non-empty value");
    }

    /// <summary>The option's value as a whole number within a range.</summary>
    /// <param name="name">The option, without <c>--</c>.</param>
    /// <param name="fallback">The value when the option is absent; <see langword="null"/> makes the option required.</param>
    /// <param name="min">The smallest value accepted.</param>
    /// <param name="max">The largest value accepted.</param>
    /// <returns>The value.</returns>
    /// <exception cref="UsageException">The option is required and absent, or its value is not a whole number in range.</exception>
    public int GetInt32(string name, int? fallback, int min, int max)
    {
        if (!_values.TryGetValue(name, out string? text))
        {
            return fallback ?? throw new UsageException($"{_command}: --{name} is required");
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{_command}: --{name} must be a whole number from {min} to {max} (got '{text}')");
    }

    /// <summary>The option's value as a number of seconds within a range (fractions allowed: <c>0.5</c>).</summary>
    /// <param name="name">The option, without <c>--</c>.</param>
    /// <param name="fallback">The value when the option is absent.</param>
    /// <param name="min">The smallest value accepted, in seconds.</param>
    /// <param name="max">The largest value accepted, in seconds.</param>
    /// <returns>The value.</returns>
    /// <exception cref="UsageException">The value is not a number in range.</exception>
    public TimeSpan GetSeconds(string name, double fallback, double min, double max)
    {
        if (!_values.TryGetValue(name, out string? text))
        {
            return TimeSpan.FromSeconds(fallback);
        }

        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) && value >= min && value <= max
            ? TimeSpan.FromSeconds(value)
            : throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{_command}: --{name} must be a number of seconds from {min} to {max} (got '{text}')"));
    }
}

/// <summary>Bad command-line arguments; the message says which. <c>Program</c> prints it with the usage and exits with 2.</summary>
public sealed class UsageException(string message) : Exception(message);
