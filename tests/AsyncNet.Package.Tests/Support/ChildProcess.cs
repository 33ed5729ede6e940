using System.Diagnostics;
using System.Text;

namespace AsyncNet.Package.Tests.Support;

/// <summary>A child process (dotnet, build.sh, the installed tool) with its output captured and its run bounded in time.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _commandLine;

    private ChildProcess(string fileName, IReadOnlyList<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host's MSBuild variables would steer a child `dotnet build` into the host's SDK state; drop them.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach ((string name, string? value) in environment)
        {
            start.Environment[name] = value;
        }

        _commandLine = $"{fileName} {string.Join(' ', arguments)}";
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything written to standard output and error so far, interleaved by line.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public int Id => _process.Id;

    public static ChildProcess Start(string fileName, IReadOnlyList<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?> environment) =>
        new(fileName, arguments, workingDirectory, environment);

    /// <summary>Runs to the end within <paramref name="timeout"/> and returns the output; a non-zero exit code fails the test with it.</summary>
    public static string Run(string fileName, IReadOnlyList<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?> environment, TimeSpan timeout)
    {
        using ChildProcess child = Start(fileName, arguments, workingDirectory, environment);
        int code = child.WaitForExit(timeout);
        Assert.True(code == 0, $"'{child._commandLine}' exited with {code}:\n{child.Output}");
        return child.Output;
    }

    /// <summary>Waits for the exit within <paramref name="timeout"/> (killing the process tree after it) and returns the exit code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"'{_commandLine}' did not finish within {timeout}:\n{Output}");
        }

        _process.WaitForExit(); // the output's last lines
        return _process.ExitCode;
    }

    /// <summary>Waits until a line containing <paramref name="fragment"/> was written, within <paramref name="timeout"/>.</summary>
    public string WaitForLine(string fragment, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        lock (_output)
        {
            while (true)
            {
                string? line = _output.ToString().Split('\n').FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal));
                if (line is not null)
                {
                    return line;
                }

                TimeSpan left = timeout - clock.Elapsed;
                Assert.True(left > TimeSpan.Zero && !_process.HasExited, $"No line with '{fragment}' from '{_commandLine}' within {timeout}:\n{_output}");
                Monitor.Wait(_output, TimeSpan.FromMilliseconds(Math.Min(left.TotalMilliseconds, 500)));
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(line).Append('\n');
            Monitor.PulseAll(_output);
        }
    }
}
