namespace AsyncNet.Loop;

/// <summary>Settings for a new <see cref="EventLoopGroup"/>.</summary>
public sealed record EventLoopGroupOptions
{
    /// <summary>The default <see cref="ShutdownGracePeriod"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultShutdownGracePeriod = TimeSpan.FromSeconds(5);

    /// <summary>The defaults.</summary>
    public static EventLoopGroupOptions Default { get; } = new();

    /// <summary>How many loops (and threads) the group runs. The default is <see langword="null"/>: <see cref="Environment.ProcessorCount"/>.</summary>
    public int? LoopCount { get; init; }

    /// <summary>The settings of every loop; <see langword="null"/> for the defaults. The default is <see langword="null"/>.</summary>
    /// <remarks>A <see cref="EventLoopOptions.Selector"/> set here would be shared by every loop, which a selector cannot be: it is rejected.</remarks>
    public EventLoopOptions? LoopOptions { get; init; }

    /// <summary>The start of each loop thread's name, followed by the loop's number. The default is "AsyncNet loop".</summary>
    public string ThreadNamePrefix { get; init; } = "AsyncNet loop";

    /// <summary>
    /// How long <see cref="EventLoopGroup.DisposeAsync"/> lets the servers' connections flush and close before it aborts
    /// them. The default is <see cref="DefaultShutdownGracePeriod"/> (5 s).
    /// </summary>
    public TimeSpan ShutdownGracePeriod { get; init; } = DefaultShutdownGracePeriod;

    /// <summary>Throws if a setting is out of range.</summary>
    /// <param name="parameterName">The name of the options argument, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    internal void Validate(string parameterName)
    {
        if (LoopCount is < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, LoopCount, "LoopCount must be at least 1.");
        }

        if (ShutdownGracePeriod < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, ShutdownGracePeriod, "ShutdownGracePeriod must not be negative.");
        }

        if (LoopOptions?.Selector is not null)
        {
            throw new ArgumentOutOfRangeException(parameterName, "LoopOptions.Selector cannot be shared by the group's loops; set SelectorKind instead.");
        }

        ArgumentNullException.ThrowIfNull(ThreadNamePrefix, parameterName);
        LoopOptions?.Validate(parameterName);
    }
}
