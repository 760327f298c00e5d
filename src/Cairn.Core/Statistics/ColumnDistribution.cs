using System.Globalization;
using Cairn.Core.Data;

namespace Cairn.Core.Statistics;

/// <summary>
/// What the drift tests know about one column of one table: its numbers as sorted weighted points (each distinct
/// value with its count when exact, a quantile sketch's retained values otherwise), its labels with their counts,
/// its distinct count and moments. Built from raw values (exact) or from a stored profile (sketched, with
/// <see cref="RankError"/> saying how far its cumulative distribution may be off).
/// </summary>
public sealed class ColumnDistribution
{
    private ColumnDistribution(bool numeric, long count, long distinct, bool distinctExact, double rankError)
    {
        IsNumeric = numeric;
        Count = count;
        Distinct = distinct;
        DistinctIsExact = distinctExact;
        RankError = rankError;
    }

    /// <summary>Whether the column holds numbers (otherwise labels).</summary>
    public bool IsNumeric { get; }

    /// <summary>Values present.</summary>
    public long Count { get; }

    /// <summary>Distinct values present.</summary>
    public long Distinct { get; }

    /// <summary>Whether <see cref="Distinct"/> is exact.</summary>
    public bool DistinctIsExact { get; }

    /// <summary>The largest error of the cumulative distribution as a fraction of the count: 0 for raw values.</summary>
    public double RankError { get; }

    /// <summary>Numbers: sorted distinct values (or sketch points) with their weights, summing to <see cref="Count"/>.</summary>
    public IReadOnlyList<(double Value, long Weight)> Points { get; private init; } = [];

    /// <summary>Exact counts per value (labels, or numbers in round-trip text); null when there are too many to count.</summary>
    public IReadOnlyDictionary<string, long>? Counts { get; private init; }

    /// <summary>Population variance of the numbers (numpy's np.var).</summary>
    public double PopulationVariance { get; private init; } = double.NaN;

    /// <summary>The distribution of raw numbers (NaN is skipped as missing).</summary>
    public static ColumnDistribution FromNumbers(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        var points = new List<(double Value, long Weight)>();
        var moments = default(Moments);
        foreach (var v in sorted)
        {
            moments.Add(v);
            if (points.Count > 0 && points[^1].Value == v)
            {
                points[^1] = (v, points[^1].Weight + 1);
            }
            else
            {
                points.Add((v, 1));
            }
        }

        return new ColumnDistribution(true, sorted.Length, points.Count, true, 0)
        {
            Points = points,
            Counts = points.ToDictionary(p => Format(p.Value), p => p.Weight),
            PopulationVariance = moments.PopulationVariance,
        };
    }

    /// <summary>The distribution of raw labels (null is skipped as missing).</summary>
    public static ColumnDistribution FromLabels(IEnumerable<string?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        foreach (var v in values)
        {
            if (v is not null)
            {
                counts[v] = counts.GetValueOrDefault(v) + 1;
                total++;
            }
        }

        return new ColumnDistribution(false, total, counts.Count, true, 0) { Counts = counts };
    }

    /// <summary>The distribution a stored profile describes; numbers come from its quantile sketch unless its exact counts are kept.</summary>
    public static ColumnDistribution FromProfile(ColumnProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var frequent = profile.Sketches.Frequent is { MaxError: 0 } f ? f.Items.ToDictionary(i => i.Value, i => i.Count, StringComparer.Ordinal) : null;
        if (profile.Type is not (ColumnType.Numeric or ColumnType.DateTime))
        {
            return new ColumnDistribution(false, profile.Count, profile.Distinct, profile.DistinctIsExact, 0) { Counts = frequent };
        }

        var variance = profile.Sketches.Moments is { Count: > 0 } m ? m.SumOfSquares / m.Count : double.NaN;
        if (frequent is not null)
        {
            // Few distinct numbers are counted exactly, so the distribution is exact too.
            var points = frequent.Select(p => (Value: double.Parse(p.Key, CultureInfo.InvariantCulture), Weight: p.Value)).OrderBy(p => p.Value).ToList();
            return new ColumnDistribution(true, profile.Count, points.Count, true, 0) { Points = points, Counts = frequent, PopulationVariance = variance };
        }

        var sketch = Profiler.QuantileSketch(profile) ?? new KllSketch();
        return new ColumnDistribution(true, profile.Count, profile.Distinct, profile.DistinctIsExact, KllSketch.RankError)
        {
            Points = sketch.WeightedItems(),
            PopulationVariance = variance,
        };
    }

    /// <summary>The distinct values of two columns together: exact when both are counted exactly, estimated otherwise.</summary>
    public static long DistinctOfBoth(ColumnDistribution first, ColumnDistribution second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return first.Counts is { } a && second.Counts is { } b
            ? a.Keys.Union(b.Keys, StringComparer.Ordinal).LongCount()
            : Math.Max(first.Distinct, second.Distinct);
    }

    /// <summary>How many values are below <paramref name="value"/> (or at most it, when <paramref name="inclusive"/>).</summary>
    public double WeightBelow(double value, bool inclusive)
    {
        long weight = 0;
        foreach (var (v, w) in Points)
        {
            if (v < value || (inclusive && v == value))
            {
                weight += w;
            }
            else
            {
                break;
            }
        }

        return weight;
    }

    /// <summary>Numbers in round-trip text, the key of <see cref="Counts"/> for numeric columns.</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
