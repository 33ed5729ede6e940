// The text form of a LengthFieldFormat, for command lines: "offset=1,length=4,type=1,adjust=-4,checksum=crc32c".
//
// Maintainer's overview
// - Parse reads comma-separated items, each a key of s_keys with a value after '=' (discard-oversized is a bare flag);
//   keys are case-insensitive and may appear once; a key left out keeps LengthFieldFormat's own default. The format's
//   constructor checks the combination; every failure is a FormatException naming the item or the whole text.
// - Format writes the canonical form: only the items that differ from the defaults, in s_keys' order, sizes in the
//   largest unit that keeps them exact. Parse(Format(f)) describes the same layout as f, for every format.

using System.Globalization;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Echo;

/// <summary>
/// Reads and writes a <see cref="LengthFieldFormat"/> as one line of text, e.g.
/// <c>offset=1,length=4,type=1,adjust=-4,checksum=crc32c,max=64KiB</c> (a 1-byte type, then a 4-byte big-endian length
/// that counts itself and the payload, a CRC-32C trailer, frames up to 64 KiB).
/// </summary>
public static class FrameFormatText
{
    /// <summary>The text of <see cref="LengthFieldFormat.Default"/>.</summary>
    public const string DefaultText = "default";

    /// <summary>Every key, in canonical order, for help texts.</summary>
    public const string Keys = "offset, length, order, adjust, strip, max, type, type-offset, checksum, coverage, discard-oversized";

    private static readonly string[] s_keys = Keys.Split(", ");

