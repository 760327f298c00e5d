using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Core.Data;
using Cairn.Core.Statistics;

namespace Cairn.Core.Tests;

public sealed class ProfilerTests
{
    [Fact]
    public void Kll_RanksAreWithinTheStatedError_AndMergingKeepsThem()
    {
        var values = StatisticsTests.Sample("q", 200_000);
        var whole = new KllSketch();
        var (left, right) = (new KllSketch(), new KllSketch());
        for (var i = 0; i < values.Length; i++)
        {
            whole.Add(values[i]);
            (i % 3 == 0 ? left : right).Add(values[i]);
        }

        left.Merge(right);
        var sorted = values.Order().ToArray();
        foreach (var sketch in new[] { whole, left })
        {
            Assert.Equal(values.Length, sketch.Count);
            Assert.Equal(sorted[0], sketch.Min);
            Assert.Equal(sorted[^1], sketch.Max);
            foreach (var q in new[] { 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99 })
            {
                var rank = (double)Array.BinarySearch(sorted, sketch.Quantile(q)) / sorted.Length;
                Assert.InRange(rank, q - KllSketch.RankError, q + KllSketch.RankError);
            }
        }

        // Stored and restored, a sketch answers the same.
        var restored = KllSketch.FromState(whole.ToState());
        Assert.Equal(whole.Quantile(0.5), restored.Quantile(0.5));
        Assert.Throws<CairnException>(() => KllSketch.FromState(whole.ToState() with { Count = whole.Count + 5 }));
    }

    [Fact]
    public void HyperLogLog_EstimatesWithinThreeStandardErrors_AndMerges()
    {
        var (a, b) = (new HyperLogLog(), new HyperLogLog());
        for (var i = 0; i < 150_000; i++)
        {
            (i < 100_000 ? a : b).Add((double)(i % 120_000));
        }

        Assert.InRange(a.Estimate(), 100_000 * (1 - (3 * HyperLogLog.StandardError)), 100_000 * (1 + (3 * HyperLogLog.StandardError)));
        a.Merge(b);
        Assert.InRange(a.Estimate(), 120_000 * (1 - (3 * HyperLogLog.StandardError)), 120_000 * (1 + (3 * HyperLogLog.StandardError)));

        var small = new HyperLogLog();
        foreach (var v in new[] { 1.0, 2, 3, 2, 1, 0, -0.0 })
        {
            small.Add(v);
        }

        Assert.Equal(4, small.Estimate());
    }

    [Fact]
    public void FrequentItems_AreExactWhileFew_AndNeverUndercountBeyondTheBound()
    {
        var items = new FrequentItems<string>(capacity: 10, comparer: StringComparer.Ordinal);
        for (var i = 0; i < 10_000; i++)
        {
            // One heavy value among many rare ones.
            items.AddText(Encoding.UTF8.GetBytes(i % 4 == 0 ? "heavy" : $"rare{i}"));
        }

        Assert.False(items.IsExact);
        Assert.Equal(10_000, items.Total);
        Assert.InRange(items.Counts["heavy"], 2500 - items.MaxError, 2500);
        Assert.Equal("heavy", items.Top(1)[0].Key);

        var few = new FrequentItems<double>();
        foreach (var v in new[] { 1.0, 2, 2, 3, 3, 3 })
        {
            few.Add(v);
        }

        Assert.True(few.IsExact);
        Assert.Equal(3, few.Counts[3.0]);
    }

    [Fact]
    public void Profile_OfHalvesMerged_MatchesTheWhole_WithinTheSketchBounds()
    {
        var csv = Table(10_000);
        var schema = Infer(csv);
        var whole = Profile(csv, schema, workers: 2);
        var merged = Profiler.Merge(Profile(Table(10_000, 0, 6000), schema, 1), Profile(Table(10_000, 6000, 10_000), schema, 1));

        Assert.Equal(whole.Rows, merged.Rows);
        for (var i = 0; i < whole.Columns.Count; i++)
        {
            var (w, m) = (whole.Columns[i], merged.Columns[i]);
            Assert.Equal((w.Count, w.Missing, w.Type), (m.Count, m.Missing, m.Type));
            Assert.InRange(m.Distinct, w.Distinct * (1 - (3 * HyperLogLog.StandardError)), w.Distinct * (1 + (3 * HyperLogLog.StandardError)));
            if (w.Mean is { } mean)
            {
                Assert.Equal(mean, m.Mean!.Value, tolerance: 1e-12 * Math.Abs(mean));
                Assert.Equal(w.Std!.Value, m.Std!.Value, tolerance: 1e-9 * w.Std.Value);
                Assert.Equal((w.Min, w.Max), (m.Min, m.Max));
                Assert.Equal(w.Histogram!.Counts.Sum(), m.Histogram!.Counts.Sum());
            }
            else
            {
                Assert.Equal(w.TopValues, m.TopValues);
            }
        }

        var amount = whole.Find("amount")!;
        Assert.Equal(10_000, amount.Count + amount.Missing);
        Assert.Equal(500, amount.Missing);
        Assert.Equal(["red", "green", "blue"], whole.Find("color")!.TopValues.Select(v => v.Value));
        Assert.Equal(3, whole.Find("color")!.Distinct);
        Assert.True(whole.Find("color")!.DistinctIsExact);
    }

