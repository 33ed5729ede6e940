using System.Net.Sockets;

namespace AsyncNet.Interop;

/// <summary>Decides, before each call <see cref="Kernel"/> makes, whether it is to fail or move fewer bytes (tests only).</summary>
/// <remarks>
/// Called on whichever thread makes the call (a loop thread, usually several at once): implementations are thread-safe.
/// An implementation must not throw, and must not make calls through <see cref="Kernel"/> itself.
/// </remarks>
internal interface IKernelFaults
{
    /// <summary>The fate of one call.</summary>
    /// <param name="call">Which call is about to be made.</param>
    /// <param name="socket">The socket it is made on; null for the selector's wait.</param>
    /// <param name="length">The bytes offered to a send or the room given to a receive; 0 for other calls.</param>
    /// <returns>The fault to apply, or <see cref="KernelFault.None"/>.</returns>
    KernelFault Next(KernelCall call, Socket? socket, int length);
}
