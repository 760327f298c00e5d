namespace Cairn.Core.Evaluation;

/// <summary>The standard metrics of each task, computed from labels and predictions (definitions as in scikit-learn).</summary>
public static class TaskMetrics
{
    // Probabilities are clipped before the logarithm, as scikit-learn does, so one confident mistake costs a finite amount.
    private const double Epsilon = 1e-15;

    /// <summary>
    /// AUC, PR-AUC (average precision), accuracy, precision, recall and F1 of the positive class, log-loss and Brier score.
    /// <paramref name="predicted"/> is the model's own decision, which need not be probability ≥ 0.5.
    /// </summary>
    public static Dictionary<string, double> Binary(ReadOnlySpan<bool> actual, ReadOnlySpan<float> probability, ReadOnlySpan<bool> predicted)
    {
        var (tp, fp, tn, fn) = (0L, 0L, 0L, 0L);
        double logLoss = 0, brier = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            _ = (actual[i], predicted[i]) switch
            {
                (true, true) => tp++,
                (false, true) => fp++,
                (false, false) => tn++,
                (true, false) => fn++,
            };
            var p = Math.Clamp(probability[i], Epsilon, 1 - Epsilon);
            logLoss -= actual[i] ? Math.Log(p) : Math.Log(1 - p);
            var target = actual[i] ? 1.0 : 0.0;
            brier += (probability[i] - target) * (probability[i] - target);
        }

