using AsyncNet.Selectors;

namespace AsyncNet.Loop;

/// <summary>Settings for a new <see cref="EventLoop"/>.</summary>
public sealed record EventLoopOptions
{
    /// <summary>
    /// The selector the loop waits on; the loop takes ownership and disposes it on close.
    /// The default is <see langword="null"/>: a new selector of kind <see cref="SelectorKind"/>.
    /// </summary>
    public ISelector? Selector { get; init; }

    /// <summary>The kind of selector to create when <see cref="Selector"/> is null. The default is <see cref="SelectorKind.Default"/> (epoll on Linux).</summary>
    public SelectorKind SelectorKind { get; init; } = SelectorKind.Default;

    /// <summary>
    /// The clock behind <see cref="EventLoop.Time"/> and every timer. The default is <see cref="System.TimeProvider.System"/>
    /// (monotonic); tests pass a manual clock to run timers without sleeping.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
