using System.Globalization;
using Cairn.Core.Data;

namespace Cairn.Core.Statistics;

/// <summary>The drift tests and distances Cairn runs.</summary>
public enum DriftMethod
{
    /// <summary>Two-sample Kolmogorov–Smirnov test (p-value).</summary>
    KolmogorovSmirnov,

    /// <summary>Chi-squared goodness of fit of the current counts to the reference shares (p-value).</summary>
    ChiSquared,

    /// <summary>Two-proportion Z-test for a column with two values (p-value).</summary>
    ZTest,

    /// <summary>Wasserstein distance divided by the reference standard deviation.</summary>
    Wasserstein,

    /// <summary>Jensen–Shannon distance (base 2) of binned shares.</summary>
    JensenShannon,

    /// <summary>Population stability index of binned shares.</summary>
    Psi,
}

/// <summary>The drift verdict for one column.</summary>
/// <param name="Column">The column.</param>
/// <param name="Method">The test or distance used.</param>
/// <param name="Score">A p-value for tests (drift when below the threshold), a distance otherwise (drift at or above it).</param>
/// <param name="Threshold">The threshold applied.</param>
/// <param name="Drifted">Whether the column drifted.</param>
/// <param name="Exact">Whether the score was computed from exact distributions; false when a quantile sketch stood in for the values.</param>
public sealed record ColumnDrift(string Column, DriftMethod Method, double Score, double Threshold, bool Drifted, bool Exact)
{
    /// <summary>For sketched numbers: the bound on the error of the underlying statistic (D for KS, the normed distance for Wasserstein); null when exact.</summary>
    public double? ErrorBound { get; init; }

    /// <summary>The statistic behind a p-value (D, chi², z); null for distances.</summary>
    public double? Statistic { get; init; }
}

/// <summary>Drift of a whole table.</summary>
/// <param name="Columns">One verdict per compared column.</param>
/// <param name="DriftedShare">The share of compared columns that drifted.</param>
/// <param name="Drifted">Whether the table drifted: at least <see cref="DriftDetector.DatasetDriftShare"/> of its columns did.</param>
/// <param name="Skipped">Columns not compared, with the reason.</param>
public sealed record DriftReport(IReadOnlyList<ColumnDrift> Columns, double DriftedShare, bool Drifted, IReadOnlyDictionary<string, string> Skipped);

/// <summary>
/// Chooses and runs drift tests the way Evidently does by default: by column type, distinct values and reference size.
/// With at most 1000 reference values: numbers with more than 5 distinct values get Kolmogorov–Smirnov; labels and
/// numbers with 3–5 values get chi-squared, with 2 or fewer the Z-test (drift when p &lt; 0.05). With more reference
/// values: numbers with more than 5 distinct values get the normed Wasserstein distance, the rest Jensen–Shannon
/// (drift when ≥ 0.1). A table drifted when at least half of its columns did.
/// </summary>
public static class DriftDetector
{
    /// <summary>Tests report drift below this p-value.</summary>
    public const double PValueThreshold = 0.05;

    /// <summary>Distances report drift at or above this value.</summary>
    public const double DistanceThreshold = 0.1;

    /// <summary>The share of drifted columns at which the table has drifted.</summary>
    public const double DatasetDriftShare = 0.5;

    /// <summary>References up to this many values are small, and get hypothesis tests rather than distances.</summary>
    public const int SmallReference = 1000;

    /// <summary>Evidently's default method for a column.</summary>
    public static DriftMethod DefaultMethod(bool numeric, long referenceCount, long distinctOfBoth) =>
        (referenceCount <= SmallReference, numeric) switch
        {
            (true, true) when distinctOfBoth > 5 => DriftMethod.KolmogorovSmirnov,
            (true, _) => distinctOfBoth > 2 ? DriftMethod.ChiSquared : DriftMethod.ZTest,
            (false, true) when distinctOfBoth > 5 => DriftMethod.Wasserstein,
            _ => DriftMethod.JensenShannon,
        };

