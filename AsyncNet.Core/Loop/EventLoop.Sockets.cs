using System.Buffers;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Selectors;

namespace AsyncNet.Loop;

// The socket awaitables, asyncio's loop.sock_*. Each tries its operation on the socket at once; only when the
// socket would block does it register a one-shot reader or writer (EventLoop.SocketOperations.cs) and retry when
// the selector says the socket is ready. The registration is removed before the operation completes, so the
// socket is free for the next call (or a transport) by the time an await resumes.
//
// Sockets must already be non-blocking: the methods throw ArgumentException rather than flip the mode of a
// socket that someone else owns (and may be using with blocking calls on another thread).
public sealed partial class EventLoop
{
    /// <summary>Receives up to <paramref name="maxBytes"/> bytes from a connected socket (asyncio's <c>sock_recv</c>).</summary>
    /// <param name="socket">A connected, non-blocking socket. See <see cref="SockRecvIntoAsync"/> for the rules.</param>
    /// <param name="maxBytes">The most bytes to return; 0 returns an empty array at once.</param>
    /// <param name="cancellationToken">Cancels the wait; nothing is consumed from the socket then.</param>
    /// <returns>The bytes received: between 1 and <paramref name="maxBytes"/>, or none at end of stream.</returns>
    /// <remarks>Same contract as <see cref="SockRecvIntoAsync"/>; this one allocates the returned array (and rents a pooled buffer meanwhile).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is negative.</exception>
    /// <exception cref="ArgumentException">The socket is blocking or closed.</exception>
    /// <exception cref="InvalidOperationException">Another operation already waits to read the socket, or the call is not on the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="NetworkException">Through the task: the receive failed (for example <see cref="ConnectionResetException"/>).</exception>
    /// <exception cref="OperationCanceledException">Through the task: <paramref name="cancellationToken"/> was cancelled first.</exception>
    public ValueTask<byte[]> SockRecvAsync(Socket socket, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        CheckSocketOperation(socket, SelectorEvents.Read);
        if (maxBytes == 0)
        {
            return new ValueTask<byte[]>([]);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(maxBytes);
        ValueTask<int> receive;
        try
        {
            receive = SockRecvIntoAsync(socket, rented.AsMemory(0, maxBytes), cancellationToken);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }

        if (!receive.IsCompleted)
        {
            return CopyWhenReceivedAsync(receive, rented);
        }

        try
        {
            return new ValueTask<byte[]>(rented.AsSpan(0, receive.Result).ToArray());
        }
        catch (Exception ex)
        {
            return receive.IsCanceled ? ValueTask.FromCanceled<byte[]>(cancellationToken) : ValueTask.FromException<byte[]>(ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        static async ValueTask<byte[]> CopyWhenReceivedAsync(ValueTask<int> receive, byte[] rented)
        {
            try
            {
                // No ConfigureAwait(false): resuming on the loop (the caller's context) saves a hop through the pool.
                int received = await receive;
                return rented.AsSpan(0, received).ToArray();
            }
            finally
            {
                // The operation is over (done, failed or cancelled with its reader removed): nothing writes here any more.
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Receives into <paramref name="buffer"/> from a connected socket (asyncio's <c>sock_recv_into</c>).</summary>
    /// <param name="socket">
    /// A connected, non-blocking socket that the loop drives: never call its <c>*Async</c> methods, and do not
    /// close it while an operation is pending (cancel first).
    /// </param>
    /// <param name="buffer">Where the bytes go; the caller must not touch it until the task completes.</param>
    /// <param name="cancellationToken">
    /// Cancels the wait from any thread: the reader is removed (on the loop) and the task is cancelled; no byte
    /// is consumed from the socket.
    /// </param>
    /// <returns>
    /// The number of bytes received: at least 1, or 0 at end of stream (or for an empty buffer). Completed
    /// synchronously when data is already there.
    /// </returns>
    /// <remarks>
    /// <para>
    /// The socket must be non-blocking (<c>Blocking = false</c>): this method throws rather than change the mode
    /// behind its owner's back. At most one operation may wait to read a socket at a time (and none while a
    /// transport reads it); the same holds for writing.
    /// </para>
    /// <para>Call on the loop thread. Continuations of the returned task run asynchronously (never inside the loop's I/O callback).</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException">The socket is blocking or closed.</exception>
    /// <exception cref="InvalidOperationException">Another operation already waits to read the socket, or the call is not on the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="NetworkException">Through the task: the receive failed (for example <see cref="ConnectionResetException"/>), naming the peer.</exception>
    /// <exception cref="OperationCanceledException">Through the task: <paramref name="cancellationToken"/> was cancelled first.</exception>
    public ValueTask<int> SockRecvIntoAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckSocketOperation(socket, SelectorEvents.Read);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        try
        {
            if (ReceiveOperation.TryReceive(socket, buffer.Span, out int received))
            {
                return new ValueTask<int>(received);
            }
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<int>(ex);
        }

        var operation = new ReceiveOperation(this, socket, buffer, cancellationToken);
        operation.Start();
        return new ValueTask<int>(operation.Task);
    }

    /// <summary>Sends all of <paramref name="data"/> on a connected socket (asyncio's <c>sock_sendall</c>).</summary>
    /// <param name="socket">A connected, non-blocking socket; see <see cref="SockRecvIntoAsync"/> for the rules.</param>
    /// <param name="data">The bytes; the caller must not change them until the task completes. Empty data completes at once.</param>
    /// <param name="cancellationToken">
    /// Cancels the wait: the writer is removed and the task cancelled. Bytes already handed to the OS stay sent,
    /// so a cancelled send leaves the stream at an unknown position; close the socket after it.
    /// </param>
    /// <returns>A task that completes when every byte was handed to the OS; synchronously when they all fit at once.</returns>
    /// <remarks>As much as the socket takes is sent at once; the rest is sent, in order, each time the socket is writable.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException">The socket is blocking or closed.</exception>
    /// <exception cref="InvalidOperationException">Another operation already waits to write the socket, or the call is not on the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="NetworkException">Through the task: the send failed (for example <see cref="BrokenPipeException"/> or <see cref="ConnectionResetException"/>), naming the peer.</exception>
    /// <exception cref="OperationCanceledException">Through the task: <paramref name="cancellationToken"/> was cancelled first.</exception>
    public ValueTask SockSendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        CheckSocketOperation(socket, SelectorEvents.Write);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        int sent = 0;
        try
        {
            if (SendAllOperation.TrySend(socket, data.Span, ref sent))
            {
                return default;
            }
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }

        var operation = new SendAllOperation(this, socket, data, sent, cancellationToken);
        operation.Start();
        return new ValueTask(operation.Task);
    }

    /// <summary>Connects a non-blocking socket to <paramref name="endPoint"/> (asyncio's <c>sock_connect</c>).</summary>
    /// <param name="socket">An unconnected, non-blocking socket; see <see cref="SockRecvIntoAsync"/> for the rules.</param>
    /// <param name="endPoint">
    /// The address: an <see cref="IPEndPoint"/>, a <see cref="UnixDomainSocketEndPoint"/>, or a
    /// <see cref="DnsEndPoint"/>, resolved first with <see cref="GetAddrInfoAsync"/> in the socket's family and
    /// connected to the first address, as asyncio does.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait: the writer is removed and the task cancelled; close the socket then, as its connect may still be in progress.</param>
    /// <returns>A task that completes once the socket is connected.</returns>
    /// <remarks>
    /// The connect is started at once. When it is in progress the socket is watched for writability, and then
    /// its pending error (<c>SO_ERROR</c>) decides the outcome.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> or <paramref name="endPoint"/> is null.</exception>
    /// <exception cref="ArgumentException">The socket is blocking or closed.</exception>
    /// <exception cref="InvalidOperationException">Another operation already waits to write the socket, or the call is not on the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="ConnectionRefusedException">Through the task: nothing listens at the address, which the message names.</exception>
    /// <exception cref="NetworkException">Through the task: another failure (for example <see cref="ConnectionTimedOutException"/>), naming the address.</exception>
    /// <exception cref="NameResolutionException">Through the task: a <see cref="DnsEndPoint"/> did not resolve.</exception>
    /// <exception cref="OperationCanceledException">Through the task: <paramref name="cancellationToken"/> was cancelled first.</exception>
    public ValueTask SockConnectAsync(Socket socket, EndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        CheckSocketOperation(socket, SelectorEvents.Write);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (endPoint is DnsEndPoint dns)
        {
            return ConnectByNameAsync(socket, dns, cancellationToken);
        }

        try
        {
            if (ConnectOperation.TryStartConnect(socket, endPoint))
            {
                return default;
            }
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }

        var operation = new ConnectOperation(this, socket, endPoint, cancellationToken);
        operation.Start();
        return new ValueTask(operation.Task);
    }

    /// <summary>Accepts a connection on a listening, non-blocking socket (asyncio's <c>sock_accept</c>).</summary>
    /// <param name="listener">A bound, listening, non-blocking socket; see <see cref="SockRecvIntoAsync"/> for the rules.</param>
    /// <param name="cancellationToken">Cancels the wait: the reader is removed and the task cancelled; no connection is taken.</param>
    /// <returns>
    /// The accepted socket, non-blocking and owned by the caller, and the peer's address (for a Unix socket
    /// usually an unnamed <see cref="UnixDomainSocketEndPoint"/>, whose path is empty).
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="listener"/> is null.</exception>
    /// <exception cref="ArgumentException">The socket is blocking or closed.</exception>
    /// <exception cref="InvalidOperationException">Another operation already waits to read the socket, or the call is not on the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="NetworkException">Through the task: the accept failed (for example <see cref="ConnectionAbortedException"/>), naming the listening address.</exception>
    /// <exception cref="OperationCanceledException">Through the task: <paramref name="cancellationToken"/> was cancelled first.</exception>
    public ValueTask<(Socket Socket, EndPoint RemoteEndPoint)> SockAcceptAsync(Socket listener, CancellationToken cancellationToken = default)
    {
        CheckSocketOperation(listener, SelectorEvents.Read);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<(Socket, EndPoint)>(cancellationToken);
        }

        try
        {
            if (AcceptOperation.TryAccept(listener, out (Socket, EndPoint) accepted))
            {
                return new ValueTask<(Socket, EndPoint)>(accepted);
            }
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<(Socket, EndPoint)>(ex);
        }

        var operation = new AcceptOperation(this, listener, cancellationToken);
        operation.Start();
        return new ValueTask<(Socket, EndPoint)>(operation.Task);
    }

    private async ValueTask ConnectByNameAsync(Socket socket, DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        AddressFamily family = endPoint.AddressFamily != AddressFamily.Unspecified ? endPoint.AddressFamily : socket.AddressFamily;
        IReadOnlyList<IPEndPoint> addresses = await GetAddrInfoAsync(endPoint.Host, endPoint.Port, family, cancellationToken);
        await SockConnectAsync(socket, addresses[0], cancellationToken);
    }

    /// <summary>The synchronous checks every socket operation makes before it touches the socket.</summary>
    private void CheckSocketOperation(Socket socket, SelectorEvents direction)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ThrowIfClosed();
        VerifyAccess();
        int fd = SocketFd(socket);
        if (socket.Blocking)
        {
            throw new ArgumentException(
                "The socket must be non-blocking: set Blocking = false before handing it to the loop (and never call its *Async methods).",
                nameof(socket));
        }

        if (_registrations.TryGetValue(fd, out IoRegistration? registration) &&
            (direction == SelectorEvents.Read ? registration.Reader : registration.Writer) is not null)
        {
            string what = direction == SelectorEvents.Read ? "read" : "write";
            throw new InvalidOperationException(
                $"Another operation (a pending socket call or a transport) already waits to {what} this socket; one at a time.");
        }
    }
}
