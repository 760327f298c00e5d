using Cairn.Core.Models;

namespace Cairn.Core.Evaluation;

/// <summary>How a model did on held-out rows: metrics, and the curves, tables and breakdowns behind them.</summary>
/// <param name="Task">The learning task.</param>
/// <param name="Rows">The labelled rows evaluated.</param>
/// <param name="Metrics">The task's metrics by name (log-loss in nats, as scikit-learn reports it).</param>
public sealed record EvaluationReport(TaskKind Task, int Rows, IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>
    /// The same metrics for a trivial model fitted on the training rows (the class shares, or the mean), the bar any
    /// model must clear; null when there was no training data to fit it on.
    /// </summary>
    public IReadOnlyDictionary<string, double>? Baseline { get; init; }

    /// <summary>Counts of true class (rows) by predicted class (columns), for classifiers.</summary>
    public ConfusionMatrix? Confusion { get; init; }

    /// <summary>Precision, recall and F1 per class, for classifiers.</summary>
    public IReadOnlyList<ClassMetrics>? Classes { get; init; }

    /// <summary>The ROC curve of a binary classifier (false positive rate, true positive rate).</summary>
    public IReadOnlyList<CurvePoint>? Roc { get; init; }

    /// <summary>The precision–recall curve of a binary classifier (recall, precision).</summary>
    public IReadOnlyList<CurvePoint>? PrecisionRecall { get; init; }

    /// <summary>Reliability of a binary classifier's probabilities in ten equal-width bins.</summary>
    public IReadOnlyList<CalibrationBin>? Calibration { get; init; }

    /// <summary>A regression's residuals (actual − predicted) as a histogram.</summary>
    public Statistics.Histogram? Residuals { get; init; }

    /// <summary>Up to 500 evenly spaced (actual, predicted) pairs of a regression, for a scatter plot.</summary>
    public IReadOnlyList<CurvePoint>? Scatter { get; init; }

    /// <summary>How much the main metric drops when each feature's values are shuffled, most important first.</summary>
    public IReadOnlyList<FeatureImportance>? Importance { get; init; }

    /// <summary>Metrics per value (or quartile) of the slice columns.</summary>
    public IReadOnlyList<SliceMetrics>? Slices { get; init; }
}

/// <summary>A confusion matrix: <c>Counts[actual][predicted]</c> over <see cref="Labels"/>.</summary>
public sealed record ConfusionMatrix(IReadOnlyList<string> Labels, IReadOnlyList<IReadOnlyList<long>> Counts);

/// <summary>One class's precision, recall, F1 and number of true rows.</summary>
public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, long Support);

/// <summary>A point on a curve; <see cref="Threshold"/> is the probability cut that produced it, where there is one.</summary>
public sealed record CurvePoint(double X, double Y, double? Threshold = null);

/// <summary>One probability bin: its rows, their mean predicted probability and the share that was truly positive.</summary>
public sealed record CalibrationBin(double Lower, double Upper, long Rows, double MeanPredicted, double FractionPositive);

/// <summary>The drop in <see cref="Metric"/> when <see cref="Feature"/> is shuffled: the mean over repeats and its spread.</summary>
public sealed record FeatureImportance(string Feature, string Metric, double Drop, double Std);

/// <summary>Metrics on the rows where <see cref="Column"/> has <see cref="Value"/>.</summary>
public sealed record SliceMetrics(string Column, string Value, int Rows, IReadOnlyDictionary<string, double> Metrics);

/// <summary>What to compute beyond the metrics.</summary>
/// <param name="Slices">Columns to break the metrics down by.</param>
/// <param name="PermutationImportance">Whether to measure each feature's permutation importance.</param>
/// <param name="Seed">The seed for the permutations.</param>
public sealed record EvaluationOptions(IReadOnlyList<string> Slices, bool PermutationImportance = true, int Seed = 42)
{
    /// <summary>Metrics only.</summary>
    public static EvaluationOptions MetricsOnly { get; } = new([], PermutationImportance: false);
}
