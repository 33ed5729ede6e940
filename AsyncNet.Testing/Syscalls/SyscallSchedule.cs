using System.Net.Sockets;

namespace AsyncNet.Testing.Syscalls;

/// <summary>Decides, call by call, which system calls fail and how: what <see cref="SyscallFaults.Inject(SyscallSchedule)"/> installs.</summary>
/// <remarks>
/// <para>
/// Build one from the factories (<see cref="FailNth"/>, <see cref="Calls"/>, <see cref="PartialTransfers"/>,
/// <see cref="WouldBlockBeforeEach"/>, <see cref="Random"/>), combine several with <see cref="Combine"/> (the first that
/// names a fault for a call wins), or derive from this class. <see cref="Decide"/> is called once per call in the
/// injection's scope, one call at a time (the injection serialises them), on whichever thread makes the call.
/// </para>
/// <para>
/// A schedule numbers nothing itself: <see cref="SyscallCall.Number"/> counts the calls of each kind that its injection has
/// seen, so one schedule used twice numbers each use from 1. The built-in schedules keep no other state except
/// <see cref="Random"/>'s generator.
/// </para>
/// </remarks>
public abstract class SyscallSchedule
{
    /// <summary>A schedule that injects nothing: an injection with it only counts calls and records sockets.</summary>
    public static SyscallSchedule None { get; } = new FuncSchedule("none", static _ => SyscallFault.None);

    /// <summary>The fault for <paramref name="call"/>, or <see cref="SyscallFault.None"/>.</summary>
    /// <param name="call">The call about to be made.</param>
    /// <returns>The fault. One that does not apply to the call's kind (<see cref="SyscallFault.AppliesTo"/>) is ignored.</returns>
    /// <remarks>
    /// Must not make system calls through AsyncNet (it runs inside one) and should not throw: an exception is kept by the
    /// injection, the call goes ahead unfaulted, and <see cref="SyscallInjection.Dispose"/> throws it.
    /// </remarks>
    public abstract SyscallFault Decide(SyscallCall call);

    /// <summary>A schedule from a function.</summary>
    /// <param name="decide">The fault for each call.</param>
    /// <param name="description">What the schedule's <c>ToString()</c> says; the default is "custom".</param>
    /// <returns>The schedule.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="decide"/> is null.</exception>
    public static SyscallSchedule Create(Func<SyscallCall, SyscallFault> decide, string description = "custom")
    {
        ArgumentNullException.ThrowIfNull(decide);
        return new FuncSchedule(description, decide);
    }

    /// <summary>Calls number <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> − 1 of each of <paramref name="kinds"/> get <paramref name="fault"/>.</summary>
    /// <param name="kinds">The kinds of call (each numbered on its own).</param>
    /// <param name="first">The first call's number, from 1.</param>
    /// <param name="count">How many calls in a row; <see cref="int.MaxValue"/> for all from <paramref name="first"/> on.</param>
    /// <param name="fault">The fault.</param>
    /// <returns>The schedule.</returns>
    /// <example>A storm of 50 would-blocks from the 10th receive on: <c>SyscallSchedule.Calls(SyscallKind.Receive, 10, 50, SyscallFault.WouldBlock)</c>.</example>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="first"/> or <paramref name="count"/> is less than 1.</exception>
    public static SyscallSchedule Calls(SyscallKind kinds, int first, int count, SyscallFault fault)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(first, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        long last = (long)first + count - 1;
        string which = count == 1 ? $"#{first}" : count == int.MaxValue ? $"#{first}.." : $"#{first}..#{last}";
        return new FuncSchedule($"{kinds} {which}: {fault}", call => (call.Kind & kinds) != 0 && call.Number >= first && call.Number <= last ? fault : SyscallFault.None);
    }

    /// <summary>The <paramref name="n"/>th call of each of <paramref name="kinds"/> fails with <paramref name="error"/>.</summary>
    /// <param name="kinds">The kinds of call.</param>
    /// <param name="n">The call's number, from 1.</param>
    /// <param name="error">The error (ECONNRESET is <see cref="SocketError.ConnectionReset"/>, EPIPE <see cref="SocketError.Shutdown"/>).</param>
    /// <returns>The schedule.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is less than 1, or <paramref name="error"/> is Success.</exception>
    public static SyscallSchedule FailNth(SyscallKind kinds, int n, SocketError error) => Calls(kinds, n, 1, SyscallFault.Fail(error));

