using System.Net;
using System.Net.Sockets;
using AsyncNet.Interop;
using BenchmarkDotNet.Attributes;

namespace AsyncNet.Benchmarks.Transports;

/// <summary>
/// The syscall seam's cost with faults off (every production process): a 64-byte send and its receive on a loopback TCP
/// pair through <c>Kernel.Send</c>/<c>Kernel.Receive</c>, beside the same calls on the sockets directly. The seam's check
/// is a static readonly bool the JIT folds, so the two should not differ; the disassembly (exported beside the results)
/// shows the tier-1 bodies: the seam's is the socket call, with no read of the fault schedule.
/// </summary>
[DisassemblyDiagnoser(maxDepth: 2, exportCombinedDisassemblyReport: true)]
public class SyscallSeamBenchmark
{
    private readonly byte[] _buffer = new byte[64];
    private Socket _client = null!;
    private Socket _server = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (Kernel.FaultsEnabled)
        {
            throw new InvalidOperationException("The fault switch is on in the benchmark process: the numbers would not be production's.");
        }

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _client.Connect(listener.LocalEndPoint!);
        _server = listener.Accept();
        _client.Blocking = false;
        _server.Blocking = false;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int SocketSendReceive()
    {
        _client.Send(_buffer, SocketFlags.None, out SocketError _);
        return ReceiveAll(static (socket, buffer) => (socket.Receive(buffer, SocketFlags.None, out SocketError error), error));
    }

    [Benchmark]
    public int KernelSendReceive()
    {
        Kernel.Send(_client, _buffer, out SocketError _);
        return ReceiveAll(static (socket, buffer) => (Kernel.Receive(socket, buffer, out SocketError error), error));
    }

    /// <summary>Receives the 64 bytes just sent (loopback delivers them at once; a would-block retries).</summary>
    private int ReceiveAll(Func<Socket, byte[], (int Received, SocketError Error)> receive)
    {
        int total = 0;
        while (total < _buffer.Length)
        {
            (int received, SocketError error) = receive(_server, _buffer);
            if (error is not (SocketError.Success or SocketError.WouldBlock))
            {
                throw new SocketException((int)error);
            }

            total += received;
        }

        return total;
    }
}
