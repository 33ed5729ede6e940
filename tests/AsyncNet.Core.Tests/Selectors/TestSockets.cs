using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using AsyncNet.Interop;
using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

/// <summary>The kinds of connected stream socket pair the conformance tests run over.</summary>
public enum PairKind
{
    /// <summary>TCP over 127.0.0.1.</summary>
    Tcp,

    /// <summary>Unix-domain stream sockets.</summary>
    Unix,
}

/// <summary>
/// A connected socket pair, both ends non-blocking after setup. <see cref="Client"/> connected,
/// <see cref="Server"/> was accepted. Only synchronous socket calls are made: an *Async call would hand the
/// socket to .NET's own epoll engine for good.
/// </summary>
internal sealed class SocketPair : IDisposable
{
    private SocketPair(Socket client, Socket server)
    {
        Client = client;
        Server = server;
    }

    public Socket Client { get; }

    public Socket Server { get; }

    public int ClientFd => Fd(Client);

    public int ServerFd => Fd(Server);

    public static int Fd(Socket socket) => (int)socket.SafeHandle.DangerousGetHandle();

    public static SocketPair Create(PairKind kind) => kind == PairKind.Tcp ? CreateTcp() : CreateUnix();

    public static SocketPair CreateTcp()
    {
        using Socket listener = ListenTcp();
        return ConnectTcp(listener);
    }

    /// <summary>Creates <paramref name="count"/> TCP pairs through one listener; all or nothing.</summary>
    public static List<SocketPair> CreateTcpPairs(int count)
    {
        var pairs = new List<SocketPair>(count);
        try
        {
            using Socket listener = ListenTcp();
            for (int i = 0; i < count; i++)
            {
                pairs.Add(ConnectTcp(listener));
            }

            return pairs;
        }
        catch
        {
            pairs.ForEach(p => p.Dispose());
            throw;
        }
    }

    public static SocketPair CreateUnix()
    {
        string path = Path.Combine(Path.GetTempPath(), $"asyncnet-{Guid.NewGuid():N}.sock");
        var endPoint = new UnixDomainSocketEndPoint(path);
        try
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(endPoint);
            listener.Listen(1);
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                client.Connect(endPoint);
                Socket server = listener.Accept();
                client.Blocking = false;
                server.Blocking = false;
                return new SocketPair(client, server);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Sends all of <paramref name="text"/> in one call (small messages always fit the buffer).</summary>
    public static void Send(Socket socket, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        int sent = socket.Send(bytes, SocketFlags.None, out SocketError error);
        Assert.Equal(SocketError.Success, error);
        Assert.Equal(bytes.Length, sent);
    }

    /// <summary>Receives up to <paramref name="max"/> bytes that must be there already.</summary>
    public static string Receive(Socket socket, int max)
    {
        var buffer = new byte[max];
        int n = socket.Receive(buffer, SocketFlags.None, out SocketError error);
        Assert.Equal(SocketError.Success, error);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    /// <summary>Closes the client with SO_LINGER 0, so the server receives a reset instead of an end of stream.</summary>
    public void ResetClient()
    {
        Client.LingerState = new LingerOption(enable: true, seconds: 0);
        Client.Dispose();
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }

    private static Socket ListenTcp()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(64);
        return listener;
    }

    private static SocketPair ConnectTcp(Socket listener)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            client.Connect(listener.LocalEndPoint!);
            Socket server = listener.Accept();
            client.Blocking = false;
            server.Blocking = false;
            client.NoDelay = true;
            server.NoDelay = true;
            return new SocketPair(client, server);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}

/// <summary>Runs blocking work on a background thread with a deadline, so a selector that never returns fails the test instead of hanging the run.</summary>
internal static class Bounded
{
    /// <summary>The longest any single bounded step may take.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);

    public static T Run<T>(Func<T> work, TimeSpan? limit = null)
    {
        Thread thread = Start(work, out Func<T> result);
        Join(thread, limit ?? Limit);
        return result();
    }

    /// <summary>Starts <paramref name="work"/>; <paramref name="result"/> rethrows its exception, if any, once joined.</summary>
    public static Thread Start<T>(Func<T> work, out Func<T> result)
    {
        T value = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                value = work();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true, // a selector stuck for good must not keep the test host alive
            Name = "bounded test work",
        };
        thread.Start();
        result = () =>
        {
            error?.Throw();
            return value;
        };
        return thread;
    }

    public static void Join(Thread thread, TimeSpan limit)
    {
        if (!thread.Join(limit))
        {
            Assert.Fail($"The operation did not finish within {limit.TotalSeconds} s.");
        }
    }

    /// <summary>Selects on a background thread and copies the result (the span is only valid until the next call).</summary>
    public static SelectorReady[] SelectBounded(this ISelector selector, TimeSpan? timeout) =>
        Run(() => selector.Select(timeout).ToArray());

