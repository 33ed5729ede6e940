using AsyncNet.Transports;

namespace AsyncNet.Tests.Support;

/// <summary>A transport that does nothing: for components that only name theirs (write flow control's reports).</summary>
internal sealed class QuietTransport : ITransport
{
    public bool IsClosing => false;

    public void Close()
    {
    }

    public object? GetExtraInfo(string name, object? defaultValue = null) => defaultValue;
}
