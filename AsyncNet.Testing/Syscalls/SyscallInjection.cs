using System.Net.Sockets;

namespace AsyncNet.Testing.Syscalls;

/// <summary>
/// One schedule in force over one scope (the process, a loop's thread, or a socket) from
/// <see cref="SyscallFaults.Inject(SyscallSchedule)"/> until <see cref="Dispose"/>; counts what it saw and did.
/// </summary>
/// <remarks>
/// Every member may be called from any thread. The counters let a test show that its faults were reached
/// (<see cref="FaultCount"/>, <see cref="ErrorCount"/>) and that a storm ended (<see cref="CallCount"/> of <see cref="SyscallKind.SelectorWait"/>
/// stops growing once a loop is idle); <see cref="OpenSockets"/> finds sockets left open.
/// </remarks>
public sealed class SyscallInjection : IDisposable
{
    private const int KindCount = 6;

    private readonly Lock _lock = new();
    private readonly string _scope;
    private readonly Func<Socket?, bool> _covers;
    private readonly int[] _calls = new int[KindCount];
    private readonly int[] _faults = new int[KindCount];
    private readonly Dictionary<SocketError, int> _errors = [];
    private readonly List<Socket> _sockets = [];
    private readonly HashSet<Socket> _seen = new(ReferenceEqualityComparer.Instance);
    private Exception? _scheduleException;
    private bool _disposed;

    internal SyscallInjection(SyscallSchedule schedule, string scope, Func<Socket?, bool> covers)
    {
        Schedule = schedule;
        _scope = scope;
        _covers = covers;
    }

    /// <summary>The schedule in force.</summary>
    public SyscallSchedule Schedule { get; }

    /// <summary>Whether <see cref="Dispose"/> has ended the injection.</summary>
    public bool IsDisposed
    {
        get
        {
            lock (_lock)
            {
                return _disposed;
            }
        }
    }

    /// <summary>How many calls of <paramref name="kinds"/> the injection has seen in its scope, faulted or not.</summary>
    /// <param name="kinds">One kind or several (summed).</param>
    /// <returns>The count.</returns>
    public int CallCount(SyscallKind kinds) => Sum(_calls, kinds);

    /// <summary>How many calls of <paramref name="kinds"/> it gave a fault (an error or a byte limit).</summary>
    /// <param name="kinds">One kind or several (summed).</param>
    /// <returns>The count.</returns>
    public int FaultCount(SyscallKind kinds) => Sum(_faults, kinds);

    /// <summary>How many calls it failed with <paramref name="error"/>, whatever their kind.</summary>
    /// <param name="error">The error (ECONNRESET is <see cref="SocketError.ConnectionReset"/>, EPIPE <see cref="SocketError.Shutdown"/>).</param>
    /// <returns>The count; 0 if it never injected that error.</returns>
    public int ErrorCount(SocketError error)
    {
        lock (_lock)
        {
            return _errors.GetValueOrDefault(error);
        }
    }

    /// <summary>The sockets calls in its scope were made on (listeners included) whose descriptor is still open.</summary>
    /// <returns>The open sockets, in the order they were first seen.</returns>
    /// <remarks>
    /// A leak check: once every connection and server of a test is closed, this is empty. Only sockets that made a
    /// call while the injection was in force are known (an accepted socket is known from its first receive or send).
    /// </remarks>
    public IReadOnlyList<Socket> OpenSockets()
    {
        lock (_lock)
        {
            return _sockets.Where(s => !s.SafeHandle.IsClosed).ToArray();
        }
    }

    /// <summary>Ends the injection: calls from now on are made as asked (other injections still apply).</summary>
    /// <remarks>Idempotent.</remarks>
    /// <exception cref="InvalidOperationException">
    /// The first time only: the schedule threw while deciding a call (the exception is the inner one); the injection has ended all the same.
    /// </exception>
    public void Dispose()
    {
        Exception? failure;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            failure = _scheduleException;
        }

        SyscallFaultDispatcher.Remove(this);
        if (failure is not null)
        {
            throw new InvalidOperationException($"The syscall schedule \"{Schedule}\" threw while deciding a call; that call was made unfaulted.", failure);
        }
    }

    /// <summary>Shows the scope, the schedule and the counts: "SyscallInjection(loop, EINTR ..., Calls: Send=12, Receive=9; Faults: Send=3)".</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        lock (_lock)
        {
            return $"SyscallInjection({_scope}, {Schedule}, Calls: {Describe(_calls)}; Faults: {Describe(_faults)})";
        }
    }

    /// <summary>Whether a call on <paramref name="socket"/> (null: the selector's wait) made now is in scope.</summary>
    internal bool Covers(Socket? socket) => _covers(socket);

    /// <summary>Numbers the call, asks the schedule, and records what it says; the fault is None if it does not apply.</summary>
    internal SyscallFault Decide(SyscallKind kind, Socket? socket, int length, bool gathered, bool datagram)
    {
        int index = IndexOf(kind);
        lock (_lock)
        {
            if (socket is not null && _seen.Add(socket))
            {
                _sockets.Add(socket);
            }

            var call = new SyscallCall(kind, ++_calls[index], socket, length, gathered, datagram);
            SyscallFault fault;
            try
            {
                fault = Schedule.Decide(call);
            }
            catch (Exception ex)
            {
                _scheduleException ??= ex;
                return SyscallFault.None;
            }

            // A datagram moves whole: a byte limit is not injected into its calls.
            if (fault.IsNone || !fault.AppliesTo(kind) || (datagram && fault.Error == SocketError.Success))
            {
                return SyscallFault.None;
            }

            _faults[index]++;
            if (fault.Error != SocketError.Success)
            {
                _errors[fault.Error] = _errors.GetValueOrDefault(fault.Error) + 1;
            }

            return fault;
        }
    }

    private static int IndexOf(SyscallKind kind) => System.Numerics.BitOperations.TrailingZeroCount((int)kind);

    private static string Describe(int[] counts) =>
        string.Join(", ", Enumerable.Range(0, KindCount).Where(i => counts[i] > 0).Select(i => $"{(SyscallKind)(1 << i)}={counts[i]}")) is { Length: > 0 } text ? text : "none";

    private int Sum(int[] counts, SyscallKind kinds)
    {
        int sum = 0;
        lock (_lock)
        {
            for (int i = 0; i < KindCount; i++)
            {
                if (((int)kinds & (1 << i)) != 0)
                {
                    sum += counts[i];
                }
            }
        }

        return sum;
    }
}
