using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace Cairn.Core.Models;

/// <summary>What Cairn reads of an MLflow <c>MLmodel</c> file that has an <c>onnx</c> flavor.</summary>
/// <param name="OnnxFile">The graph's file, relative to the MLmodel file (the flavor's <c>data</c>, by default <c>model.onnx</c>).</param>
/// <param name="Columns">The input column names of a column-based MLflow signature, in order; empty for a tensor-based one or none.</param>
public sealed record MlflowModel(string OnnxFile, IReadOnlyList<string> Columns)
{
    /// <summary>The onnx flavor of an MLmodel file, or null when it has none or is not such a file.</summary>
    public static MlflowModel? Parse(byte[] mlmodel)
    {
        ArgumentNullException.ThrowIfNull(mlmodel);
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(new MemoryStream(mlmodel));
            yaml.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException)
        {
            return null;
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root
            || Child(root, "flavors") is not YamlMappingNode flavors || Child(flavors, "onnx") is not YamlMappingNode onnx)
        {
            return null;
        }

        var file = (Child(onnx, "data") as YamlScalarNode)?.Value is { Length: > 0 } data ? data : "model.onnx";
        if (file.Contains("..", StringComparison.Ordinal) || file.StartsWith('/'))
        {
            return null;
        }

        return new MlflowModel(file, ColumnNames(Child(root, "signature") is YamlMappingNode signature ? (Child(signature, "inputs") as YamlScalarNode)?.Value : null));
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    // MLflow writes the signature's inputs as a JSON string: [{"name": "x", "type": "double"}, ...] for columns.
    private static List<string> ColumnNames(string? inputs)
    {
        if (string.IsNullOrEmpty(inputs))
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(inputs, new JsonDocumentOptions { MaxDepth = 8 });
            return document.RootElement.ValueKind == JsonValueKind.Array
                && document.RootElement.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                    && e.TryGetProperty("type", out var t) && t.GetString() != "tensor")
                ? [.. document.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!)]
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
