using Cairn.Core.Runs;

namespace Cairn.Core.Tests;

public sealed class MetricSummaryTests
{
    private static MetricBucket Point(long step, double value) => new(step, step, value, value, value, 1);

    [Fact]
    public void Add_FoldsPointsIntoEqualStepRanges()
    {
        var summary = new MetricSummary(0, 99, 4);
        foreach (var step in Enumerable.Range(0, 100))
        {
            summary.Add(Point(step, step % 10));
        }

        Assert.Equal(4, summary.Buckets.Count);
        Assert.Equal(new MetricBucket(0, 24, 0, 9, 4, 25), summary.Buckets[0]);
        Assert.Equal(new MetricBucket(75, 99, 0, 9, 9, 25), summary.Buckets[3]);
    }

    [Fact]
    public void Add_IgnoresNaNInExtremes_AndMergesBlocks()
    {
        var summary = new MetricSummary(0, 3000, 1);
        summary.Add(new MetricBucket(0, 1023, double.NaN, double.NaN, double.NaN, 1024));
        summary.Add(new MetricBucket(1024, 2047, -2, 5, 1, 1024));
        summary.Add(new MetricBucket(2048, 3000, 0, 7, double.NaN, 953));

        Assert.Equal(new MetricBucket(0, 3000, -2, 7, double.NaN, 3001), Assert.Single(summary.Buckets));
    }
}