    /// <summary>Selects until <paramref name="done"/> holds for a result, for at most <see cref="Limit"/>; returns that result.</summary>
    public static SelectorReady[] SelectUntil(this ISelector selector, Func<SelectorReady[], bool> done)
    {
        DateTime deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            TimeSpan left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, $"The expected readiness was not reported within {Limit.TotalSeconds} s.");
            SelectorReady[] ready = selector.SelectBounded(left);
            if (done(ready))
            {
                return ready;
            }
        }
    }

    /// <summary>Selects until <paramref name="key"/> is reported with every event in <paramref name="expected"/>; returns what it reported.</summary>
    public static SelectorEvents WaitFor(this ISelector selector, SelectorKey key, SelectorEvents expected)
    {
        SelectorReady[] ready = selector.SelectUntil(r => r.Any(e => ReferenceEquals(e.Key, key) && (e.Events & expected) == expected));
        return Assert.Single(ready, e => ReferenceEquals(e.Key, key)).Events;
    }
}

/// <summary>libc calls only the tests need.</summary>
internal static unsafe partial class TestLibc
{
    private static int s_nextHighFd;

    static TestLibc()
    {
        // Room for the 1,100-pair tests of three selectors running in parallel, with plenty to spare.
        SoftFdLimit = EnsureFdLimit(16384);
        s_nextHighFd = SoftFdLimit;
    }

    /// <summary>The soft RLIMIT_NOFILE after raising it as far as the hard limit allows.</summary>
    public static int SoftFdLimit { get; }

    private static int RLIMIT_NOFILE => OperatingSystem.IsLinux() ? 7 : 8;

    /// <summary>
    /// A descriptor number just under the soft limit, different on every call. Descriptors are handed out lowest
    /// first, so nothing else in the process opens one this high: a test can dup onto it, close it, and know the
    /// number stays closed (a low number could be reused at once by a test running in parallel).
    /// </summary>
    public static int NextHighFd()
    {
        int fd = Interlocked.Decrement(ref s_nextHighFd);
        Assert.False(Libc.IsOpen(fd), $"Descriptor {fd} was expected to be free.");
        return fd;
    }

    /// <summary>Makes <paramref name="newFd"/> a duplicate of <paramref name="oldFd"/>.</summary>
    public static void Dup2(int oldFd, int newFd)
    {
        Assert.True(dup2(oldFd, newFd) == newFd, $"dup2 failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public static (FileDescriptorHandle Read, FileDescriptorHandle Write) CreatePipe()
    {
        int* fds = stackalloc int[2];
        Assert.True(Libc.pipe2(fds, Libc.O_NONBLOCK | Libc.O_CLOEXEC_LINUX) == 0, $"pipe2 failed: errno {Marshal.GetLastPInvokeError()}");
        return (new FileDescriptorHandle(fds[0]), new FileDescriptorHandle(fds[1]));
    }

    public static FileDescriptorHandle CreateEventFd()
    {
        int fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        Assert.True(fd >= 0, $"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
        return new FileDescriptorHandle(fd);
    }

    public static void WriteByte(FileDescriptorHandle fd, byte value)
    {
        Assert.Equal(1, (int)Libc.write(fd, &value, 1));
    }

    /// <summary>Reads what is there; -1 when nothing is (EAGAIN).</summary>
    public static int Read(FileDescriptorHandle fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint n = Libc.read(fd, p, (nuint)buffer.Length);
            if (n == -1)
            {
                Assert.Equal(Libc.EAGAIN, Marshal.GetLastPInvokeError());
            }

            return (int)n;
        }
    }

    public static void WriteCounter(FileDescriptorHandle eventFd, ulong value)
    {
        Assert.Equal(sizeof(ulong), (int)Libc.write(eventFd, (byte*)&value, sizeof(ulong)));
    }

    public static ulong ReadCounter(FileDescriptorHandle eventFd)
    {
        ulong value;
        Assert.Equal(sizeof(ulong), (int)Libc.read(eventFd, (byte*)&value, sizeof(ulong)));
        return value;
    }

    private static int EnsureFdLimit(int wanted)
    {
        Assert.True(getrlimit(RLIMIT_NOFILE, out RLimit limit) == 0, $"getrlimit failed: errno {Marshal.GetLastPInvokeError()}");
        if (limit.Cur < (ulong)wanted && limit.Cur < limit.Max)
        {
            var raised = new RLimit { Cur = Math.Min((ulong)wanted, limit.Max), Max = limit.Max };
            Assert.True(setrlimit(RLIMIT_NOFILE, raised) == 0, $"setrlimit failed: errno {Marshal.GetLastPInvokeError()}");
            limit = raised;
        }

        return (int)Math.Min(limit.Cur, int.MaxValue);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Cur;
        public ulong Max;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup2(int oldfd, int newfd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out RLimit rlim);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, in RLimit rlim);
}
