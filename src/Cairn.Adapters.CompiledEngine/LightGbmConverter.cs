using System.Globalization;
using System.Text;
using Cairn.Core;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Adapters.CompiledEngine;

/// <summary>
/// Turns a LightGBM model saved as text (<c>booster.save_model("model.txt")</c>, LightGBM 3 and 4) into one ONNX-ML
/// <c>TreeEnsembleRegressor</c> that decides exactly as LightGBM does: <c>x &lt;= threshold</c> goes left, with the
/// double threshold rounded down to the largest float not above it (so a float row compares the same); a missing
/// value goes the node's default way when the node tracks NaN, and where it does not, the way 0 would (LightGBM
/// reads NaN as 0 there).
/// </summary>
public sealed class LightGbmConverter : ITreeModelConverter
{
    /// <inheritdoc />
    public ConvertedTreeModel? TryConvert(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Length < 5 || !file.AsSpan().StartsWith("tree\n"u8) && !file.AsSpan().StartsWith("tree\r\n"u8))
        {
            return null;
        }

        try
        {
            return Convert(Encoding.UTF8.GetString(file).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'));
        }
        catch (Exception e) when (e is FormatException or KeyNotFoundException or IndexOutOfRangeException or OverflowException)
        {
            throw CairnException.Invalid($"The LightGBM model cannot be read: {e.Message}");
        }
    }

    private static ConvertedTreeModel Convert(string[] lines)
    {
        var header = Section(lines, 0, out var at);
        var objective = header["objective"].Split(' ');
        var classes = int.Parse(header["num_class"], CultureInfo.InvariantCulture);
        var perIteration = int.Parse(header["num_tree_per_iteration"], CultureInfo.InvariantCulture);
        var featureCount = int.Parse(header["max_feature_idx"], CultureInfo.InvariantCulture) + 1;
        if (header.ContainsKey("average_output"))
        {
            throw CairnException.Invalid("The LightGBM model averages its trees (random forest mode); Cairn imports boosted models.");
        }

        var sigmoid = objective.FirstOrDefault(o => o.StartsWith("sigmoid:", StringComparison.Ordinal)) is { } s ? double.Parse(s["sigmoid:".Length..], CultureInfo.InvariantCulture) : 1.0;
        var (task, transform) = objective[0] switch
        {
            "binary" => (TaskKind.Binary, "SIGMOID"),
            "multiclass" or "softmax" => (TaskKind.Multiclass, "SOFTMAX"),
            "regression" or "regression_l2" or "l2" or "mean_squared_error" or "mse" or "regression_l1" or "l1" or "huber" or "fair" or "quantile" or "mape" => (TaskKind.Regression, "NONE"),
            var other => throw CairnException.Invalid($"The LightGBM objective '{other}' is not one Cairn imports (binary, multiclass, regression and its variants)."),
        };
        var targets = task == TaskKind.Multiclass ? classes : 1;
        if (perIteration != targets)
        {
            throw CairnException.Invalid($"The LightGBM model grows {perIteration} trees per iteration for {targets} outputs.");
        }

        // A binary model's scores are scaled by its sigmoid's slope before the logistic; folding it into the leaves keeps the graph plain.
        var scale = task == TaskKind.Binary ? sigmoid : 1.0;
        var nodes = new NodeAttributes();
        var tree = 0;
        while (at < lines.Length && lines[at].StartsWith("Tree=", StringComparison.Ordinal))
        {
            var fields = Section(lines, at + 1, out at);
            AddTree(nodes, tree, tree % perIteration, fields, featureCount, scale);
            tree++;
        }

        if (tree == 0)
        {
            throw CairnException.Invalid("The LightGBM model has no trees.");
        }

        var names = header.TryGetValue("feature_names", out var recorded) && recorded.Split(' ') is { } split && split.Length == featureCount
            ? split
            : [.. Enumerable.Range(0, featureCount).Select(i => $"f{i}")];
        var onnx = OnnxWriter.TreeEnsemble(nodes, featureCount, targets, [.. Enumerable.Repeat(0f, targets)], transform);
        return new ConvertedTreeModel(onnx, "lightgbm-text", task, names);
    }

