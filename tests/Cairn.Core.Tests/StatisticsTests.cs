using System.Text.Json;
using Cairn.Core.Statistics;

namespace Cairn.Core.Tests;

/// <summary>
/// Checks the statistics library against values SciPy computed (reference/drift_reference.py says how; the JSON
/// beside it holds the results). Samples are formulas both languages evaluate to the same doubles.
/// </summary>
public sealed class StatisticsTests
{
    private const double Phi = 0.6180339887498949;

    private static readonly double Sqrt2 = Math.Sqrt(2.0);

    private static readonly JsonElement Reference =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "reference", "drift_reference.json"))).RootElement;

    /// <summary>The same sequences as sample() in drift_reference.py.</summary>
    internal static double[] Sample(string kind, int n) => [.. Enumerable.Range(1, n).Select(i => kind switch
    {
        "u" => Frac(i * Phi),
        "v" => (Frac(i * Sqrt2) * 1.1) + 0.05,
        "w" => Frac(i * Phi) * Frac(i * Sqrt2) * 2.0,
        "x" => Frac((i * Phi) + (0.02 * Frac(i * Sqrt2))),
        "q" => Frac((double)i * i * Phi),
        "r" => Frac((double)i * i * Sqrt2) * 1.01,
        "t" => Math.Floor(Frac(i * Phi) * 10.0) / 10.0,
        "s" => Math.Floor(Frac(i * Sqrt2) * Frac(i * Sqrt2) * 10.0) / 10.0,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    })];

    [Fact]
    public void Distributions_MatchScipy()
    {
        var d = Reference.GetProperty("distributions");
        foreach (var row in d.GetProperty("chi2_sf").EnumerateArray())
        {
            AssertClose(row[2].GetDouble(), Distributions.ChiSquaredSf(row[0].GetDouble(), row[1].GetDouble()), 1e-10);
        }

        foreach (var row in d.GetProperty("norm_sf").EnumerateArray())
        {
            AssertClose(row[1].GetDouble(), Distributions.NormalSf(row[0].GetDouble()), 1e-10);
        }

        foreach (var row in d.GetProperty("kstwobign_sf").EnumerateArray())
        {
            AssertClose(row[1].GetDouble(), Distributions.KolmogorovSf(row[0].GetDouble()), 1e-10);
        }

        foreach (var row in d.GetProperty("gammaln").EnumerateArray())
        {
            AssertClose(row[1].GetDouble(), Distributions.LogGamma(row[0].GetDouble()), 1e-12, absolute: 1e-13);
        }
    }

    [Fact]
    public void KolmogorovSmirnov_MatchesScipyKs2samp()
    {
        foreach (var c in Reference.GetProperty("ks").EnumerateArray())
        {
            var (statistic, p) = TwoSample.KolmogorovSmirnov(Sample(c.GetProperty("a").GetString()!, c.GetProperty("n").GetInt32()),
                Sample(c.GetProperty("b").GetString()!, c.GetProperty("m").GetInt32()));

            AssertClose(c.GetProperty("statistic").GetDouble(), statistic, 1e-12);

            // Small samples: scipy's exact method. Large ones: the limiting distribution (scipy's kstwobign); scipy's
            // own asymptotic ks_2samp uses the finite-n distribution, within 1% of it at these sizes.
            var exact = c.GetProperty("method").GetString() == "exact";
            AssertClose(exact ? c.GetProperty("pvalue").GetDouble() : c.GetProperty("kstwobign_pvalue").GetDouble(), p, exact ? 1e-7 : 1e-9, absolute: 1e-12);
            if (!exact)
            {
                AssertClose(c.GetProperty("pvalue").GetDouble(), p, 0.01);
            }
        }
    }

    [Fact]
    public void ChiSquaredAndZ_MatchScipy()
    {
        foreach (var c in Reference.GetProperty("chisquare").EnumerateArray())
        {
            var (statistic, p) = TwoSample.ChiSquared(Doubles(c.GetProperty("observed")), Doubles(c.GetProperty("expected")));
            AssertClose(c.GetProperty("statistic").GetDouble(), statistic, 1e-12);
            AssertClose(c.GetProperty("pvalue").GetDouble(), p, 1e-10);
        }

        foreach (var c in Reference.GetProperty("z").EnumerateArray())
        {
            var (z, p) = TwoSample.TwoProportionZ(c.GetProperty("k1").GetInt64(), c.GetProperty("n1").GetInt64(), c.GetProperty("k2").GetInt64(), c.GetProperty("n2").GetInt64());
            AssertClose(c.GetProperty("z").GetDouble(), z, 1e-12);
            AssertClose(c.GetProperty("pvalue").GetDouble(), p, 1e-9, absolute: 1e-15);
        }
    }

    [Fact]
    public void DistancesAndBinning_MatchScipyAndEvidentlysDefinitions()
    {
        foreach (var c in Reference.GetProperty("distances").EnumerateArray())
        {
            var reference = ColumnDistribution.FromNumbers(Sample(c.GetProperty("a").GetString()!, c.GetProperty("n").GetInt32()));
            var current = ColumnDistribution.FromNumbers(Sample(c.GetProperty("b").GetString()!, c.GetProperty("m").GetInt32()));

            AssertClose(c.GetProperty("wasserstein").GetDouble(), TwoSample.Wasserstein(reference.Points, current.Points), 1e-9);
            var (r, s) = DriftDetector.Binned(reference, current);
            Assert.Equal(Doubles(c.GetProperty("reference_shares")), r);
            Assert.Equal(Doubles(c.GetProperty("current_shares")), s);
            AssertClose(c.GetProperty("jensenshannon").GetDouble(), TwoSample.JensenShannon(r, s), 1e-12);

            var wasserstein = DriftDetector.Compare("x", reference, current, DriftMethod.Wasserstein);
            AssertClose(c.GetProperty("wasserstein_normed").GetDouble(), wasserstein.Score, 1e-9);
            var psi = DriftDetector.Compare("x", reference, current, DriftMethod.Psi);
            AssertClose(c.GetProperty("psi").GetDouble(), psi.Score, 1e-9);
        }

        foreach (var row in Reference.GetProperty("jensenshannon_raw").EnumerateArray())
        {
            AssertClose(row[2].GetDouble(), TwoSample.JensenShannon(Doubles(row[0]), Doubles(row[1])), 1e-12);
        }
    }

    [Fact]
    public void DefaultMethod_FollowsEvidentlysChoice()
    {
        Assert.Equal(DriftMethod.KolmogorovSmirnov, DriftDetector.DefaultMethod(numeric: true, referenceCount: 1000, distinctOfBoth: 6));
        Assert.Equal(DriftMethod.ChiSquared, DriftDetector.DefaultMethod(true, 1000, 5));
        Assert.Equal(DriftMethod.ZTest, DriftDetector.DefaultMethod(true, 500, 2));
        Assert.Equal(DriftMethod.ChiSquared, DriftDetector.DefaultMethod(false, 1000, 3));
        Assert.Equal(DriftMethod.ZTest, DriftDetector.DefaultMethod(false, 10, 2));
        Assert.Equal(DriftMethod.Wasserstein, DriftDetector.DefaultMethod(true, 1001, 6));
        Assert.Equal(DriftMethod.JensenShannon, DriftDetector.DefaultMethod(true, 1001, 5));
        Assert.Equal(DriftMethod.JensenShannon, DriftDetector.DefaultMethod(false, 5000, 40));
    }

    [Fact]
    public void Compare_DetectsAShiftAndNotTheSameDistribution()
    {
        var reference = ColumnDistribution.FromNumbers(Sample("q", 5000));
        var same = ColumnDistribution.FromNumbers(Sample("r", 4000).Select(v => v / 1.01));
        var shifted = ColumnDistribution.FromNumbers(Sample("r", 4000).Select(v => v + 0.2));

        Assert.False(DriftDetector.Compare("x", reference, same).Drifted);
        var drift = DriftDetector.Compare("x", reference, shifted);
        Assert.Equal(DriftMethod.Wasserstein, drift.Method);
        Assert.True(drift.Drifted);

        var labels = ColumnDistribution.FromLabels(Enumerable.Range(0, 500).Select(i => i % 3 == 0 ? "a" : "b"));
        var moreA = ColumnDistribution.FromLabels(Enumerable.Range(0, 500).Select(i => i % 2 == 0 ? "a" : "b"));
        var z = DriftDetector.Compare("label", labels, moreA);
        Assert.Equal(DriftMethod.ZTest, z.Method);
        Assert.True(z.Drifted);
        Assert.False(DriftDetector.Compare("label", labels, labels).Drifted);
    }

    private static double[] Doubles(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetDouble())];

    private static double Frac(double x) => x - Math.Floor(x);

    private static void AssertClose(double expected, double actual, double relative, double absolute = 0)
    {
        var tolerance = Math.Max(absolute, relative * Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"expected {expected:R}, got {actual:R} (tolerance {tolerance:R})");
    }
}
