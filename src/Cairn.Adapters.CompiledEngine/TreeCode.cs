using System.Reflection.Emit;

namespace Cairn.Adapters.CompiledEngine;

/// <summary>Adds a group of trees' leaf values for one row (<paramref name="features"/>) into <paramref name="outputs"/>, one float per target.</summary>
internal unsafe delegate void TreeGroup(float* features, float* outputs);

/// <summary>
/// Emits each tree as .NET code that the JIT compiles once: every node becomes a comparison of one feature with a
/// constant and a conditional jump, every leaf an addition of constants. Each node then has a branch instruction of
/// its own, which the processor predicts from that node's history, instead of one shared branch in a loop that walks
/// arrays — the same idea as treelite and lleaves, in IL rather than C or LLVM.
/// </summary>
internal static class TreeCode
{
    // The JIT compiles a method with more than 2,000 basic blocks without optimizing it (MinOpts), about 7 µs a row
    // slower on the Adult model; a node is one to three blocks, so a group stays well under that.
    private const int MaxNodesPerMethod = 800;

    /// <summary>The trees to emit: nodes by index (a negative link is ~leaf) and each leaf's (target, weight) pairs.</summary>
    public interface INodes
    {
        int Feature(int node);

        bool MissingGoesTrue(int node);

        float Threshold(int node);

        int True(int node);

        int False(int node);

        IEnumerable<(int Target, float Weight)> Leaf(int leaf);

        int Size(int root);
    }

    /// <summary>Emits the trees in order, grouped into methods; adding their groups' outputs in order sums the trees in order.</summary>
    public static TreeGroup[] Emit(IReadOnlyList<int> roots, INodes nodes, string comparison, bool singleTarget)
    {
        var groups = new List<TreeGroup>();
        var start = 0;
        while (start < roots.Count)
        {
            var end = start;
            var size = 0;
            do
            {
                size += nodes.Size(roots[end]);
                end++;
            }
            while (end < roots.Count && size + nodes.Size(roots[end]) <= MaxNodesPerMethod);

            groups.Add(EmitGroup(roots, start, end, nodes, comparison, singleTarget));
            start = end;
        }

        return [.. groups];
    }

    private static TreeGroup EmitGroup(IReadOnlyList<int> roots, int start, int end, INodes nodes, string comparison, bool singleTarget)
    {
        var method = new DynamicMethod($"trees_{start}_{end}", typeof(void), [typeof(float*), typeof(float*)], typeof(TreeCode).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        var value = il.DeclareLocal(typeof(float));
        var sum = il.DeclareLocal(typeof(float));
        if (singleTarget)
        {
            // sum = outputs[0]; the trees add to it in order, as ONNX Runtime adds them.
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldind_R4);
            il.Emit(OpCodes.Stloc, sum);
        }

        for (var t = start; t < end; t++)
        {
            var done = il.DefineLabel();
            EmitNode(il, nodes, roots[t], comparison, singleTarget, value, sum, done);
            il.MarkLabel(done);
        }

        if (singleTarget)
        {
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldloc, sum);
            il.Emit(OpCodes.Stind_R4);
        }

        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<TreeGroup>();
    }

    private static void EmitNode(ILGenerator il, INodes nodes, int at, string comparison, bool singleTarget, LocalBuilder value, LocalBuilder sum, Label done)
    {
        if (at < 0)
        {
            foreach (var (target, weight) in nodes.Leaf(~at))
            {
                if (singleTarget)
                {
                    il.Emit(OpCodes.Ldloc, sum);
                    il.Emit(OpCodes.Ldc_R4, weight);
                    il.Emit(OpCodes.Add);
                    il.Emit(OpCodes.Stloc, sum);
                    continue;
                }

                // outputs[target] += weight
                il.Emit(OpCodes.Ldarg_1);
                if (target > 0)
                {
                    il.Emit(OpCodes.Ldc_I4, target * sizeof(float));
                    il.Emit(OpCodes.Add);
                }

                il.Emit(OpCodes.Dup);
                il.Emit(OpCodes.Ldind_R4);
                il.Emit(OpCodes.Ldc_R4, weight);
                il.Emit(OpCodes.Add);
                il.Emit(OpCodes.Stind_R4);
            }

            il.Emit(OpCodes.Br, done);
            return;
        }

        var whenFalse = il.DefineLabel();
        var whenTrue = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_0);
        var feature = nodes.Feature(at);
        if (feature > 0)
        {
            il.Emit(OpCodes.Ldc_I4, feature * sizeof(float));
            il.Emit(OpCodes.Add);
        }

        il.Emit(OpCodes.Ldind_R4);
        if (nodes.MissingGoesTrue(at))
        {
            // A missing value (NaN is the one value unequal to itself) takes the true branch.
            il.Emit(OpCodes.Stloc, value);
            il.Emit(OpCodes.Ldloc, value);
            il.Emit(OpCodes.Ldloc, value);
            il.Emit(OpCodes.Bne_Un, whenTrue);
            il.Emit(OpCodes.Ldloc, value);
        }

        il.Emit(OpCodes.Ldc_R4, nodes.Threshold(at));

        // Jump to the false branch when the comparison fails, NaN included (the .un forms jump when unordered),
        // except for "not equal", which NaN satisfies.
        il.Emit(comparison switch
        {
            "Leq" => OpCodes.Bgt_Un,
            "Lt" => OpCodes.Bge_Un,
            "Gte" => OpCodes.Blt_Un,
            "Gt" => OpCodes.Ble_Un,
            "Eq" => OpCodes.Bne_Un,
            _ => OpCodes.Beq,
        }, whenFalse);
        il.MarkLabel(whenTrue);
        EmitNode(il, nodes, nodes.True(at), comparison, singleTarget, value, sum, done);
        il.MarkLabel(whenFalse);
        EmitNode(il, nodes, nodes.False(at), comparison, singleTarget, value, sum, done);
    }
}
