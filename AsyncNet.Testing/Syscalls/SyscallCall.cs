using System.Net.Sockets;

namespace AsyncNet.Testing.Syscalls;

/// <summary>One system call about to be made, as a <see cref="SyscallSchedule"/> sees it.</summary>
/// <param name="Kind">Which call: exactly one flag of <see cref="SyscallKind"/>.</param>
/// <param name="Number">
/// Its number among the calls of its kind that this injection has seen, from 1: the third send in the injection's scope
/// is number 3 whichever socket makes it.
/// </param>
/// <param name="Socket">The socket; null for the selector's wait.</param>
/// <param name="Length">The bytes a send offers or the room a receive gives; 0 for other calls.</param>
/// <param name="IsGathered">Whether a send gathers several buffers in one call (a stream transport's flush).</param>
/// <param name="IsDatagram">Whether the call sends or receives a datagram (which moves whole or not at all).</param>
public readonly record struct SyscallCall(SyscallKind Kind, int Number, Socket? Socket, int Length, bool IsGathered, bool IsDatagram);
