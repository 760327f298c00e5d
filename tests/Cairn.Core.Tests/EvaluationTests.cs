using System.Text.Json;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Core.Tests;

/// <summary>
/// Checks the evaluation metrics against scikit-learn 1.2.1 (reference/metrics_reference.py defines the same samples by
/// integer formulas and wrote the JSON).
/// </summary>
public sealed class EvaluationTests
{
    private const int N = 1000;

    private static readonly JsonElement Reference =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "reference", "metrics_reference.json"))).RootElement;

    private static (bool[] Actual, float[] Probability, bool[] Predicted) BinarySample()
    {
        var k = Enumerable.Range(0, N).Select(i => (i * 37) % 101).ToArray();
        var probability = k.Select(v => (float)(v / 100.0)).ToArray();
        var actual = Enumerable.Range(0, N).Select(i => k[i] + ((i * 13) % 29) > 65).ToArray();
        return (actual, probability, [.. probability.Select(p => p >= 0.5f)]);
    }

    private static void AssertMatches(JsonElement expected, IReadOnlyDictionary<string, double> actual, double tolerance = 1e-9)
    {
        foreach (var property in expected.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number))
        {
            Assert.True(Math.Abs(property.Value.GetDouble() - actual[property.Name]) <= tolerance * Math.Max(1, Math.Abs(actual[property.Name])),
                $"{property.Name}: scikit-learn {property.Value.GetDouble():R}, Cairn {actual[property.Name]:R}");
        }
    }

    [Fact]
    public void Binary_MatchesScikitLearn()
    {
        var (actual, probability, predicted) = BinarySample();

        AssertMatches(Reference.GetProperty("binary"), TaskMetrics.Binary(actual, probability, predicted));
    }

    [Fact]
    public void Calibration_BinsAsScikitLearnDoes()
    {
        var (actual, probability, _) = BinarySample();
        var bins = TaskMetrics.Calibration(actual, probability);
        var expected = Reference.GetProperty("binary");

        Assert.Equal(expected.GetProperty("calibration_fraction").EnumerateArray().Select(v => v.GetDouble()), bins.Select(b => b.FractionPositive), new Tolerance(1e-12));
        Assert.Equal(expected.GetProperty("calibration_mean_predicted").EnumerateArray().Select(v => v.GetDouble()), bins.Select(b => b.MeanPredicted), new Tolerance(1e-7));
        Assert.Equal(N, bins.Sum(b => b.Rows));
    }

    [Fact]
    public void Multiclass_MatchesScikitLearn()
    {
        var actual = new int[N];
        var predicted = new int[N];
        var probabilities = new float[N * 3];
        for (var i = 0; i < N; i++)
        {
            int[] weights = [1 + ((i * 7) % 10), 1 + ((i * 11) % 13), 1 + ((i * 5) % 7)];
            double total = weights.Sum();
            for (var c = 0; c < 3; c++)
            {
                probabilities[(i * 3) + c] = (float)(weights[c] / total);
            }

            actual[i] = ((i * 3) + ((i * 7) % 10)) % 3;
            // The first largest, as numpy's argmax picks.
            var row = probabilities.AsSpan(i * 3, 3);
            predicted[i] = row[0] >= row[1] && row[0] >= row[2] ? 0 : row[1] >= row[2] ? 1 : 2;
        }

        var metrics = TaskMetrics.Multiclass(actual, probabilities, predicted, 3, out var confusion);
        var expected = Reference.GetProperty("multiclass");

        AssertMatches(expected, metrics, tolerance: 1e-6);
        var matrix = expected.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        for (var a = 0; a < 3; a++)
        {
            Assert.Equal(matrix[a], Enumerable.Range(0, 3).Select(p => confusion[a, p]));
        }
    }

    [Fact]
    public void Regression_MatchesScikitLearn()
    {
        var actual = Enumerable.Range(0, N).Select(i => (float)((i % 50) + (0.5 * (i % 7)))).ToArray();
        var predicted = Enumerable.Range(0, N).Select(i => (float)(actual[i] + ((((i * 17) % 11) - 5) * 0.3))).ToArray();

        AssertMatches(Reference.GetProperty("regression"), TaskMetrics.Regression(actual, predicted), tolerance: 1e-9);
    }

    [Fact]
    public void Evaluate_Binary_ReportsCurvesConfusionImportanceAndSlices()
    {
        var (actual, probability, predicted) = BinarySample();
        var signature = new ModelSignature(TaskKind.Binary, "y", ["no", "yes"], [new SignatureInput("p", ColumnType.Numeric), new SignatureInput("noise", ColumnType.Numeric)],
            ModelSignature.OutputsFor(TaskKind.Binary, 2));
        var test = new Table(
        [
            new NumericColumn("p", probability),
            new NumericColumn("noise", [.. Enumerable.Range(0, N).Select(i => (float)(i % 3))]),
            new StringColumn("group", [.. Enumerable.Range(0, N).Select(i => i % 4 == 0 ? "small" : "large")]),
            new StringColumn("y", [.. actual.Select(a => a ? "yes" : "no")]),
        ], N);

        // The "model" reads its probability from column p, so shuffling p destroys it and shuffling noise does nothing.
        static IReadOnlyList<OutputTensor> Score(Table t)
        {
            var p = ((NumericColumn)t["p"]).Values;
            return
            [
                new(ModelSignature.PredictedLabel, TensorType.Bytes, t.RowCount, 1, null, [.. p.Select(v => v >= 0.5f ? "yes" : "no")]),
                new(ModelSignature.Probability, TensorType.Fp32, t.RowCount, 1, p, null),
                new(ModelSignature.Score, TensorType.Fp32, t.RowCount, 1, p, null),
            ];
        }

        var report = ModelEvaluator.Evaluate(signature, test, Score(test), Score, new EvaluationOptions(["group", "noise"]));

        AssertMatches(Reference.GetProperty("binary"), report.Metrics);
        Assert.Equal(N, report.Confusion!.Counts.Sum(r => r.Sum()));
        Assert.Equal(predicted.Count(p => p), report.Confusion.Counts.Sum(r => r[1]));
        Assert.Equal((0.0, 0.0), (report.Roc![0].X, report.Roc[0].Y));
        Assert.Equal((1.0, 1.0), (report.Roc[^1].X, report.Roc[^1].Y));
        var importance = report.Importance ?? throw new InvalidOperationException("no importance");
        Assert.Equal(["p", "noise"], importance.Select(i => i.Feature));
        Assert.InRange(importance[0].Drop, 0.3, 0.6);
        Assert.Equal(0, importance[1].Drop);
        Assert.NotNull(report.Slices);
        var small = report.Slices.Single(s => s.Column == "group" && s.Value == "small");
        Assert.Equal(N / 4, small.Rows);
        Assert.Equal(Enumerable.Range(0, N).Where(i => i % 4 == 0).Count(i => actual[i] == predicted[i]) / (double)(N / 4), small.Metrics["accuracy"]);
        Assert.Equal(["[0, 0]", "(0, 1]", "(1, 2]"], report.Slices.Where(s => s.Column == "noise").Select(s => s.Value));
        var html = EvaluationHtml.Write("Evaluation of <run>", [("dataset", "d@1")], report);
        Assert.Contains("Evaluation of &lt;run&gt;", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_SkipsRowsWithoutALabel()
    {
        var signature = new ModelSignature(TaskKind.Regression, "y", null, [new SignatureInput("x", ColumnType.Numeric)], ModelSignature.OutputsFor(TaskKind.Regression, 0));
        var test = new Table([new NumericColumn("x", [1, 2, 3]), new NumericColumn("y", [1, float.NaN, 5])], 3);
        IReadOnlyList<OutputTensor> outputs = [new(ModelSignature.Prediction, TensorType.Fp32, 3, 1, [1, 100, 3], null)];

        var report = ModelEvaluator.Evaluate(signature, test, outputs, null, EvaluationOptions.MetricsOnly);

        Assert.Equal(2, report.Rows);
        Assert.Equal(1.0, report.Metrics["mae"]);
    }

    private sealed class Tolerance(double epsilon) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= epsilon;

        public int GetHashCode(double obj) => 0;
    }
}
