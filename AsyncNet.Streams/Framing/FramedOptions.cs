using AsyncNet.Transports;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Framing;

/// <summary>
/// Copies of the caller's stream and transport options with a heartbeat's idle settings put in, for
/// <see cref="FramedEndpoints"/>: <c>with</c> copies of the records, so every other setting is kept.
/// </summary>
internal static class FramedOptions
{
    /// <summary>The caller's stream options with <paramref name="onIdle"/> as the idle callback.</summary>
    /// <param name="options">The caller's options, or null for the defaults.</param>
    /// <param name="onIdle">The heartbeat's callback (which calls the caller's own, if any, after it).</param>
    /// <returns>A copy.</returns>
    public static StreamOptions WithOnIdle(StreamOptions? options, Action<StreamWriter, IdleEvent> onIdle) =>
        (options ?? StreamOptions.Default) with { OnIdle = onIdle };

    /// <summary>The caller's connection options with a heartbeat's idle settings.</summary>
    /// <param name="options">The caller's options, or null for the defaults.</param>
    /// <param name="idle">The heartbeat's idle settings.</param>
    /// <param name="parameterName">The options argument's name, for the exception.</param>
    /// <returns>A copy.</returns>
    /// <exception cref="ArgumentException">The caller set idle options of their own.</exception>
    public static ConnectionOptions WithIdle(ConnectionOptions? options, IdleOptions idle, string parameterName)
    {
        options ??= ConnectionOptions.Default;
        CheckNoIdle(options, parameterName);
        return options with { Idle = idle };
    }

    /// <summary>The caller's server options with a heartbeat's idle settings for every accepted connection.</summary>
    /// <param name="options">The caller's options, or null for the defaults.</param>
    /// <param name="idle">The heartbeat's idle settings.</param>
    /// <param name="parameterName">The options argument's name, for the exception.</param>
    /// <returns>A copy.</returns>
    /// <exception cref="ArgumentException">The caller set idle options of their own.</exception>
    public static ServerOptions WithIdle(ServerOptions? options, IdleOptions idle, string parameterName)
    {
        options ??= ServerOptions.Default;
        CheckNoIdle(options, parameterName);
        return options with { Idle = idle };
    }

    private static void CheckNoIdle(StreamTransportOptions options, string parameterName)
    {
        if (options.Idle is not null)
        {
            // Two sets of idle timeouts cannot both hold on one connection, and merging them would change the
            // heartbeat's meaning (an all-idle close, say) behind the caller's back.
            throw new ArgumentException(
                $"A heartbeat sets the connection's idle options itself (write-idle = interval, read-idle = deadline, close on idle); leave Idle unset ({options.Idle}), or wire the two up by hand with HeartbeatOptions.ToIdleOptions and CreatePingSender.",
                parameterName);
        }
    }
}
