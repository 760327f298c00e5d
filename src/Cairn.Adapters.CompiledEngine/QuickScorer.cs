using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cairn.Adapters.CompiledEngine;

/// <summary>
/// Scores rows without walking the trees: QuickScorer (Lucchese et al., SIGIR 2015). Each tree's leaves are numbered
/// left to right (true branch first) and a row keeps one bit per leaf, all set at first. A node whose test fails
/// makes its true subtree's leaves unreachable, so its mask clears their bits. The row's exit leaf in a tree is then
/// the lowest bit still set. Nodes are grouped by feature and sorted by threshold, so for each feature the failing
/// nodes are a prefix of its list, found by a scan that stops at the first threshold the value does not pass: the work
/// is a few predictable loops over small arrays instead of a chain of hard-to-predict branches per tree.
/// </summary>
/// <remarks>
/// Every tree must have at most 64 leaves and the ensemble one of the "x &lt;= t" or "x &lt; t" tests. Leaf values
/// are added tree by tree in the ensemble's order, the same float additions as the emitted code makes.
/// </remarks>
internal sealed class QuickScorer
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Clear
    {
        public ulong Mask;
        public int Tree;
    }

    private readonly int[] _features;
    // Feature j's nodes are [_start[j], _start[j + 1]), by ascending threshold, each list ending in a +∞ sentinel.
    private readonly int[] _start;
    private readonly float[] _thresholds;
    private readonly Clear[] _clears;
    // The nodes a missing value (NaN) fails, per feature.
    private readonly int[] _missingStart;
    private readonly Clear[] _missing;
    private readonly int[] _firstLeaf;
    private readonly int[] _leafStart;
    private readonly int[] _targets;
    private readonly float[] _weights;
    // For an ensemble with one weight per leaf, that weight by leaf; null otherwise.
    private readonly float[]? _leafValue;

    [ThreadStatic]
    private static ulong[]? t_leaves;

    private QuickScorer(int[] features, int[] start, float[] thresholds, Clear[] clears, int[] missingStart, Clear[] missing, int[] firstLeaf,
        int[] leafStart, int[] targets, float[] weights)
    {
        _features = features;
        _start = start;
        _thresholds = thresholds;
        _clears = clears;
        _missingStart = missingStart;
        _missing = missing;
        _firstLeaf = firstLeaf;
        _leafStart = leafStart;
        _targets = targets;
        _weights = weights;
        var single = leafStart.Length - 1 == weights.Length;
        _leafValue = single ? weights : null;
    }

    /// <summary>A node as the ensemble lays it out: a negative link is ~leaf, leaves are numbered depth first, true branch first.</summary>
    public readonly record struct Node(int Feature, bool MissingGoesTrue, float Threshold, int True, int False);

    /// <summary>The scorer for these trees, or null when a tree has more than 64 leaves.</summary>
    /// <param name="nodes">Every branch node, each tree's laid out depth first from its root.</param>
    /// <param name="roots">Each tree's root: a node index, or ~leaf for a tree that is one leaf.</param>
    /// <param name="strictlyLess">Whether a node's test is "x &lt; t" rather than "x &lt;= t".</param>
    /// <param name="leafStart">Leaf i adds <paramref name="weights"/>[k] to <paramref name="targets"/>[k] for k in [leafStart[i], leafStart[i + 1]).</param>
    /// <param name="targets">The target of each leaf weight.</param>
    /// <param name="weights">The leaf weights.</param>
    public static QuickScorer? TryBuild(IReadOnlyList<Node> nodes, int[] roots, bool strictlyLess, int[] leafStart, int[] targets, float[] weights)
    {
        var byFeature = new SortedDictionary<int, List<(float Threshold, Clear Clear)>>();
        var missingByFeature = new Dictionary<int, List<Clear>>();
        var firstLeaf = new int[roots.Length];
        // A NaN threshold fails every value, and "x < -∞" has no float just below -∞ to compare with: both stay with the emitted code.
        var usable = true;
        for (var tree = 0; tree < roots.Length; tree++)
        {
            var (first, end) = Leaves(roots[tree]);
            if (end - first > 64)
            {
                return null;
            }

            firstLeaf[tree] = first;
            if (roots[tree] >= 0)
            {
                Visit(roots[tree], tree, first);
            }
        }

        if (!usable)
        {
            return null;
        }

        var features = byFeature.Keys.ToArray();
        var start = new int[features.Length + 1];
        var missingStart = new int[features.Length + 1];
        var thresholds = new List<float>();
        var clears = new List<Clear>();
        var missing = new List<Clear>();
        for (var j = 0; j < features.Length; j++)
        {
            start[j] = thresholds.Count;
            // A stable sort: nodes with equal thresholds keep their order, which does not change the result (AND commutes).
            foreach (var (threshold, clear) in byFeature[features[j]].OrderBy(n => n.Threshold))
            {
                thresholds.Add(threshold);
                clears.Add(clear);
            }

            thresholds.Add(float.PositiveInfinity);
            clears.Add(new Clear { Mask = ulong.MaxValue, Tree = 0 });
            missingStart[j] = missing.Count;
            missing.AddRange(missingByFeature.GetValueOrDefault(features[j]) ?? []);
        }

        start[^1] = thresholds.Count;
        missingStart[^1] = missing.Count;
        return new QuickScorer(features, start, [.. thresholds], [.. clears], missingStart, [.. missing], firstLeaf, leafStart, targets, weights);

        // The leaves under a node: [first, end) in the ensemble's leaf numbering.
        (int First, int End) Leaves(int at)
        {
            if (at < 0)
            {
                return (~at, ~at + 1);
            }

            var (first, _) = Leaves(nodes[at].True);
            var (_, end) = Leaves(nodes[at].False);
            return (first, end);
        }

        void Visit(int at, int tree, int treeFirstLeaf)
        {
            var node = nodes[at];
            var (first, end) = Leaves(node.True);
            var width = end - first;
            var bits = width == 64 ? ulong.MaxValue : ((1UL << width) - 1) << (first - treeFirstLeaf);
            var clear = new Clear { Mask = ~bits, Tree = tree };
            // The test fails for x > t (x <= t) or x >= t (x < t); as floats, x >= t is x > the float just below t.
            var threshold = strictlyLess ? MathF.BitDecrement(node.Threshold) : node.Threshold;
            usable &= !float.IsNaN(node.Threshold) && !(strictlyLess && float.IsNegativeInfinity(node.Threshold));
            (byFeature.TryGetValue(node.Feature, out var list) ? list : byFeature[node.Feature] = []).Add((threshold, clear));
            if (!node.MissingGoesTrue)
            {
                (missingByFeature.TryGetValue(node.Feature, out var gaps) ? gaps : missingByFeature[node.Feature] = []).Add(clear);
            }

            if (node.True >= 0)
            {
                Visit(node.True, tree, treeFirstLeaf);
            }

            if (node.False >= 0)
            {
                Visit(node.False, tree, treeFirstLeaf);
            }
        }
    }

    /// <summary>Adds every tree's leaf for the row <paramref name="x"/> into <paramref name="sums"/> (cleared by the caller), tree by tree.</summary>
    // Optimized from the first call: the ensemble times it against the emitted code when it is built.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Score(ReadOnlySpan<float> x, Span<float> sums)
    {
        var trees = _firstLeaf.Length;
        var leaves = t_leaves is { } cached && cached.Length >= trees ? cached : t_leaves = new ulong[trees];
        leaves.AsSpan(0, trees).Fill(ulong.MaxValue);
        fixed (float* row = x)
        fixed (float* thresholds = _thresholds)
        fixed (Clear* clears = _clears)
        fixed (ulong* reachable = leaves)
        {
            var start = _start;
            var features = _features;
            for (var j = 0; j < features.Length; j++)
            {
                var value = row[features[j]];
                var k = start[j];
                // The +∞ sentinel ends every list: no value passes it, NaN passes no threshold at all.
                while (thresholds[k] < value)
                {
                    reachable[clears[k].Tree] &= clears[k].Mask;
                    k++;
                }

                if (float.IsNaN(value))
                {
                    for (var m = _missingStart[j]; m < _missingStart[j + 1]; m++)
                    {
                        reachable[_missing[m].Tree] &= _missing[m].Mask;
                    }
                }
            }

            if (_leafValue is { } values && sums.Length == 1)
            {
                var sum = sums[0];
                for (var t = 0; t < trees; t++)
                {
                    sum += values[_firstLeaf[t] + BitOperations.TrailingZeroCount(reachable[t])];
                }

                sums[0] = sum;
                return;
            }

            for (var t = 0; t < trees; t++)
            {
                var leaf = _firstLeaf[t] + BitOperations.TrailingZeroCount(reachable[t]);
                for (var k = _leafStart[leaf]; k < _leafStart[leaf + 1]; k++)
                {
                    sums[_targets[k]] += _weights[k];
                }
            }
        }
    }
}
