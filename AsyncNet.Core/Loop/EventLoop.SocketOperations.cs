// The pending halves of the socket awaitables (EventLoop.Sockets.cs).
//
// Maintainer's overview
// - Each public Sock* method first tries its operation itself (the static TryX here); only when the socket would
//   block does it create one of these operations, which registers a reader or writer and retries on readiness.
// - An operation completes exactly once, on the loop thread: Finish removes the registration and the token's
//   callback first, then the task is completed, so the socket is free again before any continuation runs (and
//   continuations run asynchronously anyway: the task source is RunContinuationsAsynchronously).
// - A cancellation token may fire on any thread: its callback marshals to the loop (CallSoonThreadSafe), or runs
//   inline when it already is on the loop thread. Whichever of readiness and cancellation runs first wins; the
//   other finds the task completed and does nothing.

using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Interop;
using AsyncNet.Selectors;

namespace AsyncNet.Loop;

public sealed partial class EventLoop
{
    /// <summary>Whether a failed non-blocking call only means "not now".</summary>
    private static bool WouldBlock(SocketError error) =>
        error is SocketError.WouldBlock or SocketError.IOPending or SocketError.InProgress or SocketError.Interrupted;

    /// <summary>The peer's address for messages, or null when it cannot be known.</summary>
    private static string? DescribeRemote(Socket socket)
    {
        try
        {
            return SocketErrors.Describe(socket.RemoteEndPoint);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>A socket call waiting for readiness: registered on the loop until it completes, fails or is cancelled.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    private abstract class SocketOperation<T> : TaskCompletionSource<T>
    {
        private static readonly Action<object?> s_ready = static state => ((SocketOperation<T>)state!).OnReady();
        private static readonly Action<object?> s_cancelOnLoop = static state => ((SocketOperation<T>)state!).CancelOnLoop();
        private static readonly Action<object?, CancellationToken> s_cancel = static (state, _) =>
        {
            var operation = (SocketOperation<T>)state!;
            EventLoop loop = operation._loop;
            if (loop.IsOnLoopThread)
            {
                operation.CancelOnLoop();
                return;
            }

            try
            {
                loop.CallSoonThreadSafe(s_cancelOnLoop, operation);
            }
            catch (ObjectDisposedException)
            {
                // The loop is closed: its registrations are gone with it, so only the task is left to settle.
                operation.TrySetCanceled(operation._cancellationToken);
            }
        };

        private readonly EventLoop _loop;
        private readonly SelectorEvents _direction;
        private readonly int _fd;
        private readonly CancellationToken _cancellationToken;
        private CancellationTokenRegistration _cancellationRegistration;

        protected SocketOperation(EventLoop loop, Socket socket, SelectorEvents direction, CancellationToken cancellationToken)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            _loop = loop;
            Socket = socket;
            _direction = direction;
            _fd = (int)socket.Handle;
            _cancellationToken = cancellationToken;
        }

        protected Socket Socket { get; }

        /// <summary>Registers for readiness and for cancellation; called once, after the first attempt would block.</summary>
        public void Start()
        {
            if (_direction == SelectorEvents.Read)
            {
                _loop.AddReader(Socket, s_ready, this);
            }
            else
            {
                _loop.AddWriter(Socket, s_ready, this);
            }

            if (_cancellationToken.CanBeCanceled)
            {
                // May run s_cancel inline if the token was cancelled meanwhile; Finish copes with either order.
                _cancellationRegistration = _cancellationToken.UnsafeRegister(s_cancel, this);
            }
        }

        /// <summary>Retries the operation once.</summary>
        /// <param name="result">The result, when done.</param>
        /// <returns>Whether the operation is done; false to wait for the next readiness.</returns>
        /// <exception cref="NetworkException">The operation failed; classified.</exception>
        protected abstract bool TryExecute(out T result);

        private void OnReady()
        {
            if (Task.IsCompleted)
            {
                return;
            }

            T result;
            try
            {
                if (!TryExecute(out result))
                {
                    return;
                }
            }
            catch (Exception ex)
            {
                try
                {
                    Finish();
                }
                finally
                {
                    TrySetException(ex);
                }

                return;
            }

            try
            {
                Finish();
            }
            finally
            {
                TrySetResult(result);
            }
        }

        private void CancelOnLoop()
        {
            if (Task.IsCompleted)
            {
                return;
            }

            // Whatever Finish meets (a socket its owner closed meanwhile), the awaiter is not left hanging.
            try
            {
                Finish();
            }
            finally
            {
                TrySetCanceled(_cancellationToken);
            }
        }

        private void Finish()
        {
            // By descriptor number: the Socket overload would refuse a socket its owner closed meanwhile.
            if (_direction == SelectorEvents.Read)
            {
                _loop.RemoveReader(_fd);
            }
            else
            {
                _loop.RemoveWriter(_fd);
            }

            // Unregister, not Dispose: Dispose would wait for a callback running on another thread.
            _cancellationRegistration.Unregister();
        }
    }

    private sealed class ReceiveOperation(EventLoop loop, Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
        : SocketOperation<int>(loop, socket, SelectorEvents.Read, cancellationToken)
    {
        /// <summary>One non-blocking receive.</summary>
        /// <returns>Whether it completed (with <paramref name="received"/> bytes, 0 at end of stream); false if it would block.</returns>
        /// <exception cref="NetworkException">The receive failed.</exception>
        public static bool TryReceive(Socket socket, Span<byte> buffer, out int received)
        {
            // Receive returns 0 for both "would block" and end of stream: only the error tells them apart.
            received = Kernel.Receive(socket, buffer, out SocketError error);
            if (error == SocketError.Success)
            {
                return true;
            }

            if (WouldBlock(error))
            {
                return false;
            }

            throw SocketErrors.Classify(error, "receive", DescribeRemote(socket));
        }

        protected override bool TryExecute(out int result) => TryReceive(Socket, buffer.Span, out result);
    }

    private sealed class SendAllOperation(EventLoop loop, Socket socket, ReadOnlyMemory<byte> data, int sent, CancellationToken cancellationToken)
        : SocketOperation<int>(loop, socket, SelectorEvents.Write, cancellationToken)
    {
        private int _sent = sent;

        /// <summary>Sends from <paramref name="sent"/> on until everything is sent or the socket would block.</summary>
        /// <returns>Whether every byte is sent.</returns>
        /// <exception cref="NetworkException">A send failed.</exception>
        public static bool TrySend(Socket socket, ReadOnlySpan<byte> data, ref int sent)
        {
            while (sent < data.Length)
            {
                int count = Kernel.Send(socket, data[sent..], out SocketError error);
                if (error == SocketError.Success)
                {
                    sent += count;
                }
                else if (WouldBlock(error))
                {
                    return false;
                }
                else
                {
                    throw SocketErrors.Classify(error, "send", DescribeRemote(socket));
                }
            }

            return true;
        }

        protected override bool TryExecute(out int result)
        {
            result = _sent;
            bool done = TrySend(Socket, data.Span, ref _sent);
            result = _sent;
            return done;
        }
    }

    private sealed class ConnectOperation(EventLoop loop, Socket socket, EndPoint endPoint, CancellationToken cancellationToken)
        : SocketOperation<bool>(loop, socket, SelectorEvents.Write, cancellationToken)
    {
        /// <summary>Starts a non-blocking connect.</summary>
        /// <returns>Whether it connected at once; false while it is in progress.</returns>
        /// <exception cref="NetworkException">The connect failed at once.</exception>
        public static bool TryStartConnect(Socket socket, EndPoint endPoint)
        {
            try
            {
                Kernel.Connect(socket, endPoint);
                return true;
            }
            catch (SocketException ex) when (WouldBlock(ex.SocketErrorCode))
            {
                // EINPROGRESS (.NET reports it as WouldBlock), or EAGAIN from a Unix listener with a full backlog.
                return false;
            }
            catch (SocketException ex)
            {
                throw SocketErrors.Classify(ex, "connect", SocketErrors.Describe(endPoint));
            }
        }

        protected override bool TryExecute(out bool result)
        {
            result = true;

            SocketError error = Kernel.ConnectResult(Socket);
            if (error == SocketError.Success)
            {
                // Reading Connected lets .NET notice that its non-blocking connect finished (it polls once).
                _ = Socket.Connected;
                return true;
            }

            if (WouldBlock(error))
            {
                return false;
            }

            throw SocketErrors.Classify(error, "connect", SocketErrors.Describe(endPoint));
        }
    }

    private sealed class AcceptOperation(EventLoop loop, Socket listener, CancellationToken cancellationToken)
        : SocketOperation<(Socket, EndPoint)>(loop, listener, SelectorEvents.Read, cancellationToken)
    {
        /// <summary>One non-blocking accept.</summary>
        /// <returns>Whether a connection was accepted; false if none is pending.</returns>
        /// <exception cref="NetworkException">The accept failed.</exception>
        public static bool TryAccept(Socket listener, out (Socket Socket, EndPoint RemoteEndPoint) accepted)
        {
            Socket socket;
            try
            {
                // Accept reports "nothing pending" by throwing; there is no non-throwing overload.
                socket = Kernel.Accept(listener);
            }
            catch (SocketException ex) when (WouldBlock(ex.SocketErrorCode))
            {
                accepted = default;
                return false;
            }
            catch (SocketException ex)
            {
                string? address;
                try
                {
                    address = SocketErrors.Describe(listener.LocalEndPoint);
                }
                catch (SocketException)
                {
                    address = null;
                }

                throw SocketErrors.Classify(ex, "accept", address);
            }

            try
            {
                // Accepted sockets inherit non-blocking mode on Linux; say so anyway, for the other systems.
                socket.Blocking = false;
                accepted = (socket, socket.RemoteEndPoint ?? throw new NetworkException("accept returned a connection without a peer address."));
                return true;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        protected override bool TryExecute(out (Socket, EndPoint) result) => TryAccept(Socket, out result);
    }
}
