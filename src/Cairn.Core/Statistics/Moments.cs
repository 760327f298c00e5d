namespace Cairn.Core.Statistics;

/// <summary>Count, mean and sum of squared deviations, updated one value at a time (Welford) and mergeable (Chan et al.).</summary>
public struct Moments
{
    /// <summary>How many values.</summary>
    public long Count;

    /// <summary>Their mean.</summary>
    public double Mean;

    /// <summary>The sum of squared deviations from the mean.</summary>
    public double SumOfSquares;

    /// <summary>The population variance (divided by n), as numpy's default std uses.</summary>
    public readonly double PopulationVariance => Count > 0 ? SumOfSquares / Count : double.NaN;

    /// <summary>The sample standard deviation (divided by n - 1).</summary>
    public readonly double SampleStd => Count > 1 ? Math.Sqrt(SumOfSquares / (Count - 1)) : double.NaN;

    /// <summary>Adds a value.</summary>
    public void Add(double value)
    {
        Count++;
        var delta = value - Mean;
        Mean += delta / Count;
        SumOfSquares += delta * (value - Mean);
    }

    /// <summary>Adds everything <paramref name="other"/> summarizes.</summary>
    public void Merge(Moments other)
    {
        if (other.Count == 0)
        {
            return;
        }

        if (Count == 0)
        {
            this = other;
            return;
        }

        var total = Count + other.Count;
        var delta = other.Mean - Mean;
        Mean += delta * other.Count / total;
        SumOfSquares += other.SumOfSquares + (delta * delta * Count * other.Count / total);
        Count = total;
    }
}
