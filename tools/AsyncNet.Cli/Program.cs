namespace AsyncNet.Cli;

/// <summary>The <c>asyncnet</c> command line: dispatches to one command per verb.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string verb = args.Length > 0 ? args[0] : "help";
        string[] rest = args.Length > 1 ? args[1..] : [];
        try
        {
            return verb switch
            {
                "demo" => DemoCommand.Run(rest),
                "help" or "--help" or "-h" => Usage(Console.Out, 0),
                _ => Usage(Console.Error, 2, $"unknown command '{verb}'"),
            };
        }
        catch (UsageException ex)
        {
            return Usage(Console.Error, 2, ex.Message);
        }
    }

    private static int Usage(TextWriter to, int exitCode, string? problem = null)
    {
        if (problem is not null)
        {
            to.WriteLine($"asyncnet: {problem}");
        }

        to.WriteLine("usage: asyncnet <command> [options]");
        to.WriteLine("  demo     run a server and clients on loopback and show what the library does");
        return exitCode;
    }
}

/// <summary>Bad command-line arguments; the message says which.</summary>
public sealed class UsageException(string message) : Exception(message);
