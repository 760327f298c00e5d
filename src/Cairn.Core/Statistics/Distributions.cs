namespace Cairn.Core.Statistics;

/// <summary>Tail probabilities of the distributions the drift tests need, accurate to about 1e-14 relative.</summary>
public static class Distributions
{
    /// <summary>P(Z ≥ z) for a standard normal Z.</summary>
    public static double NormalSf(double z) => z >= 0 ? 0.5 * Erfc(z / Math.Sqrt(2)) : 1 - (0.5 * Erfc(-z / Math.Sqrt(2)));

    /// <summary>The complementary error function, erfc(x) = Q(1/2, x²) for x ≥ 0.</summary>
    public static double Erfc(double x) => x >= 0 ? RegularizedGammaQ(0.5, x * x) : 2 - RegularizedGammaQ(0.5, x * x);

    /// <summary>P(X ≥ x) for X chi-squared with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    public static double ChiSquaredSf(double x, double degreesOfFreedom) =>
        x <= 0 ? 1 : RegularizedGammaQ(degreesOfFreedom / 2, x / 2);

    /// <summary>
    /// P(K ≥ x) for Kolmogorov's limiting distribution K (the distribution of √n·Dₙ as n grows):
    /// 2 Σ (-1)^(k-1) exp(-2k²x²), as scipy's kstwobign.sf.
    /// </summary>
    public static double KolmogorovSf(double x)
    {
        if (x <= 0)
        {
            return 1;
        }

        if (x < 0.2)
        {
            // The alternating series converges slowly here; the complement's theta-function form does not:
            // P(K ≤ x) = √(2π)/x Σ exp(-(2k-1)²π²/(8x²)), which is below 1e-40 for x < 0.2.
            return 1;
        }

        double sum = 0;
        for (var k = 1; k <= 100; k++)
        {
            var term = Math.Exp(-2.0 * k * k * x * x);
            sum += (k % 2 == 1 ? 1 : -1) * term;
            if (term < 1e-17 * Math.Max(sum, 1e-300))
            {
                break;
            }
        }

        return Math.Clamp(2 * sum, 0, 1);
    }

    /// <summary>The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a).</summary>
    public static double RegularizedGammaQ(double a, double x)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(a);
        if (x <= 0)
        {
            return 1;
        }

        // The series converges fast below a + 1, the continued fraction above (Numerical Recipes §6.2).
        return x < a + 1 ? 1 - LowerSeries(a, x) : UpperContinuedFraction(a, x);
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, n = 9).</summary>
    public static double LogGamma(double x)
    {
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        if (x < 0.5)
        {
            // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }

        x -= 1;
        var sum = c[0];
        for (var i = 1; i < c.Length; i++)
        {
            sum += c[i] / (x + i);
        }

        var t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }

    private static double LowerSeries(double a, double x)
    {
        var term = 1 / a;
        var sum = term;
        for (var n = 1; n < 10_000; n++)
        {
            term *= x / (a + n);
            sum += term;
            if (Math.Abs(term) < Math.Abs(sum) * 1e-16)
            {
                break;
            }
        }

        return sum * Math.Exp((-x) + (a * Math.Log(x)) - LogGamma(a));
    }

    private static double UpperContinuedFraction(double a, double x)
    {
        const double tiny = 1e-300;
        var b = x + 1 - a;
        var c = 1 / tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < 10_000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = b + (an / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        return Math.Exp((-x) + (a * Math.Log(x)) - LogGamma(a)) * h;
    }
}
