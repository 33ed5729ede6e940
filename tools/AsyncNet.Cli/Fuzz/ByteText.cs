using System.Text;

namespace AsyncNet.Cli.Fuzz;

/// <summary>Bytes as text a user reads or pastes into a shell.</summary>
internal static class ByteText
{
    /// <summary>Bytes as a quoted string: printable ASCII as is, <c>\r \n \t \" \\</c>, any other byte as <c>\xHH</c>.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>For example <c>"GET /\r\n"</c>.</returns>
    public static string Quote(byte[] bytes)
    {
        var text = new StringBuilder("\"");
        foreach (byte b in bytes)
        {
            text.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 32 and < 127 => ((char)b).ToString(),
                _ => $"\\x{b:X2}",
            });
        }

        return text.Append('"').ToString();
    }

    /// <summary>
    /// Bytes as a POSIX <c>printf</c> format in single quotes that prints exactly them: letters, digits and harmless
    /// punctuation as is, every other byte (the quote, <c>%</c> and <c>\</c> among them) as a 3-digit octal escape.
    /// </summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>For example <c>'GET /\015\012'</c>.</returns>
    public static string PrintfFormat(IEnumerable<byte> bytes)
    {
        var text = new StringBuilder("'");
        foreach (byte b in bytes)
        {
            if (b is >= 32 and < 127 && b is not ((byte)'\'' or (byte)'%' or (byte)'\\'))
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
            }
        }

        return text.Append('\'').ToString();
    }
}
