using System.Globalization;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Core.Evaluation;

/// <summary>
/// Evaluates any model through its outputs and signature, so a trained, an imported and a served model are judged alike.
/// </summary>
public static class ModelEvaluator
{
    /// <summary>Rows a permutation pass scores at most: importance ranks features, it needs no more.</summary>
    public const int MaxPermutationRows = 10_000;

    private const int PermutationRepeats = 3;
    private const int MaxSliceValues = 20;

    /// <summary>
    /// Evaluates <paramref name="predictions"/> (the model's outputs for <paramref name="test"/>) against the label column.
    /// <paramref name="score"/> re-scores shuffled copies for permutation importance; rows without a label are skipped.
    /// </summary>
    public static EvaluationReport Evaluate(
        ModelSignature signature, Table test, IReadOnlyList<OutputTensor> predictions, Func<Table, IReadOnlyList<OutputTensor>>? score, EvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(options);
        if (!test.Contains(signature.Label))
        {
            throw CairnException.Invalid($"The evaluation data has no label column '{signature.Label}'.");
        }

        var labelled = LabelledRows(signature, test);
        if (labelled.Count < test.RowCount)
        {
            test = test.Take(labelled);
            predictions = [.. predictions.Select(p => Take(p, labelled))];
        }

        var scored = Score(signature, test, predictions, out var confusion, out var classes);
        var report = new EvaluationReport(signature.Task, test.RowCount, scored.Metrics) { Confusion = confusion, Classes = classes };
        report = signature.Task switch
        {
            TaskKind.Binary => AddBinaryCurves(report, scored),
            TaskKind.Regression => AddResiduals(report, scored),
            _ => report,
        };

        if (options.PermutationImportance && score is not null)
        {
            report = report with { Importance = Importance(signature, test, score, scored.Metrics, options.Seed) };
        }

        if (options.Slices.Count > 0)
        {
            report = report with { Slices = Slices(signature, test, predictions, options.Slices) };
        }

        return report;
    }

    /// <summary>
    /// The outputs of the trivial model for <paramref name="rows"/> rows: a classifier that always predicts the most
    /// common class of <paramref name="trainLabels"/> with the training class shares as probabilities, or a regression
    /// that always predicts the training mean.
    /// </summary>
    public static IReadOnlyList<OutputTensor> BaselineOutputs(ModelSignature signature, TableColumn trainLabels, int rows)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(trainLabels);
        if (signature.Task == TaskKind.Regression)
        {
            var values = ((NumericColumn)trainLabels).Values.Where(v => !float.IsNaN(v)).ToArray();
            var mean = values.Length == 0 ? 0f : (float)values.Average(v => (double)v);
            return [new(ModelSignature.Prediction, TensorType.Fp32, rows, 1, Enumerable.Repeat(mean, rows).ToArray(), null)];
        }

        var classes = signature.Classes!;
        var labels = LabelText(trainLabels, classes).OfType<string>().ToList();
        var shares = classes.Select(c => labels.Count == 0 ? 1f / classes.Count : labels.Count(l => l == c) / (float)labels.Count).ToArray();
        var majority = classes[Array.IndexOf(shares, shares.Max())];
        var predicted = Enumerable.Repeat(majority, rows).ToArray();
        if (signature.Task == TaskKind.Binary)
        {
            var positive = Enumerable.Repeat(shares[1], rows).ToArray();
            return
            [
                new(ModelSignature.PredictedLabel, TensorType.Bytes, rows, 1, null, predicted),
                new(ModelSignature.Probability, TensorType.Fp32, rows, 1, positive, null),
                new(ModelSignature.Score, TensorType.Fp32, rows, 1, positive, null),
            ];
        }

