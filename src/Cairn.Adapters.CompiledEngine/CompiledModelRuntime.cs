using Cairn.Adapters.CompiledEngine.Onnx;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Google.Protobuf;

namespace Cairn.Adapters.CompiledEngine;

/// <summary>Scores with a compiled graph: each row's values are written into one buffer and the kernels run over it in order. Stateless between calls, so one instance serves all requests.</summary>
internal sealed class CompiledModelRuntime(CompiledGraph graph, ModelSignature signature) : IModelRuntime
{
    // Row buffers per thread, grown to the widest graph seen: a request allocates only its answers.
    private const int MaxBlockRows = 64;
    private const int BlockFloats = 64 * 1024;

    [ThreadStatic]
    private static float[]? t_block;

    [ThreadStatic]
    private static string?[][]? t_texts;

    public ModelSignature Signature { get; } = signature;

    public string Engine => CompiledModelCompiler.EngineName;

    /// <summary>How many trees the graph holds.</summary>
    public int Trees => graph.Trees;

    public IReadOnlyList<OutputTensor> Predict(Table inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rows = inputs.RowCount;
        var numeric = new float[graph.NumericInputs.Count][];
        for (var i = 0; i < numeric.Length; i++)
        {
            numeric[i] = inputs[graph.NumericInputs[i].Column] is NumericColumn column
                ? column.Values
                : throw CairnException.Invalid($"Input '{graph.NumericInputs[i].Column}' must be numeric.");
        }

        var text = new string?[graph.TextInputs.Count][];
        for (var i = 0; i < text.Length; i++)
        {
            text[i] = inputs[graph.TextInputs[i]] is StringColumn column
                ? column.Values
                : throw CairnException.Invalid($"Input '{graph.TextInputs[i]}' must be text.");
        }

        var outputs = new float[graph.Outputs.Length][];
        for (var o = 0; o < outputs.Length; o++)
        {
            outputs[o] = new float[rows * graph.Outputs[o].Width];
        }

        // Rows go through in blocks of up to 64, each kernel over the block in turn, so its data stays in cache between
        // rows; a wide graph (text's n-gram counts) takes fewer rows at a time.
        var width = graph.Width;
        var rowsPerBlock = Math.Clamp(BlockFloats / width, 1, MaxBlockRows);
        var block = t_block is { } cached && cached.Length >= rowsPerBlock * width ? cached : t_block = new float[Math.Max(rowsPerBlock * width, BlockFloats)];
        var texts = t_texts is { } known && known[0].Length == text.Length ? known : t_texts = [.. Enumerable.Range(0, MaxBlockRows).Select(_ => new string?[text.Length])];
        var kernels = graph.Kernels;
        for (var first = 0; first < rows; first += rowsPerBlock)
        {
            var count = Math.Min(rowsPerBlock, rows - first);
            for (var r = 0; r < count; r++)
            {
                var at = r * width;
                for (var i = 0; i < numeric.Length; i++)
                {
                    block[at + graph.NumericInputs[i].Offset] = numeric[i][first + r];
                }

                for (var i = 0; i < text.Length; i++)
                {
                    texts[r][i] = text[i][first + r];
                }
            }

            foreach (var kernel in kernels)
            {
                kernel.RunBlock(block, width, count, texts);
            }

            for (var o = 0; o < outputs.Length; o++)
            {
                var slot = graph.Outputs[o];
                for (var r = 0; r < count; r++)
                {
                    block.AsSpan((r * width) + slot.Offset, slot.Width).CopyTo(outputs[o].AsSpan((first + r) * slot.Width, slot.Width));
                }
            }
        }

        return Shape(outputs, rows);
    }

    private OutputTensor[] Shape(float[][] outputs, int rows)
    {
        if (Signature.Graph is not null)
        {
            return ModelOutputs.Imported(Signature, outputs[0], rows, outputs.Length > 1 ? Labels(graph.Outputs[1], outputs[1]) : null);
        }

        return Signature.Task switch
        {
            TaskKind.Binary => ModelOutputs.Binary(Signature, [.. outputs[0].Select(v => v != 0)], outputs[1], outputs[2]),
            TaskKind.Multiclass => ModelOutputs.Multiclass(Signature, outputs[0], rows),
            _ => ModelOutputs.Regression(outputs[0]),
        };
    }

    // A label output holds class indexes into the slot's names, or class numbers the signature names.
    private string[] Labels(Slot slot, float[] values) =>
        [.. values.Select(v => slot.Names is { } names ? names[(int)v] : ModelOutputs.ClassName(Signature, (long)v))];

    public void Dispose()
    {
    }
}

/// <summary>The compiled engine: compiles the ONNX graphs whose every node it knows, for Cairn's own models and imported ones alike.</summary>
public sealed class CompiledModelCompiler : IModelCompiler
{
    /// <summary>The name the served metadata gives the engine.</summary>
    public const string EngineName = "compiled";

    /// <inheritdoc />
    public IModelRuntime? TryCompile(byte[] onnxModel, ModelSignature signature, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(onnxModel);
        }
        catch (InvalidProtocolBufferException e)
        {
            reason = $"the file is not an ONNX model: {e.Message}";
            return null;
        }

        var graph = GraphCompiler.Compile(model, signature, out reason);
        return graph is null ? null : new CompiledModelRuntime(graph, signature);
    }
}