    /// <summary>Every send and receive of <paramref name="kinds"/> on a stream socket moves at most <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="maxBytes">The limit, at least 1 (1: every transfer is a single byte).</param>
    /// <param name="kinds">Sends, receives or both; the default is both.</param>
    /// <returns>The schedule.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is less than 1.</exception>
    public static SyscallSchedule PartialTransfers(int maxBytes, SyscallKind kinds = SyscallKind.Send | SyscallKind.Receive) =>
        Calls(kinds, 1, int.MaxValue, SyscallFault.AtMost(maxBytes));

    /// <summary>Each call of <paramref name="kinds"/> would block <paramref name="times"/> times before it is made: an EAGAIN storm on a ready socket.</summary>
    /// <param name="kinds">The kinds of call.</param>
    /// <param name="times">Would-blocks before each real call, at least 1.</param>
    /// <returns>The schedule: of every <paramref name="times"/> + 1 calls, the first <paramref name="times"/> fail with EAGAIN.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="times"/> is less than 1.</exception>
    public static SyscallSchedule WouldBlockBeforeEach(SyscallKind kinds, int times)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        return new FuncSchedule(
            $"{kinds}: EAGAIN ×{times} before each",
            call => (call.Kind & kinds) != 0 && (call.Number - 1) % (times + 1L) < times ? SyscallFault.WouldBlock : SyscallFault.None);
    }

    /// <summary>
    /// Each call of <paramref name="kinds"/> gets, with probability <paramref name="probability"/>, one of the
    /// <paramref name="faults"/> that apply to it, picked at random; the same seed gives the same choices.
    /// </summary>
    /// <param name="seed">The generator's seed.</param>
    /// <param name="kinds">The kinds of call.</param>
    /// <param name="probability">The chance of a fault per call, from 0 to 1.</param>
    /// <param name="faults">The faults to pick from; those that do not apply to a call's kind are left out for it.</param>
    /// <returns>The schedule. It draws from one generator under a lock, so the draws follow the order of the calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="faults"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is not within 0 to 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="faults"/> is empty.</exception>
    public static SyscallSchedule Random(int seed, SyscallKind kinds, double probability, params SyscallFault[] faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        ArgumentOutOfRangeException.ThrowIfLessThan(probability, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1.0);
        if (faults.Length == 0)
        {
            throw new ArgumentException("Give at least one fault to pick from.", nameof(faults));
        }

        return new RandomSchedule(seed, kinds, probability, [.. faults]);
    }

    /// <summary>The schedules in turn: a call gets the fault of the first that names one for it.</summary>
    /// <param name="schedules">The schedules, first wins.</param>
    /// <returns>The combined schedule.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedules"/> or one of them is null.</exception>
    public static SyscallSchedule Combine(params SyscallSchedule[] schedules)
    {
        ArgumentNullException.ThrowIfNull(schedules);
        SyscallSchedule[] copy = [.. schedules];
        foreach (SyscallSchedule schedule in copy)
        {
            ArgumentNullException.ThrowIfNull(schedule, nameof(schedules));
        }

        return new FuncSchedule(
            copy.Length == 0 ? "none" : string.Join("; ", copy.Select(s => s.ToString())),
            call =>
            {
                foreach (SyscallSchedule schedule in copy)
                {
                    SyscallFault fault = schedule.Decide(call);
                    if (!fault.IsNone && fault.AppliesTo(call.Kind))
                    {
                        return fault;
                    }
                }

                return SyscallFault.None;
            });
    }

    private sealed class FuncSchedule(string description, Func<SyscallCall, SyscallFault> decide) : SyscallSchedule
    {
        public override SyscallFault Decide(SyscallCall call) => decide(call);

        public override string ToString() => description;
    }

    private sealed class RandomSchedule(int seed, SyscallKind kinds, double probability, SyscallFault[] faults) : SyscallSchedule
    {
        private readonly System.Random _random = new(seed);
        private readonly Lock _lock = new();

        public override SyscallFault Decide(SyscallCall call)
        {
            if ((call.Kind & kinds) == 0)
            {
                return SyscallFault.None;
            }

            SyscallFault[] applicable = Array.FindAll(faults, f => f.AppliesTo(call.Kind));
            lock (_lock)
            {
                return applicable.Length == 0 || _random.NextDouble() >= probability
                    ? SyscallFault.None
                    : applicable[_random.Next(applicable.Length)];
            }
        }

        public override string ToString() => $"random (seed {seed}) {kinds}: p={probability} of {string.Join(", ", faults)}";
    }
}
