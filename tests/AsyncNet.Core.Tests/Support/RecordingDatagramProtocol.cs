using System.Net;
using System.Threading.Channels;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Support;

/// <summary>A datagram protocol that records every callback in order and hands datagrams and errors to awaiting test code.</summary>
internal sealed class RecordingDatagramProtocol : IDatagramProtocol
{
    private readonly Channel<(byte[] Data, EndPoint From)> _datagrams = Channel.CreateUnbounded<(byte[], EndPoint)>();
    private readonly Channel<Exception> _errors = Channel.CreateUnbounded<Exception>();
    private readonly TaskCompletionSource<Exception?> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Every callback, in order: "made", "datagram", "error", "pause", "resume", "lost".</summary>
    public List<string> Events { get; } = [];

    public ITransport? Transport { get; private set; }

    public int LostCount { get; private set; }

    /// <summary>Echo each datagram back to its sender.</summary>
    public bool Echo { get; init; }

    /// <summary>Completes with ConnectionLost's argument.</summary>
    public Task<Exception?> Lost => _lost.Task;

    public void ConnectionMade(ITransport transport)
    {
        Events.Add("made");
        Transport = transport;
    }

    public void DatagramReceived(ReadOnlySpan<byte> data, EndPoint from)
    {
        Events.Add("datagram");
        if (Echo)
        {
            ((IDatagramTransport)Transport!).SendTo(data, from);
        }

        _datagrams.Writer.TryWrite((data.ToArray(), from));
    }

    public void ErrorReceived(Exception exception)
    {
        Events.Add("error");
        _errors.Writer.TryWrite(exception);
    }

    public void PauseWriting() => Events.Add("pause");

    public void ResumeWriting() => Events.Add("resume");

    public void ConnectionLost(Exception? exception)
    {
        Events.Add("lost");
        LostCount++;
        _lost.TrySetResult(exception);
    }

    public async Task<(byte[] Data, EndPoint From)> NextDatagramAsync() =>
        await _datagrams.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    public async Task<Exception> NextErrorAsync() =>
        await _errors.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    public bool TryTakeError([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Exception? error) => _errors.Reader.TryRead(out error);

    public bool TryTakeDatagram(out (byte[] Data, EndPoint From) datagram) => _datagrams.Reader.TryRead(out datagram);
}
