namespace Cairn.Core.Runs;

/// <summary>
/// Folds a series, in step order, into at most N buckets of equal step range: the first and last step, the minimum,
/// maximum and last value, and the count of each. Input may be single points or already-summarized blocks.
/// </summary>
public sealed class MetricSummary(long firstStep, long lastStep, int buckets)
{
    private readonly List<MetricBucket> _buckets = [];
    private long _current = -1;

    /// <summary>The buckets so far, in step order; empty ranges are left out.</summary>
    public IReadOnlyList<MetricBucket> Buckets => _buckets;

    /// <summary>Adds the next point or block; it goes to the bucket its first step falls in.</summary>
    public void Add(MetricBucket part)
    {
        ArgumentNullException.ThrowIfNull(part);
        var span = (double)(lastStep - firstStep + 1);
        var index = Math.Min(buckets - 1, (long)((part.FirstStep - firstStep) / span * buckets));
        if (index != _current || _buckets.Count == 0)
        {
            _buckets.Add(part);
            _current = index;
            return;
        }

        var open = _buckets[^1];
        _buckets[^1] = new MetricBucket(
            open.FirstStep,
            Math.Max(open.LastStep, part.LastStep),
            MinIgnoringNaN(open.Min, part.Min),
            MaxIgnoringNaN(open.Max, part.Max),
            part.LastStep >= open.LastStep ? part.Last : open.Last,
            open.Count + part.Count);
    }

    private static double MinIgnoringNaN(double a, double b) => double.IsNaN(a) ? b : double.IsNaN(b) ? a : Math.Min(a, b);

    private static double MaxIgnoringNaN(double a, double b) => double.IsNaN(a) ? b : double.IsNaN(b) ? a : Math.Max(a, b);
}
