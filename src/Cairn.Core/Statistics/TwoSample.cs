namespace Cairn.Core.Statistics;

/// <summary>A test statistic and, for hypothesis tests, its p-value.</summary>
public readonly record struct TestResult(double Statistic, double PValue);

/// <summary>
/// Two-sample tests and distances between distributions, computed as scipy computes them (provenance of the
/// reference values the tests check is in tests/Cairn.Core.Tests/reference).
/// </summary>
public static class TwoSample
{
    /// <summary>Above this many values in the larger sample the Kolmogorov–Smirnov p-value is asymptotic, as scipy's ks_2samp decides.</summary>
    public const int ExactKsLimit = 10_000;

    /// <summary>
    /// The two-sided two-sample Kolmogorov–Smirnov test: D = sup |F₁ - F₂| over the weighted points of two sorted
    /// distributions; the p-value exact (lattice paths) while both samples are at most <see cref="ExactKsLimit"/>,
    /// otherwise from Kolmogorov's limiting distribution at √(nm/(n+m))·D.
    /// </summary>
    public static TestResult KolmogorovSmirnov(IReadOnlyList<(double Value, long Weight)> first, IReadOnlyList<(double Value, long Weight)> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var n = first.Sum(p => p.Weight);
        var m = second.Sum(p => p.Weight);
        if (n == 0 || m == 0)
        {
            return new TestResult(double.NaN, double.NaN);
        }

        // Walk both step functions; |i·m - j·n| is D·n·m in integers, so ties and the exact path count agree.
        long i = 0, j = 0, a = 0, b = 0, largest = 0;
        while (a < first.Count || b < second.Count)
        {
            var x = Math.Min(a < first.Count ? first[(int)a].Value : double.PositiveInfinity, b < second.Count ? second[(int)b].Value : double.PositiveInfinity);
            while (a < first.Count && first[(int)a].Value == x)
            {
                i += first[(int)a++].Weight;
            }

            while (b < second.Count && second[(int)b].Value == x)
            {
                j += second[(int)b++].Weight;
            }

            largest = Math.Max(largest, Math.Abs((i * m) - (j * n)));
        }

        var d = (double)largest / n / m;
        var p = Math.Max(n, m) <= ExactKsLimit ? ExactKsPValue((int)n, (int)m, largest) : Distributions.KolmogorovSf(Math.Sqrt((double)n * m / (n + m)) * d);
        return new TestResult(d, Math.Clamp(p, 0, 1));
    }

    /// <summary>The same on raw values.</summary>
    public static TestResult KolmogorovSmirnov(IEnumerable<double> first, IEnumerable<double> second) =>
        KolmogorovSmirnov(ColumnDistribution.FromNumbers(first).Points, ColumnDistribution.FromNumbers(second).Points);

    /// <summary>Pearson's chi-squared goodness of fit of observed counts to expected counts (k - 1 degrees of freedom), as scipy.stats.chisquare.</summary>
    public static TestResult ChiSquared(IReadOnlyList<double> observed, IReadOnlyList<double> expected)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(expected);
        if (observed.Count != expected.Count || observed.Count < 2)
        {
            throw new ArgumentException("A chi-squared test needs two or more categories, with as many expected counts as observed.");
        }

        double statistic = 0;
        for (var k = 0; k < observed.Count; k++)
        {
            var difference = observed[k] - expected[k];
            statistic += difference * difference / expected[k];
        }

