using System.Diagnostics;
using System.Globalization;

namespace AsyncNet.EchoBench;

/// <summary>User and system CPU time, from /proc, in seconds.</summary>
internal readonly record struct CpuTimes(double User, double System)
{
    private const double Tick = 1.0 / 100; // USER_HZ is 100 on Linux

    public static CpuTimes Process() => Parse(File.ReadAllText("/proc/self/stat"));

    /// <summary>The CPU time of one thread of this process, by OS thread id; zero if the id is unknown (0).</summary>
    public static CpuTimes Thread(int tid) => tid == 0 ? default : Parse(File.ReadAllText($"/proc/self/task/{tid}/stat"));

    public double Total => User + System;

    /// <summary>The whole machine's busy CPU time (user, nice, system, irq, softirq, steal) as User, and 0 as System.</summary>
    public static CpuTimes Machine()
    {
        // "cpu  user nice system idle iowait irq softirq steal ...", in USER_HZ ticks.
        string[] f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long busy = new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(f[i], CultureInfo.InvariantCulture));
        return new CpuTimes(busy * Tick, 0);
    }

    /// <summary>
    /// Waits until the machine is quiet: other processes use less than <paramref name="maxPercent"/> of one CPU over a
    /// one-second sample (as the shared echo harness does), or <paramref name="timeout"/> passes.
    /// </summary>
    /// <returns>The seconds spent waiting, and the last sample's busy percentage.</returns>
    public static (double Waited, double BusyPercent) WaitForQuiet(double maxPercent, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        double busy;
        do
        {
            CpuTimes machine0 = Machine();
            CpuTimes self0 = Process();
            global::System.Threading.Thread.Sleep(1000);
            busy = ((Machine() - machine0).Total - (Process() - self0).Total) * 100;
        }
        while (busy >= maxPercent && clock.Elapsed < timeout);
        return (clock.Elapsed.TotalSeconds - 1, busy);
    }

    public static CpuTimes operator -(CpuTimes a, CpuTimes b) => new(a.User - b.User, a.System - b.System);

    private static CpuTimes Parse(string stat)
    {
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return new CpuTimes(long.Parse(fields[11], CultureInfo.InvariantCulture) * Tick, long.Parse(fields[12], CultureInfo.InvariantCulture) * Tick);
    }
}
