using System.Globalization;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Models;
using Cairn.Core.Statistics;

namespace Cairn.Core.Monitoring;

/// <summary>
/// What live traffic is compared against, fixed when the monitor is created: the reference rows' profile with the
/// model's own answers on them, the contract their inputs satisfy, the model's measured performance on them, and
/// the calibration that estimates performance before labels arrive.
/// </summary>
/// <param name="Reference">The reference dataset version.</param>
/// <param name="Model">The model whose answers on the reference were profiled.</param>
/// <param name="Version">Its version.</param>
/// <param name="Task">Its task.</param>
/// <param name="Label">The label column.</param>
/// <param name="Classes">The classes, in the model's order (binary: negative, then positive).</param>
/// <param name="Profile">The reference's inputs and the model's outputs, as <see cref="MonitoredColumns.Schema"/> lays them out.</param>
/// <param name="Contract">What each input satisfied on the reference: missing share, range, categories.</param>
/// <param name="Metrics">The model's performance on the reference rows.</param>
/// <param name="Calibration">Score to chance of being right (binary: of the positive class); null for regression.</param>
public sealed record MonitorBaseline(
    string Reference, string Model, int Version, TaskKind Task, string Label, IReadOnlyList<string>? Classes,
    DatasetProfile Profile, IReadOnlyList<ColumnContract> Contract, IReadOnlyDictionary<string, double> Metrics, Calibration? Calibration);

/// <summary>A prediction with its true label, as the performance of a window is computed from.</summary>
/// <param name="Predicted">The predicted class, or the value in round-trip text.</param>
/// <param name="Score">The score column's value (<see cref="MonitoredColumns.ScoreColumn"/>).</param>
/// <param name="Label">The true label: a class, or a number in text.</param>
/// <param name="Version">The version that answered.</param>
public sealed record LabeledPrediction(string Predicted, double Score, string Label, int Version);

/// <summary>A data-quality finding in a window.</summary>
/// <param name="Column">The column.</param>
/// <param name="Check"><c>missing</c>, <c>out_of_range</c> or <c>new_category</c>.</param>
/// <param name="Message">What was found and what the reference allows.</param>
/// <param name="Share">The share of the window's rows affected (estimated from the sketch for ranges).</param>
public sealed record QualityIssue(string Column, string Check, string Message, double Share);

/// <summary>One segment's results in a window.</summary>
/// <param name="Rows">Rows in the segment.</param>
/// <param name="DriftShare">The share of its features that drifted.</param>
/// <param name="Drifted">Whether its data as a whole drifted.</param>
public sealed record SegmentResult(long Rows, double DriftShare, bool Drifted);

/// <summary>Performance once labels arrived.</summary>
/// <param name="LabeledRows">How many of the window's logged predictions have labels.</param>
/// <param name="Metrics">The metrics on those rows.</param>
public sealed record PerformanceResult(long LabeledRows, IReadOnlyDictionary<string, double> Metrics);

/// <summary>A version's traffic in a window, summarized.</summary>
public sealed record TrafficSummary(string Model, int Version, string Role, long Requests, long Rows, long Failures, double ErrorRate, double LatencyP99Ms);

/// <summary>The results of one window, stored as a time series per deployment.</summary>
/// <param name="Deployment">The deployment.</param>
/// <param name="Start">The window's start.</param>
/// <param name="End">The window's end.</param>
/// <param name="Rows">Predictions profiled.</param>
public sealed record WindowResult(string Deployment, DateTimeOffset Start, DateTimeOffset End, long Rows)
{
    /// <summary>Drift per input feature and of the data as a whole; null when the window is empty.</summary>
    public DriftReport? Drift { get; init; }

    /// <summary>Drift of the model's answers (predicted class, or predicted value) against its answers on the reference.</summary>
    public ColumnDrift? PredictionDrift { get; init; }

    /// <summary>Data-quality findings against the reference's contract.</summary>
    public IReadOnlyList<QualityIssue> Quality { get; init; } = [];

    /// <summary>Results per segment value.</summary>
    public IReadOnlyDictionary<string, SegmentResult> Segments { get; init; } = new Dictionary<string, SegmentResult>();

