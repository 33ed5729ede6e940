using System.Diagnostics.Tracing;

namespace AsyncNet.Tests.Support;

/// <summary>
/// Records the thread on which each name lookup finishes: the System.Net.NameResolution event source writes
/// ResolutionStop on the thread where getaddrinfo returned, and an in-process listener receives it there.
/// (ResolutionStart is written on the caller's thread before the lookup is handed off, so it proves nothing.)
/// </summary>
internal sealed class NameResolutionThreads : EventListener
{
    private readonly List<int> _stops = [];

    /// <summary>The managed threads on which lookups finished since this listener was made (any caller's).</summary>
    public int[] FinishedOn()
    {
        lock (_stops)
        {
            return [.. _stops];
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "System.Net.NameResolution")
        {
            EnableEvents(eventSource, EventLevel.Informational);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName == "ResolutionStop")
        {
            lock (_stops)
            {
                _stops.Add(Environment.CurrentManagedThreadId);
            }
        }
    }
}