        return new TestResult(statistic, Distributions.ChiSquaredSf(statistic, observed.Count - 1));
    }

    /// <summary>The two-sided two-proportion Z-test: did the share of successes change between samples?</summary>
    public static TestResult TwoProportionZ(long successes1, long total1, long successes2, long total2)
    {
        var p1 = (double)successes1 / total1;
        var p2 = (double)successes2 / total2;
        var pooled = (double)(successes1 + successes2) / (total1 + total2);
        var z = (p1 - p2) / Math.Sqrt(pooled * (1 - pooled) * ((1.0 / total1) + (1.0 / total2)));
        return double.IsNaN(z) ? new TestResult(0, 1) : new TestResult(z, 2 * Distributions.NormalSf(Math.Abs(z)));
    }

    /// <summary>The first Wasserstein (earth mover's) distance between two weighted distributions: ∫ |F₁(x) - F₂(x)| dx.</summary>
    public static double Wasserstein(IReadOnlyList<(double Value, long Weight)> first, IReadOnlyList<(double Value, long Weight)> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        double n = first.Sum(p => p.Weight), m = second.Sum(p => p.Weight);
        if (n == 0 || m == 0)
        {
            return double.NaN;
        }

        double distance = 0, f = 0, g = 0, previous = double.NaN;
        int a = 0, b = 0;
        while (a < first.Count || b < second.Count)
        {
            var x = Math.Min(a < first.Count ? first[a].Value : double.PositiveInfinity, b < second.Count ? second[b].Value : double.PositiveInfinity);
            if (!double.IsNaN(previous))
            {
                distance += Math.Abs(f - g) * (x - previous);
            }

            while (a < first.Count && first[a].Value == x)
            {
                f += first[a++].Weight / n;
            }

            while (b < second.Count && second[b].Value == x)
            {
                g += second[b++].Weight / m;
            }

            previous = x;
        }

        return distance;
    }

    /// <summary>The Jensen–Shannon distance between two histograms (each normalized to sum 1), with logarithms in <paramref name="logBase"/>, as scipy.spatial.distance.jensenshannon.</summary>
    public static double JensenShannon(IReadOnlyList<double> p, IReadOnlyList<double> q, double logBase = 2)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(q);
        double sp = p.Sum(), sq = q.Sum(), divergence = 0;
        for (var k = 0; k < p.Count; k++)
        {
            double pk = p[k] / sp, qk = q[k] / sq, mk = (pk + qk) / 2;
            divergence += (pk > 0 ? pk * Math.Log(pk / mk) : 0) + (qk > 0 ? qk * Math.Log(qk / mk) : 0);
        }

        return Math.Sqrt(Math.Max(0, divergence / 2 / Math.Log(logBase)));
    }

    /// <summary>The population stability index Σ (r - c)·ln(r / c) over the shares of matching bins (no share may be 0).</summary>
    public static double Psi(IReadOnlyList<double> reference, IReadOnlyList<double> current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        double psi = 0;
        for (var k = 0; k < reference.Count; k++)
        {
            psi += (reference[k] - current[k]) * Math.Log(reference[k] / current[k]);
        }

        return psi;
    }

    // P(D ≥ d) for samples of n and m with no ties, where largest = d·n·m: one minus the probability that a random
    // lattice path from (0,0) to (n,m) keeps |i·m - j·n| below it. Steps are taken with their sequential-sampling
    // probabilities, which keeps every number in [0, 1] however large the binomial counts grow.
    private static double ExactKsPValue(int n, int m, long largest)
    {
        var inside = new double[m + 1];
        for (var i = 0; i <= n; i++)
        {
            for (var j = 0; j <= m; j++)
            {
                double reach;
                if (i == 0 && j == 0)
                {
                    reach = 1;
                }
                else
                {
                    // Arriving from (i-1, j) took a step in the first sample; from (i, j-1) a step in the second.
                    var fromLeft = i > 0 ? inside[j] * (n - i + 1) / (double)(n - i + 1 + m - j) : 0;
                    var fromBelow = j > 0 ? inside[j - 1] * (m - j + 1) / (double)(n - i + m - j + 1) : 0;
                    reach = fromLeft + fromBelow;
                }

                inside[j] = Math.Abs(((long)i * m) - ((long)j * n)) < largest ? reach : 0;
            }
        }

        return 1 - inside[m];
    }
}
