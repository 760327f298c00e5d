using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Monitoring;
using Cairn.Core.Statistics;

namespace Cairn.Core.Tests;

public sealed class MonitoringTests
{
    [Fact]
    public void Calibration_IsMonotone_AndFollowsTheObservedRate()
    {
        var random = new Random(7);
        var scores = Enumerable.Range(0, 20_000).Select(_ => (float)random.NextDouble()).ToArray();
        // The true chance is the square of the score: the model is over-confident, which calibration corrects.
        var outcomes = scores.Select(s => random.NextDouble() < s * s).ToArray();

        var calibration = Calibration.Fit(scores, outcomes, 0.5);

        Assert.True(calibration.Chances.Zip(calibration.Chances.Skip(1)).All(p => p.First <= p.Second));
        Assert.InRange(calibration.Chance(0.5), 0.2, 0.3);
        Assert.InRange(calibration.Chance(0.9), 0.75, 0.87);
        Assert.True(calibration.Scores.Count <= Calibration.MaxPoints);
    }

    [Fact]
    public void ConfidenceBasedEstimate_MatchesTheMeasuredAccuracy_OnShiftedScores()
    {
        var random = new Random(11);
        float[] Scores(int n, double skew) => [.. Enumerable.Range(0, n).Select(_ => (float)Math.Pow(random.NextDouble(), skew))];
        var reference = Scores(20_000, 1);
        var calibration = Calibration.Fit(reference, [.. reference.Select(s => random.NextDouble() < s)], 0.5);
        var baseline = new MonitorBaseline("d@1", "m", 1, TaskKind.Binary, "y", ["no", "yes"], new DatasetProfile(0, []), [], new Dictionary<string, double>(), calibration);

        // Live scores crowd towards 0.5, where the model is least sure: accuracy falls, and the estimate sees it without labels.
        var live = Scores(20_000, 0.3).Select(s => (float)(0.5 + ((s - 0.5) * 0.4))).ToArray();
        var truth = live.Select(s => random.NextDouble() < s).ToArray();
        var measured = live.Zip(truth).Count(p => (p.First >= 0.5) == p.Second) / (double)live.Length;
        var profiler = new Profiler(new TableSchema([new ColumnSchema("probability", ColumnType.Numeric, false, 0, 0)]));
        profiler.Observe(new Table([new NumericColumn("probability", live)], live.Length));

        var estimated = MonitorEvaluator.Estimate(baseline, profiler.Build());

        Assert.InRange(estimated["accuracy"], measured - 0.02, measured + 0.02);
        Assert.InRange(measured, 0.5, 0.65);
    }

