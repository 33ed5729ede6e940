// The text form of a FaultSpec, for command lines and test names: "latency=50ms,jitter=10ms", "bandwidth=64KiB/s".
//
// Maintainer's overview
// - Parse reads comma-separated items, each a key from s_keys (a value after '=', or a bare flag); keys are
//   case-insensitive and may appear once. The result is validated as FaultProxy.SetFaults validates it, and every
//   failure is a FormatException naming the item.
// - ToString writes the canonical form: the set items in s_keys' order, durations in the largest unit that keeps them
//   exact (s, ms, us), sizes likewise (GiB, MiB, KiB, bytes). Parse(spec.ToString()) == spec for every valid spec.

using System.Globalization;
using System.Text;

namespace AsyncNet.Testing.Faults;

public sealed partial record FaultSpec
{
    private const string NoneText = "none";

    // The keys in canonical order.
    private static readonly string[] s_keys =
        ["latency", "jitter", "bandwidth", "slice", "slice-variation", "slice-delay", "blackhole", "reset-after", "close-after", "half-close-after"];

    private static readonly (string Suffix, long Ticks)[] s_durationUnits =
        [("us", TimeSpan.TicksPerMicrosecond), ("µs", TimeSpan.TicksPerMicrosecond), ("ms", TimeSpan.TicksPerMillisecond), ("s", TimeSpan.TicksPerSecond)];

    // Longest suffix first, so "KiB" is not taken for "B".
    private static readonly (string Suffix, long Bytes)[] s_sizeUnits = [("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("B", 1)];

    /// <summary>Reads a fault description such as <c>latency=50ms,jitter=10ms</c> or <c>slice=16,slice-delay=1ms</c>.</summary>
    /// <param name="text">
    /// Comma-separated items, spaces around them ignored; <c>none</c> or an empty string for <see cref="None"/>. Items:
    /// <c>latency=</c>, <c>jitter=</c>, <c>slice-delay=</c> take a duration with a unit (<c>us</c>, <c>ms</c>,
    /// <c>s</c>; decimals allowed, <c>0</c> needs none); <c>bandwidth=</c> takes bytes per second (a trailing
    /// <c>/s</c> is optional); <c>slice=</c>, <c>slice-variation=</c>, <c>reset-after=</c>, <c>close-after=</c>,
    /// <c>half-close-after=</c> take a byte count; sizes may end in <c>B</c>, <c>KiB</c>, <c>MiB</c> or <c>GiB</c>;
    /// <c>blackhole</c> is a bare flag. Keys are case-insensitive and may appear once each.
    /// </param>
    /// <returns>The faults, validated as <see cref="FaultProxy.SetFaults(FaultDirection, FaultSpec)"/> requires.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="FormatException">An item is unknown, repeated or malformed, or the items contradict each other; the message names it.</exception>
    public static FaultSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Read(text, out string? error) ?? throw new FormatException(error);
    }

    /// <summary>Reads a fault description as <see cref="Parse"/> does, without throwing.</summary>
    /// <param name="text">The description; <see langword="null"/> fails.</param>
    /// <param name="spec">The faults, or <see langword="null"/> when the text is not valid.</param>
    /// <returns>Whether the text was valid.</returns>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FaultSpec? spec)
    {
        spec = text is null ? null : Read(text, out _);
        return spec is not null;
    }

    /// <summary>The canonical text form, which <see cref="Parse"/> reads back to an equal spec.</summary>
    /// <returns>For example "latency=50ms,jitter=10ms" or "none".</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        AddDuration(text, "latency", Latency);
        AddDuration(text, "jitter", Jitter);
        if (BandwidthBytesPerSecond is long rate)
        {
            Add(text, "bandwidth", FormatSize(rate) + "/s");
        }

        if (SliceSize is int size)
        {
            Add(text, "slice", FormatSize(size));
        }

        if (SliceVariation != 0)
        {
            Add(text, "slice-variation", FormatSize(SliceVariation));
        }

        AddDuration(text, "slice-delay", SliceDelay);
        if (Blackhole)
        {
            Add(text, "blackhole", null);
        }

        AddSize(text, "reset-after", ResetAfterBytes);
        AddSize(text, "close-after", CloseAfterBytes);
        AddSize(text, "half-close-after", HalfCloseAfterBytes);
        return text.Length == 0 ? NoneText : text.ToString();
    }

    private static FaultSpec? Read(string text, out string? error)
    {
        string trimmed = text.Trim();
        if (trimmed.Length == 0 || trimmed.Equals(NoneText, StringComparison.OrdinalIgnoreCase))
        {
            error = null;
            return None;
        }

        var spec = new FaultSpec();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string rawItem in trimmed.Split(','))
        {
            string item = rawItem.Trim();
            int equals = item.IndexOf('=', StringComparison.Ordinal);
            string key = (equals < 0 ? item : item[..equals]).Trim().ToLowerInvariant();
            string? value = equals < 0 ? null : item[(equals + 1)..].Trim();
            if (Array.IndexOf(s_keys, key) < 0)
            {
                error = $"Fault item \"{item}\" is not known; expected one of {string.Join(", ", s_keys)} (or \"{NoneText}\").";
                return null;
            }

            if (!seen.Add(key))
            {
                error = $"Fault item \"{key}\" is given twice in \"{text}\".";
                return null;
            }

            spec = With(spec, key, value, out error);
            if (spec is null)
            {
                error = $"Fault item \"{item}\": {error}";
                return null;
            }
        }