        var n = actual.Length;
        var precision = Ratio(tp, tp + fp);
        var recall = Ratio(tp, tp + fn);
        var (roc, pr) = Curves(actual, probability, maxPoints: int.MaxValue);
        return new Dictionary<string, double>
        {
            ["auc"] = Area(roc),
            ["pr_auc"] = AveragePrecision(pr),
            ["accuracy"] = Ratio(tp + tn, n),
            ["precision"] = precision,
            ["recall"] = recall,
            ["f1"] = F1(precision, recall),
            ["log_loss"] = n == 0 ? double.NaN : logLoss / n,
            ["brier"] = n == 0 ? double.NaN : brier / n,
        };
    }

    /// <summary>
    /// The ROC curve (false positive rate → true positive rate) and the precision–recall curve (recall → precision), one
    /// point per distinct probability from the highest down, thinned to about <paramref name="maxPoints"/> points.
    /// </summary>
    public static (List<CurvePoint> Roc, List<CurvePoint> PrecisionRecall) Curves(ReadOnlySpan<bool> actual, ReadOnlySpan<float> probability, int maxPoints)
    {
        var order = new int[actual.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var keys = probability.ToArray();
        Array.Sort(keys, order);
        long positives = 0;
        foreach (var a in actual)
        {
            positives += a ? 1 : 0;
        }

        var negatives = actual.Length - positives;
        var roc = new List<CurvePoint> { new(0, 0, 1) };
        var pr = new List<CurvePoint>();
        long tp = 0, fp = 0;
        var stride = Math.Max(1, actual.Length / Math.Max(1, maxPoints));
        var sinceLast = 0;
        for (var k = order.Length - 1; k >= 0; k--)
        {
            if (actual[order[k]])
            {
                tp++;
            }
            else
            {
                fp++;
            }

            // A point only where the threshold changes: tied probabilities move together.
            if (k > 0 && keys[k - 1] == keys[k])
            {
                continue;
            }

            if (++sinceLast < stride && k > 0)
            {
                continue;
            }

            sinceLast = 0;
            roc.Add(new CurvePoint(Ratio(fp, negatives), Ratio(tp, positives), keys[k]));
            pr.Add(new CurvePoint(Ratio(tp, positives), Ratio(tp, tp + fp), keys[k]));
        }

        return (roc, pr);
    }

    /// <summary>Ten equal-width probability bins with their mean prediction and observed positive share; empty bins are left out.</summary>
    public static List<CalibrationBin> Calibration(ReadOnlySpan<bool> actual, ReadOnlySpan<float> probability, int bins = 10)
    {
        var rows = new long[bins];
        var sumPredicted = new double[bins];
        var positives = new long[bins];
        for (var i = 0; i < actual.Length; i++)
        {
            // Bins are (lower, upper], the first also holding 0: scikit-learn's calibration_curve cuts the same way.
            var bin = Math.Clamp((int)Math.Ceiling(probability[i] * (double)bins) - 1, 0, bins - 1);
            rows[bin]++;
            sumPredicted[bin] += probability[i];
            positives[bin] += actual[i] ? 1 : 0;
        }

        var result = new List<CalibrationBin>();
        for (var b = 0; b < bins; b++)
        {
            if (rows[b] > 0)
            {
                result.Add(new CalibrationBin((double)b / bins, (double)(b + 1) / bins, rows[b], sumPredicted[b] / rows[b], (double)positives[b] / rows[b]));
            }
        }

        return result;
    }

    /// <summary>Expected calibration error: the row-weighted mean gap between predicted and observed positive share.</summary>
    public static double ExpectedCalibrationError(IReadOnlyList<CalibrationBin> bins)
    {
        ArgumentNullException.ThrowIfNull(bins);
        var total = bins.Sum(b => b.Rows);
        return total == 0 ? double.NaN : bins.Sum(b => b.Rows * Math.Abs(b.MeanPredicted - b.FractionPositive)) / total;
    }

    /// <summary>
    /// Micro accuracy, macro accuracy (mean per-class recall), macro precision, recall and F1, micro F1 and log-loss.
    /// <paramref name="probabilities"/> holds <paramref name="classCount"/> values per row; labels are class indexes.
    /// </summary>
    public static Dictionary<string, double> Multiclass(
        ReadOnlySpan<int> actual, ReadOnlySpan<float> probabilities, ReadOnlySpan<int> predicted, int classCount, out long[,] confusion)
    {
        confusion = new long[classCount, classCount];
        double logLoss = 0;
        long correct = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            confusion[actual[i], predicted[i]]++;
            correct += actual[i] == predicted[i] ? 1 : 0;
            logLoss -= Math.Log(Math.Clamp(probabilities[(i * classCount) + actual[i]], Epsilon, 1 - Epsilon));
        }

        var perClass = PerClass(confusion);
        var present = perClass.Where(c => c.Support > 0).ToList();
        var n = actual.Length;
        return new Dictionary<string, double>
        {
            ["accuracy"] = Ratio(correct, n),
            ["macro_accuracy"] = present.Count == 0 ? double.NaN : present.Average(c => c.Recall),
            ["macro_precision"] = perClass.Average(c => c.Precision),
            ["macro_recall"] = present.Count == 0 ? double.NaN : present.Average(c => c.Recall),
            ["macro_f1"] = perClass.Average(c => c.F1),
            // With one label per row, micro precision, recall and F1 all equal accuracy.
            ["micro_f1"] = Ratio(correct, n),
            ["log_loss"] = n == 0 ? double.NaN : logLoss / n,
        };
    }

    /// <summary>Precision, recall, F1 and support per class of a confusion matrix (labels are indexes as strings).</summary>
    public static List<ClassMetrics> PerClass(long[,] confusion)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        var k = confusion.GetLength(0);
        var result = new List<ClassMetrics>(k);
        for (var c = 0; c < k; c++)
        {
            long truePositive = confusion[c, c], actualTotal = 0, predictedTotal = 0;
            for (var j = 0; j < k; j++)
            {
                actualTotal += confusion[c, j];
                predictedTotal += confusion[j, c];
            }

            var precision = Ratio(truePositive, predictedTotal);
            var recall = Ratio(truePositive, actualTotal);
            result.Add(new ClassMetrics(c.ToString(System.Globalization.CultureInfo.InvariantCulture), precision, recall, F1(precision, recall), actualTotal));
        }

        return result;
    }

    /// <summary>RMSE, MAE, R², the largest absolute error and the mean of the actual values.</summary>
    public static Dictionary<string, double> Regression(ReadOnlySpan<float> actual, ReadOnlySpan<float> predicted)
    {
        double squared = 0, absolute = 0, max = 0, mean = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            mean += (actual[i] - mean) / (i + 1);
        }

        double total = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var error = (double)actual[i] - predicted[i];
            squared += error * error;
            absolute += Math.Abs(error);
            max = Math.Max(max, Math.Abs(error));
            total += (actual[i] - mean) * (actual[i] - mean);
        }

        var n = actual.Length;
        return new Dictionary<string, double>
        {
            ["rmse"] = n == 0 ? double.NaN : Math.Sqrt(squared / n),
            ["mae"] = n == 0 ? double.NaN : absolute / n,
            ["r2"] = total == 0 ? double.NaN : 1 - (squared / total),
            ["max_error"] = max,
        };
    }

    private static double Area(List<CurvePoint> roc)
    {
        double area = 0;
        for (var i = 1; i < roc.Count; i++)
        {
            area += (roc[i].X - roc[i - 1].X) * (roc[i].Y + roc[i - 1].Y) / 2;
        }

        return roc[^1].X == 0 || roc[^1].Y == 0 ? double.NaN : area;
    }

    // Average precision: precision at each threshold weighted by the recall it adds (no interpolation).
    private static double AveragePrecision(List<CurvePoint> pr)
    {
        double area = 0, previousRecall = 0;
        foreach (var point in pr)
        {
            area += (point.X - previousRecall) * point.Y;
            previousRecall = point.X;
        }

        return pr.Count == 0 || pr[^1].X == 0 ? double.NaN : area;
    }

    private static double F1(double precision, double recall) => precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);

    private static double Ratio(long numerator, long denominator) => denominator == 0 ? 0 : (double)numerator / denominator;
}
