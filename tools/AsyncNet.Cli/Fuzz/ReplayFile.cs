using System.Globalization;
using System.Text;
using AsyncNet.Properties;

namespace AsyncNet.Cli.Fuzz;

/// <summary>
/// A fuzz failure written down so <c>asyncnet fuzz --replay FILE</c> sends the same bytes again, in the same writes
/// with the same pauses: one line per write, <c>write HEX</c>, then <c>pause MS</c> after it if it paused; lines that
/// start with <c>#</c> are comments (what failed, the format, the command that replays it).
/// </summary>
/// <remarks>
/// <code>
/// # asyncnet fuzz: echoed byte 4 (message 0, byte 4 of its 5) is 0x00 instead of 0x7F
/// write 000000017f
/// pause 2
/// write 0a
/// </code>
/// </remarks>
internal static class ReplayFile
{
    /// <summary>Writes a replay file.</summary>
    /// <param name="path">Where.</param>
    /// <param name="writes">The writes, in order.</param>
    /// <param name="comments">Lines to put first, each made a comment.</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, IEnumerable<EchoFuzzWrite> writes, IEnumerable<string> comments)
    {
        var text = new StringBuilder();
        foreach (string comment in comments)
        {
            text.Append("# ").Append(comment.ReplaceLineEndings(" ")).Append('\n');
        }

        foreach (EchoFuzzWrite write in writes)
        {
            text.Append("write ").Append(Convert.ToHexStringLower(write.Bytes)).Append('\n');
            if (write.PauseMs > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"pause {write.PauseMs}\n");
            }
        }

        File.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads a replay file.</summary>
    /// <param name="path">Where.</param>
    /// <returns>The writes, in order.</returns>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="FormatException">A line is neither a comment, nor blank, nor a write or a pause; the message names it.</exception>
    public static IReadOnlyList<EchoFuzzWrite> Load(string path)
    {
        var writes = new List<EchoFuzzWrite>();
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] words = line.Split(' ', 2, StringSplitOptions.TrimEntries);
            string argument = words.Length > 1 ? words[1] : string.Empty;
            if (words[0] == "write" && TryHex(argument, out byte[] bytes) && bytes.Length > 0)
            {
                writes.Add(new EchoFuzzWrite(bytes, 0));
            }
            else if (words[0] == "pause" && writes.Count > 0 && int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out int pause))
            {
                writes[^1] = new EchoFuzzWrite(writes[^1].Bytes, writes[^1].PauseMs + pause);
            }
            else
            {
                throw new FormatException(
                    $"{path}, line {number}: expected 'write HEX' (at least one byte), 'pause MS' after a write, or a '#' comment; got '{line}'.");
            }
        }

        return writes.Count > 0 ? writes : throw new FormatException($"{path} has no 'write HEX' line: nothing to replay.");
    }

    private static bool TryHex(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