    /// <summary>Compares every column two profiles share (text columns and columns whose type changed are skipped, with the reason).</summary>
    public static DriftReport Compare(DatasetProfile reference, DatasetProfile current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var results = new List<ColumnDrift>();
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var column in reference.Columns)
        {
            var other = current.Find(column.Name);
            if (SkipReason(column, other) is { } reason)
            {
                skipped[column.Name] = reason;
                continue;
            }

            results.Add(Compare(column.Name, ColumnDistribution.FromProfile(column), ColumnDistribution.FromProfile(other!)));
        }

        foreach (var column in current.Columns.Where(c => reference.Find(c.Name) is null))
        {
            skipped[column.Name] = "not in the reference data";
        }

        return Summarize(results, skipped);
    }

    /// <summary>Why a column cannot be tested for drift, or null when it can.</summary>
    public static string? SkipReason(ColumnProfile reference, ColumnProfile? current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return current switch
        {
            null => "not in the current data",
            _ when current.Type != reference.Type => $"type changed from {Name(reference.Type)} to {Name(current.Type)}",
            _ when reference.Type == ColumnType.Text => "free text is not tested for drift",
            _ when reference.Count == 0 || current.Count == 0 => "no values present",
            _ => null,
        };
    }

    /// <summary>Summarizes column verdicts into a table verdict.</summary>
    public static DriftReport Summarize(IReadOnlyList<ColumnDrift> columns, IReadOnlyDictionary<string, string> skipped)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var share = columns.Count == 0 ? 0 : (double)columns.Count(c => c.Drifted) / columns.Count;
        return new DriftReport(columns, share, columns.Count > 0 && share >= DatasetDriftShare, skipped);
    }

    /// <summary>Compares one column, with the default method unless one is given.</summary>
    public static ColumnDrift Compare(string column, ColumnDistribution reference, ColumnDistribution current, DriftMethod? method = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var chosen = method ?? DefaultMethod(reference.IsNumeric, reference.Count, ColumnDistribution.DistinctOfBoth(reference, current));
        var exact = reference.RankError == 0 && current.RankError == 0;
        var rankError = reference.RankError + current.RankError;
        switch (chosen)
        {
            case DriftMethod.KolmogorovSmirnov:
            {
                var (d, p) = TwoSample.KolmogorovSmirnov(reference.Points, current.Points);
                return new ColumnDrift(column, chosen, p, PValueThreshold, p < PValueThreshold, exact)
                {
                    Statistic = d,
                    ErrorBound = exact ? null : rankError,
                };
            }

            case DriftMethod.Wasserstein:
            {
                var norm = Math.Max(Math.Sqrt(reference.PopulationVariance), 0.001);
                var distance = TwoSample.Wasserstein(reference.Points, current.Points) / norm;
                var span = Math.Max(reference.Points[^1].Value, current.Points[^1].Value) - Math.Min(reference.Points[0].Value, current.Points[0].Value);
                return new ColumnDrift(column, chosen, distance, DistanceThreshold, distance >= DistanceThreshold, exact)
                {
                    ErrorBound = exact ? null : rankError * span / norm,
                };
            }

            case DriftMethod.ChiSquared:
            {
                var (keys, r, c) = Counted(reference, current);
                if (keys.Count < 2)
                {
                    return new ColumnDrift(column, chosen, 1, PValueThreshold, false, exact) { Statistic = 0 };
                }

                var scale = (double)current.Count / reference.Count;
                var (statistic, p) = TwoSample.ChiSquared(c, [.. r.Select(x => x * scale)]);
                p = double.IsPositiveInfinity(statistic) ? 0 : p;
                return new ColumnDrift(column, chosen, p, PValueThreshold, p < PValueThreshold, exact) { Statistic = statistic };
            }

            case DriftMethod.ZTest:
            {
                var (keys, r, c) = Counted(reference, current);
                if (keys.Count < 2)
                {
                    return new ColumnDrift(column, chosen, 1, PValueThreshold, false, exact) { Statistic = 0 };
                }

                // Successes are the values other than the first key in sorted order, as Evidently counts them.
                var (z, p) = TwoSample.TwoProportionZ(reference.Count - (long)r[0], reference.Count, current.Count - (long)c[0], current.Count);
                return new ColumnDrift(column, chosen, p, PValueThreshold, p < PValueThreshold, exact) { Statistic = z };
            }

            case DriftMethod.JensenShannon:
            case DriftMethod.Psi:
            {
                var (r, c) = Binned(reference, current);
                if (chosen == DriftMethod.JensenShannon)
                {
                    var distance = TwoSample.JensenShannon(r, c);
                    return new ColumnDrift(column, chosen, distance, DistanceThreshold, distance >= DistanceThreshold, exact);
                }

                var psi = TwoSample.Psi(FillZeros(r), FillZeros(c));
                return new ColumnDrift(column, chosen, psi, DistanceThreshold, psi >= DistanceThreshold, exact);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(method), chosen, "Unknown drift method.");
        }
    }

    /// <summary>
    /// Shares per bin as Evidently bins them: numbers whose reference has more than 20 distinct values fall into
    /// Sturges' number of equal-width bins over both samples' range (numpy's histogram_bin_edges), everything else
    /// is counted per value.
    /// </summary>
    public static (double[] Reference, double[] Current) Binned(ColumnDistribution reference, ColumnDistribution current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        if (!reference.IsNumeric || reference.Distinct <= 20 && reference.Counts is not null && current.Counts is not null)
        {
            var (_, r, c) = Counted(reference, current);
            return ([.. r.Select(x => x / reference.Count)], [.. c.Select(x => x / current.Count)]);
        }

        var min = Math.Min(reference.Points[0].Value, current.Points[0].Value);
        var max = Math.Max(reference.Points[^1].Value, current.Points[^1].Value);
        var bins = (int)Math.Ceiling(Math.Log2(reference.Count + current.Count) + 1);
        if (min == max)
        {
            (min, max) = (min - 0.5, max + 0.5);
        }

        var step = (max - min) / bins;
        var edges = Enumerable.Range(0, bins + 1).Select(k => k == bins ? max : (k * step) + min).ToArray();
        return (Histogram(reference, edges), Histogram(current, edges));
    }

    // numpy.histogram's bins: [e_k, e_k+1), the last one closed.
    private static double[] Histogram(ColumnDistribution distribution, double[] edges)
    {
        var bins = edges.Length - 1;
        var counts = new double[bins];
        var norm = bins / (edges[^1] - edges[0]);
        foreach (var (value, weight) in distribution.Points)
        {
            var index = Math.Clamp((int)((value - edges[0]) * norm), 0, bins - 1);
            if (value < edges[index])
            {
                index--;
            }
            else if (index < bins - 1 && value >= edges[index + 1])
            {
                index++;
            }

            counts[index] += weight;
        }

        return [.. counts.Select(c => c / distribution.Count)];
    }

    // The union of both columns' values in sorted order (numbers numerically) with each side's counts.
    private static (List<string> Keys, double[] Reference, double[] Current) Counted(ColumnDistribution reference, ColumnDistribution current)
    {
        var referenceCounts = reference.Counts ?? throw CairnException.Invalid("This column has too many distinct values to compare value by value.");
        var currentCounts = current.Counts ?? throw CairnException.Invalid("This column has too many distinct values to compare value by value.");
        var union = referenceCounts.Keys.Union(currentCounts.Keys, StringComparer.Ordinal);
        List<string> keys = reference.IsNumeric
            ? [.. union.OrderBy(k => double.Parse(k, CultureInfo.InvariantCulture))]
            : [.. union.Order(StringComparer.Ordinal)];
        return (keys, [.. keys.Select(k => (double)referenceCounts.GetValueOrDefault(k))], [.. keys.Select(k => (double)currentCounts.GetValueOrDefault(k))]);
    }

    // Evidently replaces empty bins by a tiny share so the logarithm stays finite: a millionth of the smallest
    // non-empty share when that is at most 0.0001, else 0.0001.
    private static double[] FillZeros(double[] shares)
    {
        var smallest = shares.Where(s => s > 0).DefaultIfEmpty(1).Min();
        var fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
        return [.. shares.Select(s => s == 0 ? fill : s)];
    }

    private static string Name(ColumnType type) => type.ToString().ToLowerInvariant();
}