    [Fact]
    public void Windows_AlignToTheEpoch()
    {
        var (start, end) = MonitorSpec.WindowOf(new DateTimeOffset(2026, 3, 2, 10, 59, 59, TimeSpan.FromHours(2)), TimeSpan.FromHours(1));
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero), start);
        Assert.Equal(start.AddHours(1), end);
    }

    [Fact]
    public void LogSize_IsReadFromSettings_AndAMonitorStoredBeforeTheSettingKeepsTheDefault()
    {
        Assert.Equal(512L << 20, MonitorSpec.Parse("log: {max_size: 512MB}", "d@1", null, null).LogLimit);
        Assert.Equal(MonitorSpec.DefaultMaxLogBytes, MonitorSpec.Parse(null, "d@1", null, null).LogLimit);
        // Stored before log.max_size existed: no such field, and the log must not be trimmed to nothing.
        var stored = System.Text.Json.JsonSerializer.Deserialize("""{"reference":"adult@1","window":"01:00:00","retention":"7.00:00:00"}""",
            CairnJson.Compact.MonitorSpec)!;
        Assert.Equal(MonitorSpec.DefaultMaxLogBytes, stored.LogLimit);
    }

    [Fact]
    public void Settings_NameEveryProblemAtOnce()
    {
        var error = Assert.Throws<CairnException>(() => MonitorSpec.Parse("""
            window: 0s
            drift_share: 2
            columns: {age: {method: magic}}
            log: {sample_rate: 1.5, max_size: lots}
            alerts: [{name: a, metric: performance.rmse, above: 1}, {name: a, metric: rows, below: 1}]
            webhooks: [{url: "ftp://x"}]
            policy: {on_alert: nope, model: m}
            """, "d@1", null, null));

        foreach (var part in new[] { "window '0s'", "drift_share", "unknown drift method 'magic'", "sample_rate", "max_size 'lots'", "alert 'a' is defined 2 times", "ftp://x", "pipeline is required", "on_alert names 'nope'" })
        {
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheGate_AsksForTheImprovement_AndNoSliceRegression_WhicheverWayTheMetricPoints()
    {
        var policy = new RetrainPolicy { Pipeline = "p.yaml", Model = "m", Holdout = "h", Metric = "rmse", MinImprovement = 0.05, Slices = ["weather"], MaxSliceRegression = 0.1 };
        var champion = Report(rmse: 100, clear: 90, rain: 120, tinyRain: 10);

        var better = PolicyGate.Decide(policy, champion, Report(rmse: 80, clear: 70, rain: 125, tinyRain: 50));
        Assert.True(better.Passed, string.Join("; ", better.Reasons));
        Assert.Equal(0.2, better.Improvement, 9);

        // Lower is better for RMSE: 97 is only 3% better; and rain got 25% worse (the 5-row slice is too small to judge).
        var worse = PolicyGate.Decide(policy, champion, Report(rmse: 97, clear: 70, rain: 150, tinyRain: 50));
        Assert.False(worse.Passed);
        Assert.Equal(2, worse.Reasons.Count);
        Assert.Contains("3.0% better, the policy asks for 5.0%", worse.Reasons[0], StringComparison.Ordinal);
        Assert.Contains("weather=rain (40 rows)", worse.Reasons[1], StringComparison.Ordinal);

        // Higher is better for R²; a metric the evaluation lacks fails the gate and says what it has.
        Assert.True(PolicyGate.Decide(policy with { Metric = "r2" }, champion, Report(rmse: 97, clear: 70, rain: 120, tinyRain: 10, r2: 0.9)).Passed);
        Assert.Contains("no metric 'auc'", Assert.Single(PolicyGate.Decide(policy with { Metric = "auc" }, champion, champion).Reasons), StringComparison.Ordinal);

        static Evaluation.EvaluationReport Report(double rmse, double clear, double rain, double tinyRain, double r2 = 0.8) =>
            new(TaskKind.Regression, 100, new Dictionary<string, double> { ["rmse"] = rmse, ["r2"] = r2 })
            {
                Slices =
                [
                    new("weather", "clear", 55, new Dictionary<string, double> { ["rmse"] = clear, ["r2"] = r2 }),
                    new("weather", "rain", 40, new Dictionary<string, double> { ["rmse"] = rain, ["r2"] = r2 }),
                    new("weather", "snow", 5, new Dictionary<string, double> { ["rmse"] = tinyRain, ["r2"] = r2 }),
                ],
            };
    }

    [Fact]
    public void AWindowWithASegment_ProfilesEachRowOnce_AndIsItsSegmentsMerged()
    {
        var schema = new TableSchema([new ColumnSchema("x", ColumnType.Numeric, false, 0, 0), new ColumnSchema("colour", ColumnType.Categorical, false, 0, 0)]);
        var builder = new LiveWindowBuilder("d", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), schema, "colour");
        var version = new ModelVersion("m", 1, "runs:/r/model", null, null, DateTimeOffset.UnixEpoch, []);
        var values = Enumerable.Range(0, 300).Select(i => (float)i).ToArray();
        var colours = values.Select(v => v % 3 == 0 ? "red" : "blue").ToArray();
        for (var start = 0; start < values.Length; start += 10)
        {
            builder.Observe(version, "model", new Table([new NumericColumn("x", values[start..(start + 10)]), new StringColumn("colour", colours[start..(start + 10)])], 10),
                TimeSpan.FromMilliseconds(1));
        }

        var window = builder.Build();
        var direct = Profiler.Profile(new Table([new NumericColumn("x", values), new StringColumn("colour", colours)], values.Length), schema);
        Assert.Equal(300, window.Profile.Rows);
        Assert.Equal([100L, 200L], window.Segments.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Value.Rows).Reverse());
        var x = window.Profile.Columns.Single(c => c.Name == "x");
        Assert.Equal(direct.Columns[0].Mean!.Value, x.Mean!.Value, 9);
        Assert.Equal(300, x.Count);
        Assert.Equal(2, window.Profile.Columns.Single(c => c.Name == "colour").Distinct);
    }
}
