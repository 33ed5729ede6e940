using System.Text;

namespace AsyncNet.Testing.Tests.Support;

internal static class Bytes
{
    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static string Text(byte[] bytes) => Encoding.ASCII.GetString(bytes);
}
