using System.Diagnostics;
using System.Runtime.InteropServices;
using Cairn.Adapters.CompiledEngine.Onnx;

namespace Cairn.Adapters.CompiledEngine;

/// <summary>How a score is transformed after the trees are summed, as ONNX-ML's <c>post_transform</c> names it.</summary>
internal enum PostTransform
{
    None,
    Logistic,
    Softmax,
}

/// <summary>
/// A tree ensemble read from ONNX-ML's attributes: every tree's nodes in one array, depth first, leaves folded into
/// the child links (a negative link is a leaf), then emitted as code (see <see cref="TreeCode"/>). Scores follow ONNX
/// Runtime's arithmetic where it matters: float comparisons, trees summed in graph order in float, then the base
/// values, then the transform.
/// </summary>
internal sealed class TreeEnsemble : TreeCode.INodes
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Node
    {
        // The feature index; a negative value (the top bit set) marks a node that sends a missing value (NaN) the true way.
        public int Feature;
        public float Threshold;
        public int True;
        public int False;
    }

    private readonly Node[] _nodes;
    private readonly int[] _roots;
    private readonly Branch _branch;

    // Leaf i adds _weights[k] to target _targets[k] for k in [_leafStart[i], _leafStart[i + 1]).
    private readonly int[] _leafStart;
    private readonly int[] _targets;
    private readonly float[] _weights;
    private readonly float[] _baseValues;
    private readonly bool _average;

    // The trees as code (see TreeCode); the arrays above are what it is emitted from.
    private readonly TreeGroup[] _code;

    // The same trees as QuickScorer's tables, when that scores them faster.
    private readonly QuickScorer? _quick;

    private TreeEnsemble(Node[] nodes, int[] roots, Branch branch, int[] leafStart, int[] targets, float[] weights, int targetCount, float[] baseValues, bool average,
        PostTransform transform, int featureCount)
    {
        FeatureCount = featureCount;
        _nodes = nodes;
        _roots = roots;
        _branch = branch;
        _leafStart = leafStart;
        _targets = targets;
        _weights = weights;
        TargetCount = targetCount;
        _baseValues = baseValues;
        _average = average;
        Transform = transform;
        _code = TreeCode.Emit(roots, this, branch.ToString(), targetCount == 1);
        _quick = branch is Branch.Leq or Branch.Lt && Scoring.Value != TreeScoring.Emitted
            ? QuickScorer.TryBuild(
                [.. nodes.Select(n => new QuickScorer.Node(n.Feature & int.MaxValue, n.Feature < 0, n.Threshold, n.True, n.False))],
                roots, branch == Branch.Lt, leafStart, targets, weights)
            : null;
        _choice = _quick is null ? Choice.Emitted : Scoring.Value == TreeScoring.QuickScorer ? Choice.Quick : Choice.Undecided;
    }

    private const int Streak = 64;
    private const int MeasuredRows = 8 * Streak;
    private volatile Choice _choice;
    private int _measuredRows;
    private long _emittedTicks;
    private long _quickTicks;

    private enum Choice
    {
        Undecided,
        Emitted,
        Quick,
    }

    /// <summary>How an ensemble scores: the faster way for it, measured on its first rows, unless a test pins one.</summary>
    internal enum TreeScoring
    {
        Fastest,
        Emitted,
        QuickScorer,
    }

    /// <summary>Pins how ensembles built in this async flow score (tests check each way against ONNX Runtime).</summary>
    internal static AsyncLocal<TreeScoring> Scoring { get; } = new();

    /// <summary>The number of values a row scores to: one per target or class.</summary>
    public int TargetCount { get; }

    /// <summary>The transform applied after summing.</summary>
    public PostTransform Transform { get; }

    /// <summary>The number of features a row must have.</summary>
    public int FeatureCount { get; }

    /// <summary>The number of trees.</summary>
    public int TreeCount => _roots.Length;

    /// <summary>Reads a <c>TreeEnsembleRegressor</c> or <c>TreeEnsembleClassifier</c> node; null and a reason when it uses what the engine does not compile.</summary>
    public static TreeEnsemble? Read(NodeProto node, int classCount, out string? reason)
    {
        var classifier = node.OpType == "TreeEnsembleClassifier";
        var prefix = classifier ? "class_" : "target_";
        if (node.Find("nodes_values_as_tensor") is not null || node.Find("base_values_as_tensor") is not null)
        {
            reason = $"{node.OpType} stores its thresholds as tensors";
            return null;
        }

        var transform = node.Text("post_transform", "NONE") switch
        {
            "NONE" => PostTransform.None,
            "LOGISTIC" => PostTransform.Logistic,
            "SOFTMAX" => PostTransform.Softmax,
            var other => (PostTransform?)null,
        };
        if (!classifier && transform == PostTransform.Logistic && node.Int("n_targets", 1) == 1)
        {
            // ONNX Runtime leaves a single target untransformed here; rather than copy that quirk, leave the graph to it.
            reason = "a single-target TreeEnsembleRegressor with post_transform LOGISTIC";
            return null;
        }

        var aggregate = node.Text("aggregate_function", "SUM");
        if (transform is null || aggregate is not ("SUM" or "AVERAGE"))
        {
            reason = $"{node.OpType} uses post_transform {node.Text("post_transform", "NONE")} and aggregate_function {aggregate}";
            return null;
        }

        var treeIds = node.Ints("nodes_treeids");
        var nodeIds = node.Ints("nodes_nodeids");
        var features = node.Ints("nodes_featureids");
        var modes = node.Strings("nodes_modes");
        var values = node.Floats("nodes_values");
        var trueIds = node.Ints("nodes_truenodeids");
        var falseIds = node.Ints("nodes_falsenodeids");
        var missingTrue = node.Ints("nodes_missing_value_tracks_true");
        var count = treeIds.Length;
        if (new[] { nodeIds.Length, features.Length, modes.Length, values.Length, trueIds.Length, falseIds.Length }.Any(n => n != count)
            || (missingTrue.Length != 0 && missingTrue.Length != count))
        {
            reason = $"{node.OpType}'s node attributes have different lengths";
            return null;
        }

        var branchModes = modes.Where(m => m != "LEAF").Distinct().ToList();
        if (branchModes.Count > 1 || (branchModes.Count == 1 && ParseBranch(branchModes[0]) is null))
        {
            reason = $"{node.OpType} mixes or uses unknown branch modes ({string.Join(", ", branchModes)})";
            return null;
        }

        var leafTrees = node.Ints(prefix + "treeids");
        var leafNodes = node.Ints(prefix + "nodeids");
        var leafTargets = node.Ints(prefix + "ids");
        var leafWeights = node.Floats(prefix + "weights");
        if (leafNodes.Length != leafTrees.Length || leafTargets.Length != leafTrees.Length || leafWeights.Length != leafTrees.Length)
        {
            reason = $"{node.OpType}'s leaf attributes have different lengths";
            return null;
        }

        var targetCount = classifier ? classCount : (int)node.Int("n_targets", 1);
        if (leafTargets.Any(t => t < 0 || t >= targetCount))
        {
            reason = $"{node.OpType} has a leaf weight for a target outside 0..{targetCount - 1}";
            return null;
        }

        var baseValues = node.Floats("base_values");
        if (baseValues.Length != 0 && baseValues.Length != targetCount)
        {
            reason = $"{node.OpType} has {baseValues.Length} base values for {targetCount} targets";
            return null;
        }

        // Positions of each (tree, node id), and the trees in the order they first appear: ONNX Runtime sums in that order.
        var position = new Dictionary<(long Tree, long Node), int>(count);
        var treeOrder = new List<long>();
        var seenTrees = new HashSet<long>();
        for (var i = 0; i < count; i++)
        {
            if (!position.TryAdd((treeIds[i], nodeIds[i]), i))
            {
                reason = $"{node.OpType} repeats node {nodeIds[i]} of tree {treeIds[i]}";
                return null;
            }

            if (seenTrees.Add(treeIds[i]))
            {
                treeOrder.Add(treeIds[i]);
            }
        }

        var weightsByLeaf = new Dictionary<int, List<(int Target, float Weight)>>();
        for (var k = 0; k < leafTrees.Length; k++)
        {
            if (!position.TryGetValue((leafTrees[k], leafNodes[k]), out var at))
            {
                reason = $"{node.OpType} weighs a node that does not exist";
                return null;
            }

            (weightsByLeaf.TryGetValue(at, out var list) ? list : weightsByLeaf[at] = []).Add(((int)leafTargets[k], leafWeights[k]));
        }

        // Lay each tree out depth first; the root is the node that no other node of its tree points to.
        var nodes = new List<Node>(count);
        var leafStart = new List<int> { 0 };
        var targets = new List<int>();
        var weights = new List<float>();
        var roots = new List<int>();
        var children = new HashSet<(long, long)>();
        for (var i = 0; i < count; i++)
        {
            if (modes[i] != "LEAF")
            {
                children.Add((treeIds[i], trueIds[i]));
                children.Add((treeIds[i], falseIds[i]));
            }
        }

        var maxFeature = 0;
        string? problem = null;
        int Place(int at, int depth)
        {
            if (depth > 4096)
            {
                problem = "a tree is deeper than 4,096 levels or has a cycle";
                return 0;
            }

            if (modes[at] == "LEAF")
            {
                var leaf = leafStart.Count - 1;
                foreach (var (target, weight) in weightsByLeaf.GetValueOrDefault(at) ?? [])
                {
                    targets.Add(target);
                    weights.Add(weight);
                }

                if (!weightsByLeaf.ContainsKey(at))
                {
                    // A leaf without weights adds nothing.
                    targets.Add(0);
                    weights.Add(0f);
                }

                leafStart.Add(targets.Count);
                return ~leaf;
            }

            if (!position.TryGetValue((treeIds[at], trueIds[at]), out var trueAt) || !position.TryGetValue((treeIds[at], falseIds[at]), out var falseAt))
            {
                problem = "a branch points at a node that does not exist";
                return 0;
            }

            var feature = (int)features[at];
            maxFeature = Math.Max(maxFeature, feature);
            var index = nodes.Count;
            nodes.Add(default);
            var whenTrue = Place(trueAt, depth + 1);
            var whenFalse = Place(falseAt, depth + 1);
            nodes[index] = new Node
            {
                Feature = missingTrue.Length > 0 && missingTrue[at] != 0 ? feature | int.MinValue : feature,
                Threshold = values[at],
                True = whenTrue,
                False = whenFalse,
            };
            return index;
        }

        var rootOf = new Dictionary<long, int>();
        for (var i = 0; i < count; i++)
        {
            if (!children.Contains((treeIds[i], nodeIds[i])))
            {
                rootOf.TryAdd(treeIds[i], i);
            }
        }

        foreach (var tree in treeOrder)
        {
            if (!rootOf.TryGetValue(tree, out var root))
            {
                reason = $"tree {tree} of {node.OpType} has no root";
                return null;
            }

            roots.Add(Place(root, 0));
            if (problem is not null)
            {
                reason = $"{node.OpType}: {problem}";
                return null;
            }
        }

        if (features.Any(f => f < 0 || f > 1 << 24))
        {
            reason = $"{node.OpType} reads a feature index out of range";
            return null;
        }

        reason = null;
        return new TreeEnsemble(
            [.. nodes], [.. roots], branchModes.Count == 0 ? Branch.Leq : ParseBranch(branchModes[0])!.Value,
            [.. leafStart], [.. targets], [.. weights], targetCount, baseValues, aggregate == "AVERAGE", transform.Value, maxFeature + 1);
    }

    private static Branch? ParseBranch(string mode) => mode switch
    {
        "BRANCH_LEQ" => Branch.Leq,
        "BRANCH_LT" => Branch.Lt,
        "BRANCH_GTE" => Branch.Gte,
        "BRANCH_GT" => Branch.Gt,
        "BRANCH_EQ" => Branch.Eq,
        "BRANCH_NEQ" => Branch.Neq,
        _ => null,
    };

    /// <summary>Scores one row: <paramref name="output"/> gets the summed, based and transformed value of each target.</summary>
    public void Score(ReadOnlySpan<float> features, Span<float> output)
    {
        if (features.Length < FeatureCount || output.Length < TargetCount)
        {
            throw new ArgumentException("The row is narrower than the ensemble reads.", nameof(features));
        }

        var sums = output[..TargetCount];
        sums.Clear();
        switch (_choice)
        {
            case Choice.Quick:
                _quick!.Score(features, sums);
                break;
            case Choice.Emitted:
                ScoreEmitted(features, sums);
                break;
            default:
                ScoreWhileMeasuring(features, sums);
                break;
        }

        Finish(sums);
    }

    private unsafe void ScoreEmitted(ReadOnlySpan<float> features, Span<float> sums)
    {
        fixed (float* x = features)
        fixed (float* output = sums)
        {
            foreach (var group in _code)
            {
                group(x, output);
            }
        }
    }

    // Both ways give the same sums; which is faster depends on the trees and the data. QuickScorer's work grows with
    // the number of nodes whose threshold a row's value passes: it wins on one-hot and mostly-zero features (Adult:
    // 2.4 against 4.2 µs a row) and loses on wide numeric ranges (bike sharing: 11.9 against 7.7 µs). So the first
    // rows scored (a served version's parity rows, a batch's first chunk) go one way or the other in streaks, timed,
    // and the faster way scores the rest. Streaks, because each way's code and tables must be in cache to be measured
    // as they will run.
    private void ScoreWhileMeasuring(ReadOnlySpan<float> features, Span<float> sums)
    {
        var row = Interlocked.Increment(ref _measuredRows) - 1;
        var quickly = row / Streak % 2 == 1;
        var started = Stopwatch.GetTimestamp();
        if (quickly)
        {
            _quick!.Score(features, sums);
        }
        else
        {
            ScoreEmitted(features, sums);
        }

        var took = Stopwatch.GetTimestamp() - started;
        // The first streak of each way compiles and warms it.
        if (row >= 2 * Streak)
        {
            Interlocked.Add(ref quickly ? ref _quickTicks : ref _emittedTicks, took);
            if (row == (2 * Streak) + MeasuredRows - 1)
            {
                // QuickScorer must win clearly: its tables are larger than the code, and when the two measure close
                // (bike sharing) it has run twice as slow as the code beside the rest of a server's work.
                _choice = Interlocked.Read(ref _quickTicks) * 5 < Interlocked.Read(ref _emittedTicks) * 4 ? Choice.Quick : Choice.Emitted;
            }
        }
    }

    int TreeCode.INodes.Feature(int node) => _nodes[node].Feature & int.MaxValue;

    bool TreeCode.INodes.MissingGoesTrue(int node) => _nodes[node].Feature < 0;

    float TreeCode.INodes.Threshold(int node) => _nodes[node].Threshold;

    int TreeCode.INodes.True(int node) => _nodes[node].True;

    int TreeCode.INodes.False(int node) => _nodes[node].False;

    IEnumerable<(int Target, float Weight)> TreeCode.INodes.Leaf(int leaf)
    {
        for (var k = _leafStart[leaf]; k < _leafStart[leaf + 1]; k++)
        {
            yield return (_targets[k], _weights[k]);
        }
    }

    // A tree's branches lie from its root to the next tree's root; it has one more leaf than branches.
    int TreeCode.INodes.Size(int root)
    {
        var next = Array.IndexOf(_roots, root) + 1;
        var end = next < _roots.Length && _roots[next] >= 0 ? _roots[next] : _nodes.Length;
        return root < 0 ? 1 : (2 * (end - root)) + 1;
    }

    private void Finish(Span<float> output)
    {
        for (var t = 0; t < output.Length; t++)
        {
            var value = _average ? output[t] / _roots.Length : output[t];
            output[t] = _baseValues.Length > 0 ? value + _baseValues[t] : value;
        }

        Transforms.Apply(Transform, output);
    }

    private enum Branch
    {
        Leq,
        Lt,
        Gte,
        Gt,
        Eq,
        Neq,
    }
}

/// <summary>ONNX-ML's score transforms, computed as ONNX Runtime computes them.</summary>
internal static class Transforms
{
    public static void Apply(PostTransform transform, Span<float> values)
    {
        switch (transform)
        {
            case PostTransform.Logistic:
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = Logistic(values[i]);
                }

                break;
            case PostTransform.Softmax:
                Softmax(values);
                break;
        }
    }

    // 1 / (1 + e^-|x|), mirrored for negative x: ONNX Runtime's form, which keeps precision for large |x|.
    public static float Logistic(float value)
    {
        var v = 1f / (1f + MathF.Exp(-MathF.Abs(value)));
        return value < 0 ? 1f - v : v;
    }

    public static void Softmax(Span<float> values)
    {
        var max = float.NegativeInfinity;
        foreach (var v in values)
        {
            max = MathF.Max(max, v);
        }

        var sum = 0f;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Exp(values[i] - max);
            sum += values[i];
        }

        for (var i = 0; i < values.Length; i++)
        {
            values[i] /= sum;
        }
    }
}
