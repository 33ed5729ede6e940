using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace AsyncNet.Benchmarks.Framing;

/// <summary>
/// Payload throughput in GB/s (10^9 bytes a second): the <c>PayloadSize</c> parameter over the mean time per
/// operation, where an operation is one frame (the benchmarks set <c>OperationsPerInvoke</c> to their frame count).
/// </summary>
public sealed class PayloadThroughputColumn : IColumn
{
    /// <inheritdoc/>
    public string Id => nameof(PayloadThroughputColumn);

    /// <inheritdoc/>
    public string ColumnName => "Payload GB/s";

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => 0;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => "Payload bytes per second, in 10^9: PayloadSize / mean time per frame";

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } statistics || benchmarkCase.Parameters["PayloadSize"] is not int payloadSize)
        {
            return "NA";
        }

        // Mean is in nanoseconds per operation, so bytes per nanosecond is GB/s.
        return (payloadSize / statistics.Mean).ToString("0.00", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

/// <summary>Adds <see cref="PayloadThroughputColumn"/> to the default columns.</summary>
public sealed class FramingBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public FramingBenchmarkConfig() => AddColumn(new PayloadThroughputColumn());
}
