using BenchmarkDotNet.Running;

namespace AsyncNet.Benchmarks;

/// <summary>Runs BenchmarkDotNet over this assembly: <c>./build.sh bench --filter '*Loop*'</c>, or <c>--job short</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
