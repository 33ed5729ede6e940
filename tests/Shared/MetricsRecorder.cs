using System.Diagnostics.Metrics;
using AsyncNet.Diagnostics;
using AsyncNet.Loop;

namespace AsyncNet.Tests.Shared;

/// <summary>
/// Listens to the "AsyncNet" meter and keeps what one loop recorded: measurements made while that loop runs on the
/// recording thread, or (for loops stepped by hand) made on the thread that created the recorder while no loop runs
/// there. Tests run in parallel, and other tests' loops record on their own threads.
/// </summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly EventLoop _loop;
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private readonly List<Recorded> _recorded = [];

    public MetricsRecorder(EventLoop loop)
    {
        _loop = loop;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == AsyncNetMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Every measurement of <paramref name="instrument"/> kept so far, in order.</summary>
    public IReadOnlyList<Recorded> Of(string instrument)
    {
        lock (_recorded)
        {
            return _recorded.Where(r => r.Instrument == instrument).ToList();
        }
    }

    /// <summary>The sum of <paramref name="instrument"/>'s measurements whose tags include every one of <paramref name="tags"/>.</summary>
    public double Sum(string instrument, params (string Key, string Value)[] tags) =>
        Of(instrument).Where(r => tags.All(t => r.Tags.TryGetValue(t.Key, out string? v) && v == t.Value)).Sum(r => r.Value);

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        EventLoop? current = EventLoop.Current;
        if (current != _loop && (current is not null || Environment.CurrentManagedThreadId != _thread))
        {
            return;
        }

        var copy = new Dictionary<string, string?>();
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            copy[tag.Key] = tag.Value?.ToString();
        }

        lock (_recorded)
        {
            _recorded.Add(new Recorded(instrument.Name, value, copy));
        }
    }

    /// <summary>One measurement: the instrument's name, the value and the tags.</summary>
    public sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, string?> Tags);
}
