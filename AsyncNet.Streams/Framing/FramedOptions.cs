using AsyncNet.Transports;

namespace AsyncNet.Streams.Framing;

/// <summary>
/// Copies of the caller's stream and transport options with a heartbeat's idle settings put in, for
/// <see cref="FramedEndpoints"/>. The options are init-only classes, so a copy is the only way to add to them.
/// </summary>
/// <remarks>
/// Every public setting is copied by name. A setting added to these types later must be added here too:
/// HeartbeatOptionsTests compares the copied set with the types' properties and fails until it is.
/// </remarks>
internal static class FramedOptions
{
    /// <summary>The caller's stream options with <paramref name="onIdle"/> as the idle callback.</summary>
    /// <param name="options">The caller's options, or null for the defaults.</param>
    /// <param name="onIdle">The heartbeat's callback (which calls the caller's own, if any, after it).</param>
    /// <returns>A copy.</returns>
    public static StreamOptions WithOnIdle(StreamOptions? options, Action<StreamWriter, IdleEvent> onIdle)
    {
        options ??= StreamOptions.Default;
        return new StreamOptions
        {
            Limit = options.Limit,
            CompactSegments = options.CompactSegments,
            OnIdle = onIdle,
        };
    }

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
        return new ConnectionOptions
        {
            NoDelay = options.NoDelay,
            KeepAlive = options.KeepAlive,
            Cork = options.Cork,
            SendBufferSize = options.SendBufferSize,
            ReceiveBufferSize = options.ReceiveBufferSize,
            ReadBufferSize = options.ReadBufferSize,
            WriteBufferHighWaterMark = options.WriteBufferHighWaterMark,
            WriteBufferLowWaterMark = options.WriteBufferLowWaterMark,
            Idle = idle,
            AddressFamily = options.AddressFamily,
            LocalEndPoint = options.LocalEndPoint,
        };
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
        return new ServerOptions
        {
            NoDelay = options.NoDelay,
            KeepAlive = options.KeepAlive,
            Cork = options.Cork,
            SendBufferSize = options.SendBufferSize,
            ReceiveBufferSize = options.ReceiveBufferSize,
            ReadBufferSize = options.ReadBufferSize,
            WriteBufferHighWaterMark = options.WriteBufferHighWaterMark,
            WriteBufferLowWaterMark = options.WriteBufferLowWaterMark,
            Idle = idle,
            Backlog = options.Backlog,
            ReuseAddress = options.ReuseAddress,
            ReusePort = options.ReusePort,
            StartServing = options.StartServing,
        };
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
