using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;

namespace AsyncNet.Loop;

public sealed partial class EventLoop
{
    /// <summary>
    /// Resolves <paramref name="host"/> to addresses with <paramref name="port"/> (asyncio's <c>getaddrinfo</c>):
    /// the lookup runs off the loop thread, and its outcome is handed back to the loop.
    /// </summary>
    /// <param name="host">A host name, or a literal IPv4 or IPv6 address (resolved at once, without DNS).</param>
    /// <param name="port">The port to put in every endpoint.</param>
    /// <param name="family">
    /// <see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/> to get only that
    /// family; <see cref="AddressFamily.Unspecified"/> (the default) for both.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait (the OS lookup itself may run on to its end).</param>
    /// <returns>
    /// The endpoints, in the resolver's order (at least one). The task is completed on the loop thread, with
    /// its continuations run asynchronously, so an <c>await</c> in loop code resumes on the loop.
    /// </returns>
    /// <remarks>
    /// May be called from any thread. Failures come through the task: <see cref="NameResolutionException"/>
    /// naming the host when it has no address (of the family asked for) or the lookup fails, and
    /// <see cref="OperationCanceledException"/> when cancelled.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="host"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not 0–65535, or <paramref name="family"/> is not an IP family.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="NameResolutionException">Through the task: the host has no address, or the lookup failed.</exception>
    public Task<IReadOnlyList<IPEndPoint>> GetAddrInfoAsync(
        string host, int port, AddressFamily family = AddressFamily.Unspecified, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        if (family is not (AddressFamily.Unspecified or AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, "The family must be Unspecified, InterNetwork or InterNetworkV6.");
        }

        ThrowIfClosed();
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<IPEndPoint>>(cancellationToken);
        }

        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return literal.AddressFamily == family || family == AddressFamily.Unspecified
                ? Task.FromResult<IReadOnlyList<IPEndPoint>>([new IPEndPoint(literal, port)])
                : Task.FromException<IReadOnlyList<IPEndPoint>>(
                    new NameResolutionException($"Name not resolved: {host} is an {literal.AddressFamily} address, not {family}.", host));
        }

        var resolve = new ResolveOperation(this, host, port, family, cancellationToken);
        Dns.GetHostAddressesAsync(host, family, cancellationToken)
            .ContinueWith(ResolveOperation.s_resolved, resolve, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return resolve.Task;
    }

    /// <summary>One pending <see cref="GetAddrInfoAsync"/>: the lookup finishes on a pool thread and completes on the loop.</summary>
    private sealed class ResolveOperation(EventLoop loop, string host, int port, AddressFamily family, CancellationToken cancellationToken)
        : TaskCompletionSource<IReadOnlyList<IPEndPoint>>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        private static readonly Action<object?> s_complete = static state => ((ResolveOperation)state!).Complete();

        public static readonly Action<Task<IPAddress[]>, object?> s_resolved = static (lookup, state) =>
        {
            var resolve = (ResolveOperation)state!;
            resolve._lookup = lookup;
            try
            {
                resolve._loop.CallSoonThreadSafe(s_complete, resolve);
            }
            catch (ObjectDisposedException)
            {
                // The loop closed meanwhile: nothing runs on it any more, so finish here.
                resolve.Complete();
            }
        };

        private readonly EventLoop _loop = loop;
        private Task<IPAddress[]>? _lookup;

        private void Complete()
        {
            Task<IPAddress[]> lookup = _lookup!;
            if (lookup.IsCanceled)
            {
                TrySetCanceled(cancellationToken);
                return;
            }

            if (lookup.Exception?.InnerException is { } failure)
            {
                TrySetException(Classify(failure));
                return;
            }

            IPAddress[] addresses = lookup.Result;
            if (addresses.Length == 0)
            {
                string which = family == AddressFamily.Unspecified ? "address" : $"{family} address";
                TrySetException(new NameResolutionException($"Name not resolved: {host} has no {which}.", host));
                return;
            }

            var endPoints = new IPEndPoint[addresses.Length];
            for (int i = 0; i < addresses.Length; i++)
            {
                endPoints[i] = new IPEndPoint(addresses[i], port);
            }

            TrySetResult(endPoints);
        }

        private NameResolutionException Classify(Exception failure)
        {
            // Whatever the resolver said (not found, try again, no recovery, a name too long), the outcome for the
            // caller is one: the name did not resolve. SocketErrors names the common cases; the rest keep their code.
            if (failure is SocketException socketException)
            {
                NetworkException classified = SocketErrors.Classify(socketException, "resolve", host);
                return classified as NameResolutionException
                    ?? new NameResolutionException($"Name not resolved: {host} ({socketException.SocketErrorCode}).", host, socketException);
            }

            return new NameResolutionException($"Name not resolved: {host} ({failure.Message})", host, failure);
        }
    }
}
