using System.Net.Sockets;
using AsyncNet.Interop;

namespace AsyncNet.Testing.Syscalls;

/// <summary>
/// The one <see cref="IKernelFaults"/> of the process: installed in Core's Kernel seam while any injection is in force,
/// it asks each injection whose scope covers a call, in the order they were made; the first fault wins.
/// </summary>
internal sealed class SyscallFaultDispatcher : IKernelFaults
{
    private static readonly SyscallFaultDispatcher s_instance = new();
    private static readonly Lock s_lock = new();

    // Copied on every change (rare), read without a lock on every call.
    private static volatile SyscallInjection[] s_active = [];

    /// <summary>Puts <paramref name="injection"/> in force, after those already in force.</summary>
    /// <exception cref="InvalidOperationException">The switch is off in this process.</exception>
    public static void Add(SyscallInjection injection)
    {
        lock (s_lock)
        {
            Kernel.Faults = s_instance;
            s_active = [.. s_active, injection];
        }
    }

    /// <summary>Ends <paramref name="injection"/>; the seam goes back to no faults with the last one.</summary>
    public static void Remove(SyscallInjection injection)
    {
        lock (s_lock)
        {
            s_active = Array.FindAll(s_active, i => !ReferenceEquals(i, injection));
            if (s_active.Length == 0)
            {
                Kernel.Faults = null;
            }
        }
    }

    /// <inheritdoc/>
    public KernelFault Next(KernelCall call, Socket? socket, int length)
    {
        (SyscallKind kind, bool gathered, bool datagram) = call switch
        {
            KernelCall.Send => (SyscallKind.Send, false, socket!.SocketType != SocketType.Stream),
            KernelCall.SendGathered => (SyscallKind.Send, true, false),
            KernelCall.SendTo => (SyscallKind.Send, false, true),
            KernelCall.Receive => (SyscallKind.Receive, false, socket!.SocketType != SocketType.Stream),
            KernelCall.ReceiveFrom => (SyscallKind.Receive, false, true),
            KernelCall.Accept => (SyscallKind.Accept, false, false),
            KernelCall.Connect => (SyscallKind.Connect, false, false),
            KernelCall.ConnectResult => (SyscallKind.ConnectResult, false, false),
            KernelCall.SelectorWait => (SyscallKind.SelectorWait, false, false),
            _ => throw new ArgumentOutOfRangeException(nameof(call), call, "A call the dispatcher does not know."),
        };

        SyscallFault chosen = SyscallFault.None;
        foreach (SyscallInjection injection in s_active)
        {
            if (!injection.Covers(socket))
            {
                continue;
            }

            // Every covering injection numbers and counts the call; only the first fault is applied.
            SyscallFault fault = injection.Decide(kind, socket, length, gathered, datagram);
            if (chosen.IsNone)
            {
                chosen = fault;
            }
        }

        return chosen.IsNone ? KernelFault.None : new KernelFault(chosen.Error, chosen.MaxBytes);
    }
}
