using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Echo;

/// <summary>The frame layout the framed echo and the load generator's framed mode use unless told otherwise.</summary>
public static class EchoFraming
{
    /// <summary>
    /// A 4-byte big-endian length of the payload, then the payload (<see cref="LengthFieldFormat.Default"/>). It is also
    /// what the shared echo harness's framed scenario sends, so one server serves both.
    /// </summary>
    /// <remarks>
    /// <code>
    /// +-- length: u32 BE --+------ payload ------+
    /// | 00 00 00 40        | 64 bytes            |
    /// +--------------------+---------------------+
    /// </code>
    /// </remarks>
    public static LengthFieldFormat DefaultFormat => LengthFieldFormat.Default;
}
