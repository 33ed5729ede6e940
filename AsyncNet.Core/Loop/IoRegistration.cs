using AsyncNet.Selectors;

namespace AsyncNet.Loop;

/// <summary>The loop's record of one watched descriptor: the selector key's data.</summary>
/// <remarks>Invariant: registered in the selector exactly while <see cref="Reader"/> or <see cref="Writer"/> is set.</remarks>
internal sealed class IoRegistration(int fd)
{
    public int Fd { get; } = fd;

    public Handle? Reader { get; set; }

    public Handle? Writer { get; set; }

    public SelectorEvents Interest =>
        (Reader is null ? SelectorEvents.None : SelectorEvents.Read) | (Writer is null ? SelectorEvents.None : SelectorEvents.Write);
}