        return
        [
            new(ModelSignature.PredictedLabel, TensorType.Bytes, rows, 1, null, predicted),
            new(ModelSignature.Probabilities, TensorType.Fp32, rows, classes.Count, [.. Enumerable.Range(0, rows).SelectMany(_ => shares)], null),
        ];
    }

    /// <summary>Metrics where lower is better; for every other metric higher is better.</summary>
    public static readonly IReadOnlySet<string> LowerIsBetter = new HashSet<string>(StringComparer.Ordinal) { "rmse", "mae", "log_loss", "brier", "ece", "max_error" };

    /// <summary>The metric permutation importance measures: AUC, accuracy or R², each higher-is-better.</summary>
    public static string MainMetric(TaskKind task) => task switch
    {
        TaskKind.Binary => "auc",
        TaskKind.Multiclass => "accuracy",
        _ => "r2",
    };

    /// <summary>
    /// The label of each row as the class text a classifier predicts, or null where missing; a numeric column read as
    /// true/false when those are the classes (a boolean label is stored as 0/1).
    /// </summary>
    public static string?[] LabelText(TableColumn column, IReadOnlyList<string> classes) => column switch
    {
        StringColumn s => s.Values,
        NumericColumn n when classes.Contains("true") && classes.Contains("false") =>
            [.. n.Values.Select(v => float.IsNaN(v) ? null : v != 0 ? "true" : "false")],
        NumericColumn n => [.. n.Values.Select(v => float.IsNaN(v) ? null : v.ToString("R", CultureInfo.InvariantCulture))],
        _ => throw new InvalidOperationException($"Unknown column kind {column.GetType().Name}."),
    };

    private sealed record Scored(
        Dictionary<string, double> Metrics, bool[]? Actual, float[]? Probability, float[]? ActualValues, float[]? PredictedValues);

    private static List<int> LabelledRows(ModelSignature signature, Table test)
    {
        var rows = new List<int>(test.RowCount);
        var column = test[signature.Label];
        for (var i = 0; i < test.RowCount; i++)
        {
            var missing = column switch
            {
                NumericColumn n => float.IsNaN(n.Values[i]),
                StringColumn s => string.IsNullOrEmpty(s.Values[i]),
                _ => true,
            };
            if (!missing)
            {
                rows.Add(i);
            }
        }

        return rows;
    }

    private static OutputTensor Take(OutputTensor tensor, List<int> rows)
    {
        var width = tensor.Width;
        float[]? floats = tensor.Floats is null ? null : new float[rows.Count * width];
        string[]? strings = tensor.Strings is null ? null : new string[rows.Count * width];
        for (var i = 0; i < rows.Count; i++)
        {
            tensor.Floats?.AsSpan(rows[i] * width, width).CopyTo(floats.AsSpan(i * width, width));
            tensor.Strings?.AsSpan(rows[i] * width, width).CopyTo(strings.AsSpan(i * width, width));
        }

        return tensor with { Rows = rows.Count, Floats = floats, Strings = strings };
    }

    private static OutputTensor Output(IReadOnlyList<OutputTensor> outputs, string name) =>
        outputs.FirstOrDefault(o => o.Name == name) ?? throw new InvalidOperationException($"The model's outputs lack '{name}'.");

    private static Scored Score(ModelSignature signature, Table test, IReadOnlyList<OutputTensor> outputs, out ConfusionMatrix? confusion, out List<ClassMetrics>? perClass)
    {
        confusion = null;
        perClass = null;
        switch (signature.Task)
        {
            case TaskKind.Binary:
            {
                var classes = signature.Classes!;
                var labels = LabelText(test[signature.Label], classes);
                var actual = labels.Select(l => l == classes[1]).ToArray();
                var probability = Output(outputs, ModelSignature.Probability).Floats!;
                var predicted = Output(outputs, ModelSignature.PredictedLabel).Strings!.Select(p => p == classes[1]).ToArray();
                var metrics = TaskMetrics.Binary(actual, probability, predicted);
                var matrix = new long[2, 2];
                for (var i = 0; i < actual.Length; i++)
                {
                    matrix[actual[i] ? 1 : 0, predicted[i] ? 1 : 0]++;
                }

                metrics["ece"] = TaskMetrics.ExpectedCalibrationError(TaskMetrics.Calibration(actual, probability));
                confusion = Confusion(classes, matrix);
                perClass = Named(TaskMetrics.PerClass(matrix), classes);
                return new Scored(metrics, actual, probability, null, null);
            }

            case TaskKind.Multiclass:
            {
                var classes = signature.Classes!;
                var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
                var labels = LabelText(test[signature.Label], classes);
                // A class the model never saw counts as wrong for every prediction: it cannot be predicted.
                var unseen = labels.Where(l => !index.ContainsKey(l!)).Distinct().ToList();
                if (unseen.Count > 0)
                {
                    throw CairnException.Invalid(
                        $"The evaluation labels include classes the model does not know: {string.Join(", ", unseen.Take(5).Select(u => $"'{u}'"))}.");
                }

                var actual = labels.Select(l => index[l!]).ToArray();
                var predicted = Output(outputs, ModelSignature.PredictedLabel).Strings!.Select(p => index[p]).ToArray();
                var metrics = TaskMetrics.Multiclass(actual, Output(outputs, ModelSignature.Probabilities).Floats!, predicted, classes.Count, out var matrix);
                confusion = Confusion(classes, matrix);
                perClass = Named(TaskMetrics.PerClass(matrix), classes);
                return new Scored(metrics, null, null, null, null);
            }

            default:
            {
                var actual = test[signature.Label] is NumericColumn n
                    ? n.Values
                    : throw CairnException.Invalid($"The label column '{signature.Label}' must be numeric to evaluate a regression.");
                var predicted = Output(outputs, ModelSignature.Prediction).Floats!;
                return new Scored(TaskMetrics.Regression(actual, predicted), null, null, actual, predicted);
            }
        }
    }

    private static ConfusionMatrix Confusion(IReadOnlyList<string> classes, long[,] matrix)
    {
        var k = classes.Count;
        var rows = new List<IReadOnlyList<long>>(k);
        for (var a = 0; a < k; a++)
        {
            var row = new long[k];
            for (var p = 0; p < k; p++)
            {
                row[p] = matrix[a, p];
            }

            rows.Add(row);
        }

        return new ConfusionMatrix(classes, rows);
    }

    private static List<ClassMetrics> Named(List<ClassMetrics> metrics, IReadOnlyList<string> classes) =>
        [.. metrics.Select((m, i) => m with { Label = classes[i] })];

    private static EvaluationReport AddBinaryCurves(EvaluationReport report, Scored scored)
    {
        var (roc, pr) = TaskMetrics.Curves(scored.Actual, scored.Probability, maxPoints: 200);
        return report with { Roc = roc, PrecisionRecall = pr, Calibration = TaskMetrics.Calibration(scored.Actual, scored.Probability) };
    }

    private static EvaluationReport AddResiduals(EvaluationReport report, Scored scored)
    {
        var (actual, predicted) = (scored.ActualValues!, scored.PredictedValues!);
        var residuals = actual.Select((a, i) => (double)a - predicted[i]).ToArray();
        if (residuals.Length == 0)
        {
            return report;
        }

        var (min, max) = (residuals.Min(), residuals.Max());
        const int Bins = 20;
        var width = max > min ? (max - min) / Bins : 1;
        var counts = new long[Bins];
        foreach (var r in residuals)
        {
            counts[Math.Clamp((int)((r - min) / width), 0, Bins - 1)]++;
        }

        var edges = Enumerable.Range(0, Bins + 1).Select(i => min + (i * width)).ToArray();
        var step = Math.Max(1, actual.Length / 500);
        var scatter = new List<CurvePoint>();
        for (var i = 0; i < actual.Length; i += step)
        {
            scatter.Add(new CurvePoint(actual[i], predicted[i]));
        }

        return report with { Residuals = new Statistics.Histogram(edges, counts), Scatter = scatter };
    }

    private static List<FeatureImportance> Importance(
        ModelSignature signature, Table test, Func<Table, IReadOnlyList<OutputTensor>> score, Dictionary<string, double> metrics, int seed)
    {
        var metric = MainMetric(signature.Task);
        var random = new Random(seed);
        if (test.RowCount > MaxPermutationRows)
        {
            var sample = Enumerable.Range(0, test.RowCount).OrderBy(_ => random.Next()).Take(MaxPermutationRows).Order().ToList();
            test = test.Take(sample);
            metrics = Score(signature, test, score(test), out _, out _).Metrics;
        }

        var baseline = metrics[metric];
        var result = new List<FeatureImportance>();
        foreach (var input in signature.Inputs)
        {
            var drops = new double[PermutationRepeats];
            for (var repeat = 0; repeat < PermutationRepeats; repeat++)
            {
                var shuffled = Shuffle(test, input.Name, random);
                drops[repeat] = baseline - Score(signature, shuffled, score(shuffled), out _, out _).Metrics[metric];
            }

            var mean = drops.Average();
            var std = Math.Sqrt(drops.Sum(d => (d - mean) * (d - mean)) / drops.Length);
            result.Add(new FeatureImportance(input.Name, metric, mean, std));
        }

        return [.. result.OrderByDescending(r => r.Drop)];
    }

    private static Table Shuffle(Table table, string column, Random random)
    {
        var permutation = Enumerable.Range(0, table.RowCount).ToArray();
        random.Shuffle(permutation);
        var columns = table.Columns.Select(c => c.Name != column ? c : c switch
        {
            NumericColumn n => new NumericColumn(c.Name, [.. permutation.Select(i => n.Values[i])]),
            StringColumn s => (TableColumn)new StringColumn(c.Name, [.. permutation.Select(i => s.Values[i])]),
            _ => c,
        }).ToList();
        return new Table(columns, table.RowCount);
    }

    private static List<SliceMetrics> Slices(ModelSignature signature, Table test, IReadOnlyList<OutputTensor> predictions, IReadOnlyList<string> columns)
    {
        var result = new List<SliceMetrics>();
        foreach (var name in columns)
        {
            if (!test.Contains(name))
            {
                throw CairnException.Invalid($"The slice column '{name}' is not in the evaluation data.");
            }

            foreach (var (value, rows) in SliceRows(test[name]))
            {
                var slice = test.Take(rows);
                var metrics = Score(signature, slice, [.. predictions.Select(p => Take(p, rows))], out _, out _).Metrics;
                var defined = metrics.Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value);
                result.Add(new SliceMetrics(name, value, rows.Count, defined));
            }
        }

        return result;
    }

    // Text columns slice by their most frequent values (the rest together); numbers by quartile.
    private static IEnumerable<(string Value, List<int> Rows)> SliceRows(TableColumn column)
    {
        if (column is StringColumn s)
        {
            var groups = Enumerable.Range(0, s.Length).GroupBy(i => s.Values[i] ?? "(missing)").OrderByDescending(g => g.Count()).ToList();
            foreach (var group in groups.Take(MaxSliceValues))
            {
                yield return (group.Key, group.ToList());
            }

            if (groups.Count > MaxSliceValues)
            {
                yield return ("(other)", [.. groups.Skip(MaxSliceValues).SelectMany(g => g).Order()]);
            }

            yield break;
        }

        var values = ((NumericColumn)column).Values;
        var present = values.Where(v => !float.IsNaN(v)).Order().ToArray();
        var missing = Enumerable.Range(0, values.Length).Where(i => float.IsNaN(values[i])).ToList();
        if (present.Length > 0)
        {
            var cuts = new[] { 0.25, 0.5, 0.75 }.Select(q => present[(int)(q * (present.Length - 1))]).Distinct().ToList();
            var lower = present[0];
            for (var b = 0; b <= cuts.Count; b++)
            {
                var upper = b < cuts.Count ? cuts[b] : present[^1];
                var last = b == cuts.Count;
                var low = lower;
                var rows = Enumerable.Range(0, values.Length)
                    .Where(i => !float.IsNaN(values[i]) && (b == 0 ? values[i] >= low : values[i] > low) && (last || values[i] <= upper)).ToList();
                if (rows.Count > 0)
                {
                    var open = b == 0 ? "[" : "(";
                    yield return ($"{open}{Number(low)}, {Number(upper)}]", rows);
                }

                lower = upper;
            }
        }

        if (missing.Count > 0)
        {
            yield return ("(missing)", missing);
        }
    }

    private static string Number(float value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
