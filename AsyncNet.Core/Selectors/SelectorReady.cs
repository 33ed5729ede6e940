namespace AsyncNet.Selectors;

/// <summary>One ready descriptor returned by <see cref="ISelector.Select"/>.</summary>
/// <param name="Key">The registration that is ready.</param>
/// <param name="Events">
/// The readiness: the part of <see cref="SelectorKey.Events"/> that is ready, plus
/// <see cref="SelectorEvents.Error"/> or <see cref="SelectorEvents.HangUp"/> when the OS reported them.
/// </param>
public readonly record struct SelectorReady(SelectorKey Key, SelectorEvents Events);
