namespace Cairn.Core.Monitoring;

/// <summary>
/// A monotone map from a model's score to the chance its answer is right, fitted on labeled reference rows by isotonic
/// regression (pool adjacent violators). Confidence-based performance estimation reads live scores through it.
/// </summary>
/// <param name="Scores">Block centres, increasing.</param>
/// <param name="Chances">The fitted chance at each centre, non-decreasing.</param>
/// <param name="Threshold">For binary models: the lowest score predicted positive on the reference rows.</param>
public sealed record Calibration(IReadOnlyList<double> Scores, IReadOnlyList<double> Chances, double Threshold)
{
    /// <summary>Points kept at most; finer fits are thinned evenly.</summary>
    public const int MaxPoints = 256;

    /// <summary>Fits the chance of <paramref name="outcomes"/> being true as a non-decreasing function of <paramref name="scores"/>.</summary>
    public static Calibration Fit(ReadOnlySpan<float> scores, ReadOnlySpan<bool> outcomes, double threshold)
    {
        if (scores.Length != outcomes.Length)
        {
            throw new ArgumentException("Scores and outcomes differ in length.", nameof(outcomes));
        }

        var order = new int[scores.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var keys = scores.ToArray();
        Array.Sort(keys, order);
        // Blocks of (sum of scores, sum of outcomes, count); adjacent blocks whose means decrease are pooled.
        var blocks = new List<(double X, double Y, long N)>();
        foreach (var i in order)
        {
            blocks.Add((scores[i], outcomes[i] ? 1 : 0, 1));
            while (blocks.Count > 1 && blocks[^2].Y / blocks[^2].N >= blocks[^1].Y / blocks[^1].N)
            {
                var (x, y, n) = blocks[^1];
                blocks.RemoveAt(blocks.Count - 1);
                blocks[^1] = (blocks[^1].X + x, blocks[^1].Y + y, blocks[^1].N + n);
            }
        }

        var step = Math.Max(1, (blocks.Count + MaxPoints - 1) / MaxPoints);
        var kept = blocks.Where((_, i) => i % step == 0 || i == blocks.Count - 1).ToList();
        return new Calibration([.. kept.Select(b => b.X / b.N)], [.. kept.Select(b => b.Y / b.N)], threshold);
    }

    /// <summary>The fitted chance at <paramref name="score"/>, interpolated linearly between block centres.</summary>
    public double Chance(double score)
    {
        if (Scores.Count == 0)
        {
            return double.NaN;
        }

        if (score <= Scores[0])
        {
            return Chances[0];
        }

        if (score >= Scores[^1])
        {
            return Chances[^1];
        }

        var (lo, hi) = (0, Scores.Count - 1);
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            (lo, hi) = Scores[mid] <= score ? (mid, hi) : (lo, mid);
        }

        var t = (score - Scores[lo]) / (Scores[hi] - Scores[lo]);
        return Chances[lo] + (t * (Chances[hi] - Chances[lo]));
    }
}