    // key=value lines from `start` up to a blank line; `next` is the first line after the blank ones.
    private static Dictionary<string, string> Section(string[] lines, int start, out int next)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = start;
        for (; i < lines.Length && lines[i].Length > 0; i++)
        {
            var equals = lines[i].IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                fields[lines[i][..equals]] = lines[i][(equals + 1)..];
            }
            else
            {
                fields[lines[i]] = "";
            }
        }

        while (i < lines.Length && lines[i].Length == 0)
        {
            i++;
        }

        next = i;
        return fields;
    }

    private static void AddTree(NodeAttributes nodes, int tree, int target, Dictionary<string, string> fields, int featureCount, double scale)
    {
        var leafValues = Doubles(fields["leaf_value"]);
        var leaves = int.Parse(fields["num_leaves"], CultureInfo.InvariantCulture);
        if (leaves == 1)
        {
            nodes.Add(tree, 0, 0, "LEAF", 0f, 0, 0, false);
            nodes.Leaf(tree, 0, target, (float)(leafValues[0] * scale));
            return;
        }

        if (fields.TryGetValue("is_linear", out var linear) && linear != "0")
        {
            throw CairnException.Invalid($"Tree {tree} of the LightGBM model is a linear tree; Cairn imports constant leaves.");
        }

        var features = Ints(fields["split_feature"]);
        var thresholds = Doubles(fields["threshold"]);
        var decisions = Ints(fields["decision_type"]);
        var left = Ints(fields["left_child"]);
        var right = Ints(fields["right_child"]);
        int Id(int child) => child >= 0 ? child : leaves - 1 + ~child;
        for (var n = 0; n < leaves - 1; n++)
        {
            var decision = decisions[n];
            if ((decision & 1) != 0)
            {
                throw CairnException.Invalid($"Tree {tree} of the LightGBM model has a categorical split; Cairn imports numeric splits only.");
            }

            if (features[n] < 0 || features[n] >= featureCount)
            {
                throw CairnException.Invalid($"Tree {tree} of the LightGBM model splits on feature {features[n]}, but the model has {featureCount}.");
            }

            var defaultLeft = (decision & 2) != 0;
            var threshold = FloatAtMost(thresholds[n]);
            var missingLeft = ((decision >> 2) & 3) switch
            {
                2 => defaultLeft,             // NaN is missing: it goes the default way
                0 => 0 <= thresholds[n],      // no missing type: NaN is read as 0
                _ => 0 <= thresholds[n] == defaultLeft && thresholds[n] is < -1e-35 or >= 1e-35
                    ? defaultLeft
                    : throw CairnException.Invalid($"Tree {tree} of the LightGBM model treats zero as missing in a way a comparison cannot express."),
            };
            nodes.Add(tree, n, features[n], "BRANCH_LEQ", threshold, Id(left[n]), Id(right[n]), missingLeft);
        }

        for (var k = 0; k < leaves; k++)
        {
            nodes.Add(tree, leaves - 1 + k, 0, "LEAF", 0f, 0, 0, false);
            nodes.Leaf(tree, leaves - 1 + k, target, (float)(leafValues[k] * scale));
        }
    }

    // The largest float not above `value`: for a float x, x <= value exactly when x <= FloatAtMost(value).
    private static float FloatAtMost(double value)
    {
        var f = (float)value;
        return f > value ? MathF.BitDecrement(f) : f;
    }

    // LightGBM writes infinities as inf and -inf.
    private static double[] Doubles(string line) => [.. line.Split(' ').Select(v => v switch
    {
        "inf" or "+inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => double.Parse(v, CultureInfo.InvariantCulture),
    })];

    private static int[] Ints(string line) => [.. line.Split(' ').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];
}