        try
        {
            spec.Validate(parameterName: null);
        }
        catch (ArgumentException ex)
        {
            error = $"Fault description \"{text}\" is not valid: {ex.Message}";
            return null;
        }

        error = null;
        return spec;
    }

    /// <summary>The spec with one item applied, or null with the reason.</summary>
    private static FaultSpec? With(FaultSpec spec, string key, string? value, out string? error)
    {
        error = null;
        if (key == "blackhole")
        {
            if (value is not null)
            {
                error = "blackhole is a flag and takes no value.";
                return null;
            }

            return spec with { Blackhole = true };
        }

        if (string.IsNullOrEmpty(value))
        {
            error = "a value is needed after '='.";
            return null;
        }

        switch (key)
        {
            case "latency" or "jitter" or "slice-delay":
                if (!TryParseDuration(value, out TimeSpan duration))
                {
                    error = "expected a duration such as 50ms, 1.5s or 250us.";
                    return null;
                }

                return key switch
                {
                    "latency" => spec with { Latency = duration },
                    "jitter" => spec with { Jitter = duration },
                    _ => spec with { SliceDelay = duration },
                };

            case "bandwidth":
                string perSecond = value.EndsWith("/s", StringComparison.OrdinalIgnoreCase) ? value[..^2] : value;
                if (!TryParseSize(perSecond, out long rate))
                {
                    error = "expected bytes per second such as 65536, 64KiB or 1MiB/s.";
                    return null;
                }

                return spec with { BandwidthBytesPerSecond = rate };

            default:
                if (!TryParseSize(value, out long bytes) || (key is "slice" or "slice-variation" && bytes > int.MaxValue))
                {
                    error = "expected a byte count such as 100, 16KiB or 1MiB.";
                    return null;
                }

                return key switch
                {
                    "slice" => spec with { SliceSize = (int)bytes },
                    "slice-variation" => spec with { SliceVariation = (int)bytes },
                    "reset-after" => spec with { ResetAfterBytes = bytes },
                    "close-after" => spec with { CloseAfterBytes = bytes },
                    _ => spec with { HalfCloseAfterBytes = bytes },
                };
        }
    }

    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (text == "0")
        {
            return true;
        }

        foreach ((string suffix, long ticks) in s_durationUnits)
        {
            // "us" is tested before "s", so "250us" is never read as 250u seconds.
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && decimal.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal amount))
            {
                decimal total = Math.Round(amount * ticks);
                if (total > TimeSpan.MaxValue.Ticks)
                {
                    return false;
                }

                duration = TimeSpan.FromTicks((long)total);
                return true;
            }
        }

        return false;
    }

    private static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        long unit = 1;
        ReadOnlySpan<char> digits = text;
        foreach ((string suffix, long size) in s_sizeUnits)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                unit = size;
                digits = text.AsSpan(0, text.Length - suffix.Length).Trim();
                break;
            }
        }

        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long count) || count > long.MaxValue / unit)
        {
            return false;
        }

        bytes = count * unit;
        return true;
    }

    private static string FormatSize(long bytes)
    {
        foreach ((string suffix, long size) in s_sizeUnits)
        {
            if (size > 1 && bytes >= size && bytes % size == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / size}{suffix}");
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    private static string FormatDuration(TimeSpan duration)
    {
        long ticks = duration.Ticks;
        return ticks % TimeSpan.TicksPerSecond == 0 ? string.Create(CultureInfo.InvariantCulture, $"{ticks / TimeSpan.TicksPerSecond}s")
            : ticks % TimeSpan.TicksPerMillisecond == 0 ? string.Create(CultureInfo.InvariantCulture, $"{ticks / TimeSpan.TicksPerMillisecond}ms")
            : string.Create(CultureInfo.InvariantCulture, $"{(decimal)ticks / TimeSpan.TicksPerMicrosecond}us");
    }

    private static void AddDuration(StringBuilder text, string key, TimeSpan duration)
    {
        if (duration != TimeSpan.Zero)
        {
            Add(text, key, FormatDuration(duration));
        }
    }

    private static void AddSize(StringBuilder text, string key, long? bytes)
    {
        if (bytes is long value)
        {
            Add(text, key, FormatSize(value));
        }
    }

    private static void Add(StringBuilder text, string key, string? value)
    {
        if (text.Length > 0)
        {
            text.Append(',');
        }

        text.Append(key);
        if (value is not null)
        {
            text.Append('=').Append(value);
        }
    }
}
