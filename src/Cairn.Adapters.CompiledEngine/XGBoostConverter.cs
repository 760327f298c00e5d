using System.Globalization;
using System.Text.Json;
using Cairn.Adapters.CompiledEngine.Onnx;
using Cairn.Core;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Google.Protobuf;

namespace Cairn.Adapters.CompiledEngine;

/// <summary>
/// Turns an XGBoost model saved as JSON (<c>Booster.save_model("model.json")</c>, XGBoost 1.x and 2.x) into one
/// ONNX-ML <c>TreeEnsembleRegressor</c>: XGBoost sends a row left when <c>x &lt; split</c> (BRANCH_LT) and a missing
/// value the node's default way (missing_value_tracks_true), keeps leaf values in <c>split_conditions</c>, and
/// adds the base score as a margin before the objective's transform (logistic, softmax, or none).
/// </summary>
public sealed class XGBoostConverter : ITreeModelConverter
{
    /// <inheritdoc />
    public ConvertedTreeModel? TryConvert(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(file, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("learner", out var learner))
            {
                return null;
            }

            try
            {
                return Convert(learner);
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
            {
                throw CairnException.Invalid($"The XGBoost model cannot be read: {e.Message}");
            }
        }
    }

    private static ConvertedTreeModel Convert(JsonElement learner)
    {
        var parameters = learner.GetProperty("learner_model_param");
        var objective = learner.GetProperty("objective").GetProperty("name").GetString();
        var booster = learner.GetProperty("gradient_booster");
        if (booster.GetProperty("name").GetString() is not "gbtree")
        {
            throw CairnException.Invalid($"The XGBoost model uses the '{booster.GetProperty("name").GetString()}' booster; Cairn imports gbtree models.");
        }

        var featureCount = int.Parse(parameters.GetProperty("num_feature").GetString()!, CultureInfo.InvariantCulture);
        var classes = int.Parse(parameters.GetProperty("num_class").GetString()!, CultureInfo.InvariantCulture);
        var baseScore = float.Parse(parameters.GetProperty("base_score").GetString()!, CultureInfo.InvariantCulture);
        var (task, transform, margin) = objective switch
        {
            // ONNX Runtime applies no LOGISTIC transform to a single-target regressor, so a Sigmoid node follows instead.
            "binary:logistic" or "reg:logistic" => (TaskKind.Binary, "SIGMOID", -MathF.Log((1f / baseScore) - 1f)),
            "multi:softprob" or "multi:softmax" => (TaskKind.Multiclass, "SOFTMAX", baseScore),
            "reg:squarederror" or "reg:linear" or "reg:absoluteerror" or "reg:pseudohubererror" => (TaskKind.Regression, "NONE", baseScore),
            _ => throw CairnException.Invalid($"The XGBoost objective '{objective}' is not one Cairn imports (binary:logistic, multi:softprob, multi:softmax, reg:squarederror)."),
        };
        var targets = task == TaskKind.Multiclass ? classes : 1;
        if (task == TaskKind.Multiclass && classes < 3)
        {
            throw CairnException.Invalid($"The XGBoost model is multiclass with {classes} classes; it needs at least 3.");
        }

        var model = booster.GetProperty("model");
        var treeClasses = model.GetProperty("tree_info").EnumerateArray().Select(e => e.GetInt32()).ToList();
        var nodes = new NodeAttributes();
        var tree = 0;
        foreach (var t in model.GetProperty("trees").EnumerateArray())
        {
            if (t.TryGetProperty("split_type", out var types) && types.EnumerateArray().Any(v => v.GetInt32() != 0))
            {
                throw CairnException.Invalid("The XGBoost model has categorical splits; Cairn imports numeric splits only.");
            }

            var left = Ints(t.GetProperty("left_children"));
            var right = Ints(t.GetProperty("right_children"));
            var features = Ints(t.GetProperty("split_indices"));
            var conditions = t.GetProperty("split_conditions").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            var defaultLeft = t.GetProperty("default_left").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.True || (e.ValueKind == JsonValueKind.Number && e.GetInt32() != 0)).ToArray();
            for (var n = 0; n < left.Length; n++)
            {
                var leaf = left[n] == -1;
                if (!leaf && (features[n] < 0 || features[n] >= featureCount))
                {
                    throw CairnException.Invalid($"Tree {tree} of the XGBoost model splits on feature {features[n]}, but the model has {featureCount}.");
                }

                nodes.Add(tree, n, leaf ? 0 : features[n], leaf ? "LEAF" : "BRANCH_LT", leaf ? 0f : conditions[n],
                    leaf ? 0 : left[n], leaf ? 0 : right[n], !leaf && defaultLeft[n]);
                if (leaf)
                {
                    nodes.Leaf(tree, n, treeClasses[tree], conditions[n]);
                }
            }

            tree++;
        }

        var names = learner.TryGetProperty("feature_names", out var recorded) && recorded.GetArrayLength() == featureCount
            ? recorded.EnumerateArray().Select(e => e.GetString()!).ToList()
            : [.. Enumerable.Range(0, featureCount).Select(i => $"f{i}")];
        var onnx = OnnxWriter.TreeEnsemble(nodes, featureCount, targets, [.. Enumerable.Repeat(margin, targets)], transform);
        return new ConvertedTreeModel(onnx, "xgboost-json", task, names);
    }

    private static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];
}

