using System.Net.Sockets;
using AsyncNet.Interop;
using AsyncNet.Loop;

namespace AsyncNet.Testing.Syscalls;

/// <summary>
/// Injects system-call faults under AsyncNet's transports, servers, socket operations and selectors: EINTR, EAGAIN
/// storms, partial sends and receives, ECONNRESET, EPIPE, ENOBUFS, EMFILE, failed connects. For tests only.
/// </summary>
/// <remarks>
/// <para>
/// <b>Only in processes with the switch on.</b> The seam costs nothing in production because it is compiled away unless
/// the AppContext switch <see cref="SwitchName"/> is true when AsyncNet first makes a network call. Turn it on in the
/// test project that injects faults, in its project file:
/// <code>&lt;ItemGroup&gt;&lt;RuntimeHostConfigurationOption Include="AsyncNet.Testing.SyscallFaults" Value="true" /&gt;&lt;/ItemGroup&gt;</code>
/// Elsewhere <see cref="IsEnabled"/> is false and every <c>Inject</c> throws <see cref="InvalidOperationException"/>.
/// </para>
/// <para>
/// Injections scoped to a loop (calls made on its thread) or a socket can run beside other tests; one over the whole
/// process (<see cref="Inject(SyscallSchedule)"/>) reaches every test running at the time, so run those alone. Several
/// injections may be in force at once: each covering a call numbers and counts it, and the first made decides it.
/// </para>
/// <para>
/// What a transport does with each fault is what it does with the real error: EAGAIN and EINTR are retried on the next
/// readiness, partial transfers continue, ECONNRESET and EPIPE end the connection with <c>ConnectionResetException</c> and
/// <c>BrokenPipeException</c>, other errors with a <c>NetworkException</c> carrying them (which the loop's exception handler
/// also hears of); a failed accept with EMFILE or ENOBUFS pauses the server's accepting and retries.
/// </para>
/// </remarks>
public static class SyscallFaults
{
    /// <summary>The AppContext switch that must be true for injection to work: "AsyncNet.Testing.SyscallFaults".</summary>
    public const string SwitchName = Kernel.FaultsSwitch;

    /// <summary>Whether this process may inject faults (the switch was on when AsyncNet's seam initialised).</summary>
    public static bool IsEnabled => Kernel.FaultsEnabled;

    /// <summary>Injects <paramref name="schedule"/> into every AsyncNet system call in the process, on any thread.</summary>
    /// <param name="schedule">Which calls fail and how.</param>
    /// <returns>The injection; dispose it to end it.</returns>
    /// <remarks>Reaches every test running meanwhile: prefer a loop or a socket scope beside parallel tests.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The switch is off in this process (see the type's remarks).</exception>
    public static SyscallInjection Inject(SyscallSchedule schedule) => Start(schedule, "process", static _ => true);

    /// <summary>
    /// Injects <paramref name="schedule"/> into the calls made on <paramref name="loop"/>'s thread while it runs: its
    /// transports' sends and receives, its servers' accepts, its connects and socket operations, its selector's wait.
    /// </summary>
    /// <param name="loop">The loop.</param>
    /// <param name="schedule">Which calls fail and how.</param>
    /// <returns>The injection; dispose it to end it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="schedule"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The switch is off in this process (see the type's remarks).</exception>
    public static SyscallInjection Inject(EventLoop loop, SyscallSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(loop);
        return Start(schedule, "loop", _ => loop.IsOnLoopThread);
    }

    /// <summary>Injects <paramref name="schedule"/> into the calls made on <paramref name="socket"/> (sends, receives, accepts, connects).</summary>
    /// <param name="socket">The socket (a transport's is its extra info "socket").</param>
    /// <param name="schedule">Which calls fail and how.</param>
    /// <returns>The injection; dispose it to end it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> or <paramref name="schedule"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The switch is off in this process (see the type's remarks).</exception>
    public static SyscallInjection Inject(Socket socket, SyscallSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return Start(schedule, "socket", s => ReferenceEquals(s, socket));
    }

    private static SyscallInjection Start(SyscallSchedule schedule, string scope, Func<Socket?, bool> covers)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var injection = new SyscallInjection(schedule, scope, covers);
        SyscallFaultDispatcher.Add(injection);
        return injection;
    }
}