    [Fact]
    public void Profile_SplitAmongWorkers_IsIdenticalToOneWorker()
    {
        var csv = Table(3000);
        var schema = Infer(csv);

        var one = Profile(csv, schema, 1);
        var two = Profile(csv, schema, 2);

        Assert.Equal(JsonSerializer.Serialize(one, CairnJson.Compact.DatasetProfile), JsonSerializer.Serialize(two, CairnJson.Compact.DatasetProfile));
    }

    [Fact]
    public void Profile_OfALoadedTable_MatchesTheProfileOfItsFile()
    {
        var csv = Table(2000);
        var schema = Infer(csv);
        var fromFile = Profile(csv, schema, 1);

        var fromTable = Profiler.Profile(Cairn.Core.Data.Table.Load(CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(csv))), schema), schema);

        Assert.Equal(fromFile.Rows, fromTable.Rows);
        foreach (var (file, table) in fromFile.Columns.Zip(fromTable.Columns))
        {
            Assert.Equal((file.Count, file.Missing, file.Distinct), (table.Count, table.Missing, table.Distinct));
            Assert.Equal(file.Mean ?? 0, table.Mean ?? 0, tolerance: 1e-4 * Math.Abs(file.Mean ?? 1));
            Assert.Equal(file.TopValues.Select(v => v.Count), table.TopValues.Select(v => v.Count));
        }
    }

    [Fact]
    public void Profile_AValueThatBreaksTheSchema_NamesRowAndColumn()
    {
        var schema = Infer("a,b\n1,x\n2,y\n");

        var e = Assert.Throws<AggregateException>(() => Profile("a,b\n1,x\nzz,y\n", schema, 1));

        Assert.Contains("Row 2, column 'a': 'zz' is not a number", Assert.IsType<CairnException>(e.InnerException).Message);
    }

    [Fact]
    public void DriftOnProfiles_AgreesWithDriftOnRawValues_WithinTheStatedError()
    {
        var reference = Sample(20_000, shift: 0);
        var current = Sample(15_000, shift: 0.05);
        var referenceProfile = Profile(reference, Infer(reference), 1);
        var currentProfile = Profile(current, Infer(reference), 1);

        var report = DriftDetector.Compare(referenceProfile, currentProfile);
        var raw = DriftDetector.Compare("x", ColumnDistribution.FromNumbers(Values(reference)), ColumnDistribution.FromNumbers(Values(current)));
        var sketched = report.Columns.Single(c => c.Column == "x");

        Assert.Equal(DriftMethod.Wasserstein, sketched.Method);
        Assert.False(sketched.Exact);
        Assert.InRange(sketched.Score, raw.Score - sketched.ErrorBound!.Value, raw.Score + sketched.ErrorBound.Value);
        Assert.Equal(raw.Drifted, sketched.Drifted);

        var ks = DriftDetector.Compare("x", ColumnDistribution.FromProfile(referenceProfile.Find("x")!), ColumnDistribution.FromProfile(currentProfile.Find("x")!),
            DriftMethod.KolmogorovSmirnov);
        var rawKs = TwoSample.KolmogorovSmirnov(Values(reference), Values(current));
        Assert.InRange(ks.Statistic!.Value, rawKs.Statistic - ks.ErrorBound!.Value, rawKs.Statistic + ks.ErrorBound.Value);

        // The label column is counted exactly in a profile, so its verdict is the raw one.
        Assert.True(report.Columns.Single(c => c.Column == "label").Exact);
        Assert.Equal("free text is not tested for drift", report.Skipped["note"]);
    }

    private static string Table(int rows, int from = 0, int? to = null)
    {
        var text = new StringBuilder("id,amount,color,flag,when\n");
        string[] colors = ["red", "red", "red", "green", "green", "blue"];
        for (var i = from; i < (to ?? rows); i++)
        {
            var amount = i % 20 == 7 ? "" : ((i * 0.37 % 100) - 20).ToString("0.###", CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"{i},{amount},{colors[i % colors.Length]},{(i % 3 == 0 ? "true" : "false")},2024-01-{(i % 28) + 1:00}\n");
        }

        return text.ToString();
    }

    private static string Sample(int rows, double shift)
    {
        var text = new StringBuilder("x,label,note\n");
        var values = StatisticsTests.Sample("q", rows);
        for (var i = 0; i < rows; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{(values[i] + shift).ToString("R", CultureInfo.InvariantCulture)},{(i % 4 == 0 ? "yes" : "no")},free text number {i} here\n");
        }

        return text.ToString();
    }

    private static double[] Values(string csv) =>
        [.. csv.Split('\n').Skip(1).Where(l => l.Length > 0).Select(l => double.Parse(l.Split(',')[0], CultureInfo.InvariantCulture))];

    private static TableSchema Infer(string csv) => SchemaInference.Infer(CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(csv)))).Schema;

    private static DatasetProfile Profile(string csv, TableSchema schema, int workers) =>
        Profiler.Profile(() => CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(csv))), schema, workers);
}