    /// <summary>Measured performance, once any label arrived.</summary>
    public PerformanceResult? Performance { get; init; }

    /// <summary>Performance estimated from calibrated confidence (classifiers), without labels.</summary>
    public IReadOnlyDictionary<string, double> Estimated { get; init; } = new Dictionary<string, double>();

    /// <summary>Requests per version.</summary>
    public IReadOnlyList<TrafficSummary> Traffic { get; init; } = [];

    /// <summary>Every figure above by the name alert rules use.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>When it was computed (it is recomputed when labels arrive).</summary>
    public DateTimeOffset EvaluatedAt { get; init; }
}

/// <summary>Evaluates a window of live traffic against a monitor's baseline: drift, data quality, segments, performance and its estimate.</summary>
public static class MonitorEvaluator
{
    /// <summary>Evaluates a window; <paramref name="labeled"/> holds its logged predictions that have labels.</summary>
    public static WindowResult Evaluate(MonitorSpec spec, MonitorBaseline baseline, LiveWindow window, IReadOnlyList<LabeledPrediction> labeled, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(labeled);
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal) { ["rows"] = window.Profile.Rows };
        var traffic = window.Traffic.OrderBy(t => t.Role == "shadow").ThenBy(t => t.Model, StringComparer.Ordinal).ThenBy(t => t.Version)
            .Select(t => new TrafficSummary(t.Model, t.Version, t.Role, t.Requests, t.Rows, t.Failures, t.ErrorRate, t.LatencyP99Ms))
            .ToList();
        var answering = window.Traffic.Where(t => t.Role != "shadow").ToList();
        if (answering.Count > 0)
        {
            var all = answering.Aggregate(VersionTraffic.Merge);
            metrics["error_rate"] = all.ErrorRate;
            if (all.LatencyMs is not null)
            {
                metrics["latency_p99_ms"] = all.LatencyP99Ms;
            }
        }

        var result = new WindowResult(window.Deployment, window.Start, window.End, window.Profile.Rows) { Traffic = traffic, EvaluatedAt = now };
        var features = new HashSet<string>(baseline.Contract.Select(c => c.Name), StringComparer.Ordinal);
        if (window.Profile.Rows > 0)
        {
            var drift = Drift(spec, baseline.Profile, window.Profile, features);
            var predictionColumn = baseline.Task == TaskKind.Regression ? MonitoredColumns.ScoreColumn(baseline.Task) : MonitoredColumns.PredictedLabel;
            var prediction = ColumnDriftOf(spec, predictionColumn, baseline.Profile, window.Profile);
            var quality = Quality(baseline.Contract, window.Profile);
            metrics["drift_share"] = drift.DriftedShare;
            metrics["dataset_drift"] = drift.Drifted ? 1 : 0;
            metrics["quality_issues"] = quality.Count;
            if (prediction is not null)
            {
                metrics["prediction_drift"] = prediction.Drifted ? 1 : 0;
            }

            foreach (var column in drift.Columns)
            {
                metrics[$"drift.{column.Column}"] = column.Drifted ? 1 : 0;
            }

            foreach (var column in window.Profile.Columns.Where(c => features.Contains(c.Name)))
            {
                metrics[$"missing_rate.{column.Name}"] = Share(column.Missing, column.Count + column.Missing);
            }

            result = result with
            {
                Drift = drift,
                PredictionDrift = prediction,
                Quality = quality,
                Segments = window.Segments.Where(s => s.Value.Rows > 0).ToDictionary(s => s.Key, s =>
                {
                    var segment = Drift(spec, baseline.Profile, s.Value, features);
                    return new SegmentResult(s.Value.Rows, segment.DriftedShare, segment.Drifted);
                }, StringComparer.Ordinal),
                Estimated = Estimate(baseline, window.Profile),
            };
            foreach (var (name, value) in result.Estimated)
            {
                metrics[$"estimated.{name}"] = value;
            }
        }

