using System.Net.Sockets;

namespace AsyncNet.Interop;

/// <summary>What an injected fault does to one call of <see cref="Kernel"/>.</summary>
/// <param name="Error">
/// Success to make the call; any other error fails the call with it, without making it (except the transient errors
/// of a connect's start, which the kernel reports while the connect goes on: see <see cref="Kernel.Connect"/>).
/// </param>
/// <param name="MaxBytes">
/// The most bytes a send or receive on a stream socket may move (at least 1): the call is made with a buffer cut to
/// that length, as a partial send or receive. Datagrams move whole, and other calls move no bytes: they ignore it.
/// </param>
internal readonly record struct KernelFault(SocketError Error, int MaxBytes)
{
    /// <summary>No fault: the call is made as asked.</summary>
    public static KernelFault None => new(SocketError.Success, int.MaxValue);

    /// <summary>Whether the call fails with <see cref="Error"/>.</summary>
    public bool Fails => Error != SocketError.Success;
}
