using AsyncNet.Errors;

namespace AsyncNet.Cli;

/// <summary>
/// The exit codes of <c>asyncnet</c>'s commands: every verb uses the same number for the same outcome, so a script can
/// read them the same way whatever the verb.
/// </summary>
public static class ExitCodes
{
    /// <summary>The table the root's <c>--help</c> ends with, one "CODE  meaning" per line.</summary>
    internal const string Help =
        "0    success (echo-server, proxy: stopped gracefully)\n" +
        "1    bench: an echoed byte differed; fuzz: a case failed; demo: a check failed\n" +
        "2    bad arguments: an unknown command or option, a missing or invalid value\n" +
        "5    the host name did not resolve\n" +
        "6    connection refused: nothing listens at the address\n" +
        "7    a connection was reset or closed by the server, aborted, timed out, or failed otherwise\n" +
        "10   echo-server, proxy: the address is in use\n" +
        "130  bench or fuzz interrupted by Ctrl-C or SIGTERM";

    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>A check failed: <c>bench</c> saw an echoed byte differ from the one sent; the demo's summary failed.</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments: an unknown command or option, a missing or invalid value.</summary>
    public const int Usage = 2;

    /// <summary>The host name could not be resolved.</summary>
    public const int NameNotResolved = 5;

    /// <summary>The connection was refused: nothing listens at the address.</summary>
    public const int ConnectionRefused = 6;

    /// <summary>A connection was reset or closed by the peer, aborted, timed out, or failed with another network error.</summary>
    public const int ConnectionFailed = 7;

    /// <summary><c>echo-server</c>, <c>proxy</c>: the address is already in use, or could not be listened on.</summary>
    public const int AddressInUse = 10;

    /// <summary><c>bench</c> was stopped (Ctrl-C, SIGTERM) before it finished; 128 + SIGINT, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>Reports a network failure on <paramref name="stderr"/> as "COMMAND: what: message" and returns its exit code.</summary>
    /// <param name="command">The command's name.</param>
    /// <param name="failure">The failure.</param>
    /// <param name="stderr">Where to report it.</param>
    /// <returns><see cref="ConnectionRefused"/>, <see cref="NameNotResolved"/>, <see cref="AddressInUse"/> or <see cref="ConnectionFailed"/>.</returns>
    public static int Report(string command, NetworkException failure, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(stderr);
        (string what, int code) = failure switch
        {
            ConnectionRefusedException => ("connection refused", ConnectionRefused),
            NameResolutionException => ("name not resolved", NameNotResolved),
            AddressInUseException => ("address in use", AddressInUse),
            ConnectionResetException => ("connection reset", ConnectionFailed),
            _ => ("connection failed", ConnectionFailed),
        };
        stderr.WriteLine($"{command}: {what}: {failure.Message}");
        return code;
    }
}
