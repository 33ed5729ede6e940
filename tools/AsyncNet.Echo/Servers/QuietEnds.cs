using AsyncNet.Errors;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Echo.Servers;

/// <summary>The ends of an echo connection that are nobody's error: the client went away, or the server is closing.</summary>
internal static class QuietEnds
{
    /// <summary>Awaits a connection's echo, treating a reset by the client and a write refused while closing as its end.</summary>
    /// <param name="echo">The connection's echo loop.</param>
    /// <param name="writer">The connection's writer, to tell a closing server's refused write from a bug.</param>
    /// <returns>A task that fails only with an error that is not one of those ends.</returns>
    public static async Task ServeAsync(Task echo, StreamWriter writer)
    {
        try
        {
            await echo;
        }
        catch (NetworkException)
        {
            // The client reset or aborted the connection: nothing to echo to any more.
        }
        catch (InvalidOperationException) when (writer.IsClosing)
        {
            // The server is closing: its connections are closed, so this handler's last write was refused.
        }
    }
}