        if (labeled.Count > 0)
        {
            var performance = new PerformanceResult(labeled.Count, Performance(baseline, labeled));
            result = result with { Performance = performance };
            foreach (var (name, value) in performance.Metrics)
            {
                metrics[$"performance.{name}"] = value;
            }
        }

        return result with { Metrics = metrics };
    }

    /// <summary>Performance of labeled predictions: scikit-learn's definitions, as evaluation computes them.</summary>
    public static Dictionary<string, double> Performance(MonitorBaseline baseline, IReadOnlyList<LabeledPrediction> labeled)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(labeled);
        switch (baseline.Task)
        {
            case TaskKind.Regression:
            {
                var actual = labeled.Select(l => float.Parse(l.Label, CultureInfo.InvariantCulture)).ToArray();
                var predicted = labeled.Select(l => (float)l.Score).ToArray();
                return TaskMetrics.Regression(actual, predicted);
            }

            case TaskKind.Binary:
            {
                var positive = baseline.Classes![1];
                var actual = labeled.Select(l => l.Label == positive).ToArray();
                var probability = labeled.Select(l => (float)l.Score).ToArray();
                var predicted = labeled.Select(l => l.Predicted == positive).ToArray();
                return TaskMetrics.Binary(actual, probability, predicted);
            }

            default:
            {
                var classes = baseline.Classes!;
                var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
                var confusion = new long[classes.Count, classes.Count];
                foreach (var l in labeled)
                {
                    confusion[index[l.Label], index.GetValueOrDefault(l.Predicted)]++;
                }

                var perClass = TaskMetrics.PerClass(confusion);
                var correct = Enumerable.Range(0, classes.Count).Sum(c => confusion[c, c]);
                return new Dictionary<string, double>
                {
                    ["accuracy"] = (double)correct / labeled.Count,
                    ["macro_precision"] = perClass.Average(c => c.Precision),
                    ["macro_recall"] = perClass.Average(c => c.Recall),
                    ["macro_f1"] = perClass.Average(c => c.F1),
                };
            }
        }
    }

    /// <summary>
    /// Confidence-based performance estimation (in the manner of NannyML's CBPE): each prediction's calibrated score
    /// is the chance it is right, so summing chances over the window's score distribution gives the expected
    /// confusion matrix. Binary: accuracy, precision, recall and F1; multiclass: accuracy. Read from the score sketch,
    /// so it costs the same for any window size.
    /// </summary>
    public static Dictionary<string, double> Estimate(MonitorBaseline baseline, DatasetProfile window)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(window);
        var estimated = new Dictionary<string, double>(StringComparer.Ordinal);
        if (baseline.Calibration is not { } calibration || window.Find(MonitoredColumns.ScoreColumn(baseline.Task)) is not { Count: > 0 } column)
        {
            return estimated;
        }

        var points = ColumnDistribution.FromProfile(column).Points;
        if (baseline.Task == TaskKind.Multiclass)
        {
            estimated["accuracy"] = points.Sum(p => p.Weight * calibration.Chance(p.Value)) / points.Sum(p => p.Weight);
            return estimated;
        }

        double tp = 0, fp = 0, fn = 0, tn = 0;
        foreach (var (score, weight) in points)
        {
            var chance = calibration.Chance(score);
            if (score >= calibration.Threshold)
            {
                tp += weight * chance;
                fp += weight * (1 - chance);
            }
            else
            {
                fn += weight * chance;
                tn += weight * (1 - chance);
            }
        }

        var precision = tp + fp == 0 ? 0 : tp / (tp + fp);
        var recall = tp + fn == 0 ? 0 : tp / (tp + fn);
        estimated["accuracy"] = (tp + tn) / (tp + fp + fn + tn);
        estimated["precision"] = precision;
        estimated["recall"] = recall;
        estimated["f1"] = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return estimated;
    }

    /// <summary>Drift of the features (inputs) of a window, with the monitor's per-column settings.</summary>
    public static DriftReport Drift(MonitorSpec spec, DatasetProfile reference, DatasetProfile current, IReadOnlySet<string> features)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(features);
        var columns = new List<ColumnDrift>();
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var column in reference.Columns.Where(c => features.Contains(c.Name)))
        {
            if (DriftDetector.SkipReason(column, current.Find(column.Name)) is { } reason)
            {
                skipped[column.Name] = reason;
                continue;
            }

            columns.Add(ColumnDriftOf(spec, column.Name, reference, current)!);
        }

        var share = columns.Count == 0 ? 0 : (double)columns.Count(c => c.Drifted) / columns.Count;
        return new DriftReport(columns, share, columns.Count > 0 && share >= spec.DriftShare, skipped);
    }

    private static ColumnDrift? ColumnDriftOf(MonitorSpec spec, string name, DatasetProfile reference, DatasetProfile current)
    {
        if (reference.Find(name) is not { Count: > 0 } r || current.Find(name) is not { Count: > 0 } c)
        {
            return null;
        }

        var setting = spec.Columns.GetValueOrDefault(name);
        var drift = DriftDetector.Compare(name, ColumnDistribution.FromProfile(r), ColumnDistribution.FromProfile(c), setting?.Method);
        if (setting?.Threshold is not { } threshold)
        {
            return drift;
        }

        var isTest = drift.Method is DriftMethod.KolmogorovSmirnov or DriftMethod.ChiSquared or DriftMethod.ZTest;
        return drift with { Threshold = threshold, Drifted = isTest ? drift.Score < threshold : drift.Score >= threshold };
    }

    /// <summary>Data quality of a window against the reference's contract: missing values, values out of range, new categories.</summary>
    public static List<QualityIssue> Quality(IReadOnlyList<ColumnContract> contract, DatasetProfile window)
    {
        ArgumentNullException.ThrowIfNull(contract);
        ArgumentNullException.ThrowIfNull(window);
        var issues = new List<QualityIssue>();
        foreach (var rule in contract)
        {
            if (window.Find(rule.Name) is not { } column)
            {
                continue;
            }

            var total = column.Count + column.Missing;
            var missing = Share(column.Missing, total);
            var allowedMissing = rule.Nullable ? rule.MaxMissing ?? 1 : 0;
            if (column.Missing > 0 && missing > allowedMissing)
            {
                issues.Add(new QualityIssue(rule.Name, "missing", $"{column.Missing} of {total} values missing ({missing:P1}); the reference had at most {allowedMissing:P1}", missing));
            }

            if (column.Count > 0 && (rule.Min is { } min && column.Min < min || rule.Max is { } max && column.Max > max))
            {
                var sketch = Profiler.QuantileSketch(column);
                var below = rule.Min is { } lo && sketch is not null ? BelowShare(sketch, lo) : 0;
                var above = rule.Max is { } hi && sketch is not null ? 1 - sketch.Cdf(hi) : 0;
                var share = (below + above) * column.Count / total;
                issues.Add(new QualityIssue(rule.Name, "out_of_range",
                    $"values from {Number(column.Min)} to {Number(column.Max)}, outside the reference's [{Number(rule.Min)}, {Number(rule.Max)}] (about {share:P1} of rows)", share));
            }

            if (rule.Allowed is { } allowed && column.Sketches.Frequent is { } frequent)
            {
                var known = allowed.ToHashSet(StringComparer.Ordinal);
                var unseen = frequent.Items.Where(i => !known.Contains(i.Value)).OrderByDescending(i => i.Count).ToList();
                if (unseen.Count > 0)
                {
                    var share = Share(unseen.Sum(i => i.Count), total);
                    issues.Add(new QualityIssue(rule.Name, "new_category",
                        $"{unseen.Count} value(s) not seen in the reference: {string.Join(", ", unseen.Take(5).Select(i => $"'{i.Value}' ({i.Count})"))}{(unseen.Count > 5 ? ", ..." : "")}", share));
                }
            }
        }

        return issues;
    }

    private static double BelowShare(KllSketch sketch, double value)
    {
        // Cdf counts values at most the bound; values strictly below it are the ones out of range.
        var below = sketch.WeightedItems().Where(i => i.Value < value).Sum(i => i.Weight);
        return (double)below / sketch.Count;
    }

    private static double Share(long part, long total) => total == 0 ? 0 : (double)part / total;

    private static string Number(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "-";
}