    // Longest suffix first, so "KiB" is not taken for "B".
    private static readonly (string Suffix, long Bytes)[] s_sizeUnits = [("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("B", 1)];

    /// <summary>Reads a frame layout such as <c>length=2,order=le,max=4KiB</c>.</summary>
    /// <param name="text">
    /// Comma-separated items, spaces around them ignored; <c>default</c> or an empty string for
    /// <see cref="LengthFieldFormat.Default"/>. Items (each optional; the default in brackets):
    /// <c>offset=N</c> where the length field starts [0];
    /// <c>length=1|2|3|4|8|varint</c> its size in bytes [4];
    /// <c>order=be|le</c> the byte order of the length, the type and the checksum [be];
    /// <c>adjust=N</c> added to the length field's value to find the bytes after it, negative when it counts the header [0];
    /// <c>strip=N|header</c> the bytes a decoder drops from a frame's start [header];
    /// <c>max=SIZE</c> the largest whole frame, in bytes or with <c>B</c>, <c>KiB</c>, <c>MiB</c>, <c>GiB</c> [8MiB];
    /// <c>type=0..4</c> the type field's size, 0 for none [0];
    /// <c>type-offset=N</c> where the type field starts [0];
    /// <c>checksum=none|crc32|crc32c</c> a 4-byte trailer [none];
    /// <c>coverage=frame|after-length|payload</c> what the checksum covers [frame];
    /// <c>discard-oversized</c> skip an oversized frame instead of stopping [off].
    /// </param>
    /// <returns>The format.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="FormatException">An item is unknown, repeated or malformed, or the items contradict each other; the message says which.</exception>
    public static LengthFieldFormat Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Read(text, out string? error) ?? throw new FormatException(error);
    }

    /// <summary>Reads a frame layout as <see cref="Parse"/> does, without throwing.</summary>
    /// <param name="text">The text; <see langword="null"/> fails.</param>
    /// <param name="format">The format, or <see langword="null"/> when the text is not valid.</param>
    /// <param name="error">Why the text is not valid, or <see langword="null"/>.</param>
    /// <returns>Whether the text was valid.</returns>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LengthFieldFormat? format, out string? error)
    {
        if (text is null)
        {
            (format, error) = (null, "No frame format was given.");
            return false;
        }

        format = Read(text, out error);
        return format is not null;
    }

    /// <summary>Writes a format's canonical text, which <see cref="Parse"/> reads back to the same layout.</summary>
    /// <param name="format">The format.</param>
    /// <returns>For example "offset=1,type=1,adjust=-4,checksum=crc32c", or "default".</returns>
    /// <exception cref="ArgumentNullException"><paramref name="format"/> is null.</exception>
    public static string Format(LengthFieldFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        LengthFieldFormat defaults = LengthFieldFormat.Default;

        // Each item in canonical order, or null where the format keeps the default.
        string?[] items =
        [
            Differs("offset", format.LengthFieldOffset, defaults.LengthFieldOffset),
            format.LengthFieldSize == defaults.LengthFieldSize ? null : "length=" + (format.IsVarint ? "varint" : Invariant(format.LengthFieldSize)),
            format.ByteOrder == defaults.ByteOrder ? null : "order=" + (format.ByteOrder == ByteOrder.BigEndian ? "be" : "le"),
            Differs("adjust", format.LengthAdjustment, defaults.LengthAdjustment),
            format.InitialBytesToStrip is int strip ? "strip=" + Invariant(strip) : null,
            format.MaxFrameLength == defaults.MaxFrameLength ? null : "max=" + FormatSize(format.MaxFrameLength),
            Differs("type", format.TypeFieldSize, defaults.TypeFieldSize),
            Differs("type-offset", format.TypeFieldOffset, defaults.TypeFieldOffset),
            format.Checksum == ChecksumAlgorithm.None ? null : "checksum=" + (format.Checksum == ChecksumAlgorithm.Crc32 ? "crc32" : "crc32c"),
            format.ChecksumCoverage == defaults.ChecksumCoverage ? null
                : "coverage=" + (format.ChecksumCoverage == ChecksumCoverage.AfterLengthField ? "after-length" : "payload"),
            format.DiscardOversizedFrames ? "discard-oversized" : null,
        ];
        string text = string.Join(',', items.OfType<string>());
        return text.Length == 0 ? DefaultText : text;
    }

    private static LengthFieldFormat? Read(string text, out string? error)
    {
        string trimmed = text.Trim();
        error = null;
        if (trimmed.Length == 0 || trimmed.Equals(DefaultText, StringComparison.OrdinalIgnoreCase))
        {
            return LengthFieldFormat.Default;
        }

        var items = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (string rawItem in trimmed.Split(','))
        {
            string item = rawItem.Trim();
            int equals = item.IndexOf('=', StringComparison.Ordinal);
            string key = (equals < 0 ? item : item[..equals]).Trim().ToLowerInvariant();
            string? value = equals < 0 ? null : item[(equals + 1)..].Trim().ToLowerInvariant();
            if (Array.IndexOf(s_keys, key) < 0)
            {
                error = $"Frame format item \"{item}\" is not known; expected one of {Keys} (or \"{DefaultText}\").";
                return null;
            }

            if (!items.TryAdd(key, value))
            {
                error = $"Frame format item \"{key}\" is given twice in \"{text}\".";
                return null;
            }

            if ((key == "discard-oversized") != (value is null) || value is "")
            {
                error = key == "discard-oversized"
                    ? "Frame format item \"discard-oversized\" is a flag and takes no value."
                    : $"Frame format item \"{item}\": a value is needed after '='.";
                return null;
            }
        }

        try
        {
            return new LengthFieldFormat(
                lengthFieldOffset: Number(items, "offset", 0),
                lengthFieldSize: items.GetValueOrDefault("length") == "varint" ? LengthFieldFormat.Varint : Number(items, "length", 4),
                byteOrder: Choice(items, "order", ByteOrder.BigEndian, ("be", ByteOrder.BigEndian), ("le", ByteOrder.LittleEndian)),
                lengthAdjustment: Number(items, "adjust", 0),
                initialBytesToStrip: items.GetValueOrDefault("strip") is null or "header" ? null : Number(items, "strip", 0),
                maxFrameLength: Size(items, "max", LengthFieldFormat.DefaultMaxFrameLength),
                typeFieldOffset: Number(items, "type-offset", 0),
                typeFieldSize: Number(items, "type", 0),
                checksum: Choice(items, "checksum", ChecksumAlgorithm.None, ("none", ChecksumAlgorithm.None), ("crc32", ChecksumAlgorithm.Crc32), ("crc32c", ChecksumAlgorithm.Crc32C)),
                checksumCoverage: Choice(items, "coverage", ChecksumCoverage.Frame,
                    ("frame", ChecksumCoverage.Frame), ("after-length", ChecksumCoverage.AfterLengthField), ("payload", ChecksumCoverage.Payload)),
                discardOversizedFrames: items.ContainsKey("discard-oversized"));
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
        catch (ArgumentException ex)
        {
            // The constructor's message names the contradiction; its parameter suffix names C# arguments, not items.
            error = $"Frame format \"{text}\" is not valid: {ex.Message.Split(" (Parameter ")[0]}";
            return null;
        }
    }

    private static int Number(Dictionary<string, string?> items, string key, int absent)
    {
        if (items.GetValueOrDefault(key) is not { } value)
        {
            return absent;
        }

        return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number)
            ? number
            : throw new FormatException($"Frame format item \"{key}={value}\": expected a whole number{(key == "length" ? " or varint" : key == "strip" ? " or header" : string.Empty)}.");
    }

    private static T Choice<T>(Dictionary<string, string?> items, string key, T absent, params (string Name, T Value)[] choices)
    {
        if (items.GetValueOrDefault(key) is not { } value)
        {
            return absent;
        }

        foreach ((string name, T choice) in choices)
        {
            if (name == value)
            {
                return choice;
            }
        }

        throw new FormatException($"Frame format item \"{key}={value}\": expected one of {string.Join(", ", choices.Select(c => c.Name))}.");
    }

    private static long Size(Dictionary<string, string?> items, string key, long absent)
    {
        if (items.GetValueOrDefault(key) is not { } value)
        {
            return absent;
        }

        long unit = 1;
        string digits = value;
        foreach ((string suffix, long size) in s_sizeUnits)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                unit = size;
                digits = value[..^suffix.Length].Trim();
                break;
            }
        }

        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long count) && count <= long.MaxValue / unit
            ? count * unit
            : throw new FormatException($"Frame format item \"{key}={value}\": expected a byte count such as 65536, 64KiB or 8MiB.");
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

        return Invariant(bytes);
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? Differs(string key, int value, int absent) => value == absent ? null : $"{key}={Invariant(value)}";
}