/// <summary>The node and leaf attributes of a tree ensemble as ONNX-ML spells them, built tree by tree.</summary>
internal sealed class NodeAttributes
{
    public List<long> TreeIds { get; } = [];
    public List<long> NodeIds { get; } = [];
    public List<long> FeatureIds { get; } = [];
    public List<string> Modes { get; } = [];
    public List<float> Values { get; } = [];
    public List<long> TrueIds { get; } = [];
    public List<long> FalseIds { get; } = [];
    public List<long> MissingTracksTrue { get; } = [];
    public List<long> LeafTrees { get; } = [];
    public List<long> LeafNodes { get; } = [];
    public List<long> LeafTargets { get; } = [];
    public List<float> LeafWeights { get; } = [];

    public void Add(int tree, int node, int feature, string mode, float value, int whenTrue, int whenFalse, bool missingTrue)
    {
        TreeIds.Add(tree);
        NodeIds.Add(node);
        FeatureIds.Add(feature);
        Modes.Add(mode);
        Values.Add(value);
        TrueIds.Add(whenTrue);
        FalseIds.Add(whenFalse);
        MissingTracksTrue.Add(missingTrue ? 1 : 0);
    }

    public void Leaf(int tree, int node, int target, float weight)
    {
        LeafTrees.Add(tree);
        LeafNodes.Add(node);
        LeafTargets.Add(target);
        LeafWeights.Add(weight);
    }
}

/// <summary>Writes the ONNX graphs converters produce.</summary>
internal static class OnnxWriter
{
    private const int IntAttribute = 2;
    private const int StringAttribute = 3;
    private const int FloatsAttribute = 6;
    private const int IntsAttribute = 7;
    private const int StringsAttribute = 8;

    /// <summary>
    /// A graph of one <c>TreeEnsembleRegressor</c>: input <c>input</c> [rows, features], output <c>variable</c> [rows, targets];
    /// a <paramref name="postTransform"/> of SIGMOID adds a <c>Sigmoid</c> node after the trees.
    /// </summary>
    public static byte[] TreeEnsemble(NodeAttributes nodes, int features, int targets, float[] baseValues, string postTransform)
    {
        var sigmoid = postTransform == "SIGMOID";
        var node = new NodeProto { OpType = "TreeEnsembleRegressor", Domain = "ai.onnx.ml", Name = "trees", Input = { "input" }, Output = { sigmoid ? "margin" : "variable" } };
        node.Attribute.Add(Ints("nodes_treeids", nodes.TreeIds));
        node.Attribute.Add(Ints("nodes_nodeids", nodes.NodeIds));
        node.Attribute.Add(Ints("nodes_featureids", nodes.FeatureIds));
        node.Attribute.Add(new AttributeProto { Name = "nodes_modes", Type = StringsAttribute, Strings = { nodes.Modes.Select(ByteString.CopyFromUtf8) } });
        node.Attribute.Add(new AttributeProto { Name = "nodes_values", Type = FloatsAttribute, Floats = { nodes.Values } });
        node.Attribute.Add(Ints("nodes_truenodeids", nodes.TrueIds));
        node.Attribute.Add(Ints("nodes_falsenodeids", nodes.FalseIds));
        node.Attribute.Add(Ints("nodes_missing_value_tracks_true", nodes.MissingTracksTrue));
        node.Attribute.Add(Ints("target_treeids", nodes.LeafTrees));
        node.Attribute.Add(Ints("target_nodeids", nodes.LeafNodes));
        node.Attribute.Add(Ints("target_ids", nodes.LeafTargets));
        node.Attribute.Add(new AttributeProto { Name = "target_weights", Type = FloatsAttribute, Floats = { nodes.LeafWeights } });
        node.Attribute.Add(new AttributeProto { Name = "n_targets", Type = IntAttribute, I = targets });
        node.Attribute.Add(new AttributeProto { Name = "base_values", Type = FloatsAttribute, Floats = { baseValues } });
        node.Attribute.Add(new AttributeProto { Name = "aggregate_function", Type = StringAttribute, S = ByteString.CopyFromUtf8("SUM") });
        node.Attribute.Add(new AttributeProto { Name = "post_transform", Type = StringAttribute, S = ByteString.CopyFromUtf8(sigmoid ? "NONE" : postTransform) });

        var graph = new GraphProto
        {
            Name = "trees",
            Node = { node },
            Input = { Tensor("input", features) },
            Output = { Tensor("variable", targets) },
        };
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "cairn",
            Graph = graph,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 }, new OperatorSetIdProto { Domain = "ai.onnx.ml", Version = 3 } },
        };
        if (sigmoid)
        {
            graph.Node.Add(new NodeProto { OpType = "Sigmoid", Name = "probability", Input = { "margin" }, Output = { "variable" } });
        }

        return model.ToByteArray();
    }

    private static AttributeProto Ints(string name, IEnumerable<long> values) => new() { Name = name, Type = IntsAttribute, Ints = { values } };

    private static ValueInfoProto Tensor(string name, int width) => new()
    {
        Name = name,
        Type = new TypeProto
        {
            TensorType = new TypeProto.Types.Tensor
            {
                ElemType = OnnxNodes.Float,
                Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "N" }, new TensorShapeProto.Types.Dimension { DimValue = width } } },
            },
        },
    };
}
