using Cairn.Core.Data;

namespace Cairn.Core.Statistics;

/// <summary>
/// Summary statistics of a table, column by column, with the sketches they came from so that profiles merge
/// (<see cref="Profiler.Merge"/>) and drift tests run on them without the rows.
/// </summary>
/// <param name="Rows">How many rows were profiled.</param>
/// <param name="Columns">One profile per column, in table order.</param>
public sealed record DatasetProfile(long Rows, IReadOnlyList<ColumnProfile> Columns)
{
    /// <summary>Finds a column by exact name.</summary>
    public ColumnProfile? Find(string name) => Columns.FirstOrDefault(c => c.Name == name);
}

/// <summary>The profile of one column.</summary>
/// <param name="Name">The column name.</param>
/// <param name="Type">The schema's type: numbers and date-times get moments, quantiles and a histogram; every type gets frequent values.</param>
/// <param name="Count">Values present.</param>
/// <param name="Missing">Values missing.</param>
/// <param name="Distinct">Distinct present values: exact when <see cref="DistinctIsExact"/>, otherwise a HyperLogLog estimate (±1.6%).</param>
/// <param name="DistinctIsExact">Whether <see cref="Distinct"/> is an exact count.</param>
public sealed record ColumnProfile(string Name, ColumnType Type, long Count, long Missing, long Distinct, bool DistinctIsExact)
{
    /// <summary>The smallest value (numbers; date-times as Unix seconds).</summary>
    public double? Min { get; init; }

    /// <summary>The largest value.</summary>
    public double? Max { get; init; }

    /// <summary>The mean.</summary>
    public double? Mean { get; init; }

    /// <summary>The sample standard deviation.</summary>
    public double? Std { get; init; }

    /// <summary>Quantiles from the sketch (rank error about 1.7%): 1, 5, 25, 50, 75, 95 and 99%.</summary>
    public IReadOnlyList<QuantileValue>? Quantiles { get; init; }

    /// <summary>An equal-width histogram between min and max.</summary>
    public Histogram? Histogram { get; init; }

    /// <summary>The most frequent values, most frequent first (exact counts when the column has few distinct values).</summary>
    public IReadOnlyList<ValueCount> TopValues { get; init; } = [];

    /// <summary>The sketches behind the figures, for merging and drift.</summary>
    public required ColumnSketches Sketches { get; init; }
}

/// <summary>A quantile: the value below which a fraction <paramref name="Q"/> of the values lie.</summary>
public sealed record QuantileValue(double Q, double Value);

/// <summary>A value and how often it occurs.</summary>
public sealed record ValueCount(string Value, long Count);

/// <summary>Bin edges (one more than the bins) and counts; the first bin includes its lower edge, the others only their upper.</summary>
public sealed record Histogram(IReadOnlyList<double> Edges, IReadOnlyList<long> Counts);

/// <summary>The stored sketches of a column.</summary>
/// <param name="Moments">Count, mean and sum of squared deviations of the numbers.</param>
/// <param name="Quantiles">The quantile sketch of the numbers.</param>
/// <param name="Distinct">HyperLogLog registers.</param>
/// <param name="Frequent">The frequent-values counter: values as text (numbers in round-trip form), counts, total and error bound;
/// null for a numeric column with too many distinct values to count.</param>
public sealed record ColumnSketches(MomentsState? Moments, KllState? Quantiles, byte[] Distinct, FrequentState? Frequent);

/// <summary>The stored form of <see cref="Statistics.Moments"/>.</summary>
public sealed record MomentsState(long Count, double Mean, double SumOfSquares);

/// <summary>The stored form of a <see cref="FrequentItems{T}"/>.</summary>
public sealed record FrequentState(IReadOnlyList<ValueCount> Items, long Total, long MaxError);
