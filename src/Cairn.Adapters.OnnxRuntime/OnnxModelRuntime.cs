using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cairn.Adapters.OnnxRuntime;

/// <summary>Scores with an ONNX Runtime session; <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/> is thread-safe, so one instance serves all requests.</summary>
internal sealed class OnnxModelRuntime : IModelRuntime
{
    // ML.NET names each exported column "<name>.output".
    private const string OutputSuffix = ".output";

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly bool[] _inputIsMatrix;
    private readonly string[] _outputNames;
    private readonly GraphBinding? _graph;

    private OnnxModelRuntime(InferenceSession session, ModelSignature signature)
    {
        _session = session;
        Signature = signature;
        var metadata = session.InputMetadata;
        var missing = signature.Inputs.Where(i => !metadata.ContainsKey(i.Name)).Select(i => i.Name).ToList();
        if (missing.Count > 0)
        {
            throw new CairnException(ErrorCode.Corrupt, $"The ONNX graph lacks inputs the signature names: {string.Join(", ", missing)}.");
        }

        _inputNames = [.. signature.Inputs.Select(i => i.Name)];
        _inputIsMatrix = [.. signature.Inputs.Select(i => metadata[i.Name].Dimensions.Length == 2)];
        _outputNames = signature.Task switch
        {
            TaskKind.Binary => [Output("PredictedLabel"), Output("Probability"), Output("Score")],
            _ => [Output("Score")],
        };
    }

    // An imported graph: its own input layout and output names, as the signature's binding records them.
    private OnnxModelRuntime(InferenceSession session, ModelSignature signature, GraphBinding graph)
    {
        _session = session;
        Signature = signature;
        _graph = graph;
        var metadata = session.InputMetadata;
        _inputNames = graph.MatrixInput is { } matrix ? [matrix] : [.. signature.Inputs.Select(i => i.Name)];
        _inputIsMatrix = [.. _inputNames.Select(n => metadata[n].Dimensions.Length == 2)];
        _outputNames = graph.LabelOutput is { } label ? [graph.ScoreOutput, label] : [graph.ScoreOutput];
    }

    /// <summary>A runtime for a graph Cairn exported, or for an imported one when the signature carries a binding.</summary>
    public static OnnxModelRuntime Create(InferenceSession session, ModelSignature signature) =>
        signature.Graph is { } graph ? new OnnxModelRuntime(session, signature, graph) : new OnnxModelRuntime(session, signature);

    public ModelSignature Signature { get; }

    public string Engine => "onnxruntime";

    public IReadOnlyList<OutputTensor> Predict(Table inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);

        // ML.NET exports text featurization for one row at a time (its tokenizer output loses the batch dimension).
        return Signature.Inputs.Any(i => i.Type == ColumnType.Text) && inputs.RowCount > 1
            ? Concatenate([.. Enumerable.Range(0, inputs.RowCount).Select(row => PredictBatch(inputs.Take([row])))])
            : PredictBatch(inputs);
    }

    private static OutputTensor[] Concatenate(IReadOnlyList<IReadOnlyList<OutputTensor>> parts)
    {
        var rows = parts.Sum(p => p[0].Rows);
        return
        [
            .. parts[0].Select((first, k) => first with
            {
                Rows = rows,
                Floats = first.Floats is null ? null : [.. parts.SelectMany(p => p[k].Floats!)],
                Strings = first.Strings is null ? null : [.. parts.SelectMany(p => p[k].Strings!)],
            }),
        ];
    }

    private IReadOnlyList<OutputTensor> PredictBatch(Table inputs)
    {
        if (_graph is not null)
        {
            return PredictImported(inputs, _graph);
        }

        var rows = inputs.RowCount;
        var values = new OrtValue[_inputNames.Length];
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = ColumnTensor(inputs, i);
            }

            using var outputs = _session.Run(_runOptions, _inputNames, values, _outputNames);
            return Signature.Task switch
            {
                TaskKind.Binary => ModelOutputs.Binary(Signature, outputs[0].GetTensorDataAsSpan<bool>(),
                    outputs[1].GetTensorDataAsSpan<float>().ToArray(), outputs[2].GetTensorDataAsSpan<float>().ToArray()),
                TaskKind.Multiclass => ModelOutputs.Multiclass(Signature, outputs[0].GetTensorDataAsSpan<float>().ToArray(), rows),
                _ => ModelOutputs.Regression(outputs[0].GetTensorDataAsSpan<float>().ToArray()),
            };
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }
        }
    }

    // Input i as a [rows] or [rows, 1] tensor over the column's values.
    private OrtValue ColumnTensor(Table inputs, int i)
    {
        long[] shape = _inputIsMatrix[i] ? [inputs.RowCount, 1] : [inputs.RowCount];
        return inputs[_inputNames[i]] switch
        {
            NumericColumn n => OrtValue.CreateTensorValueFromMemory(n.Values, shape),
            StringColumn text => StringTensor(text.Values, shape),
            _ => throw new InvalidOperationException("Unknown column kind."),
        };
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private OutputTensor[] PredictImported(Table inputs, GraphBinding graph)
    {
        var rows = inputs.RowCount;
        var values = new OrtValue[_inputNames.Length];
        try
        {
            if (graph.MatrixInput is not null)
            {
                // One [rows, features] matrix, filled row by row from the feature columns in signature order.
                var width = Signature.Inputs.Count;
                var matrix = new float[rows * width];
                for (var c = 0; c < width; c++)
                {
                    var column = ((NumericColumn)inputs[Signature.Inputs[c].Name]).Values;
                    for (var r = 0; r < rows; r++)
                    {
                        matrix[(r * width) + c] = column[r];
                    }
                }

                values[0] = OrtValue.CreateTensorValueFromMemory(matrix, [rows, width]);
            }
            else
            {
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = ColumnTensor(inputs, i);
                }
            }

            using var outputs = _session.Run(_runOptions, _inputNames, values, _outputNames);
            var labels = outputs.Count > 1 ? Labels(outputs[1], rows) : null;
            return ModelOutputs.Imported(Signature, Floats(outputs[0]), rows, labels);
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }
        }
    }

    private static float[] Floats(OrtValue value) =>
        value.GetTensorTypeAndShape().ElementDataType == TensorElementType.Double
            ? [.. value.GetTensorDataAsSpan<double>().ToArray().Select(d => (float)d)]
            : value.GetTensorDataAsSpan<float>().ToArray();

    // A predicted-label output holds class indexes (int64/int32) or class names (string).
    private string[] Labels(OrtValue value, int rows)
    {
        string Name(long index) => ModelOutputs.ClassName(Signature, index);
        return value.GetTensorTypeAndShape().ElementDataType switch
        {
            TensorElementType.Int64 => [.. value.GetTensorDataAsSpan<long>().ToArray().Take(rows).Select(Name)],
            TensorElementType.Int32 => [.. value.GetTensorDataAsSpan<int>().ToArray().Take(rows).Select(i => Name(i))],
            _ => [.. Enumerable.Range(0, rows).Select(value.GetStringElement)],
        };
    }

    private string Output(string column)
    {
        var names = _session.OutputMetadata.Keys;
        return names.FirstOrDefault(n => n == column + OutputSuffix) ?? names.FirstOrDefault(n => n == column)
            ?? throw new CairnException(ErrorCode.Corrupt, $"The ONNX graph has no '{column}' output; it has {string.Join(", ", names)}.");
    }

    private static OrtValue StringTensor(string?[] values, long[] shape)
    {
        var tensor = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
        for (var i = 0; i < values.Length; i++)
        {
            tensor.StringTensorSetElementAt(values[i] ?? string.Empty, i);
        }

        return tensor;
    }
}

/// <summary>Creates ONNX Runtime sessions tuned for serving many small requests at once.</summary>
public sealed class OnnxModelRuntimeFactory : IModelRuntimeFactory
{
    /// <inheritdoc />
    public GraphDescription Describe(byte[] onnxModel)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        try
        {
            using var session = new InferenceSession(onnxModel, options);
            return new GraphDescription([.. session.InputMetadata.Select(Tensor)], [.. session.OutputMetadata.Select(Tensor)]);
        }
        catch (OnnxRuntimeException e)
        {
            throw CairnException.Invalid($"The file is not an ONNX model ONNX Runtime can load: {e.Message}");
        }
    }

    private static GraphTensor Tensor(KeyValuePair<string, NodeMetadata> node)
    {
        var metadata = node.Value;
        if (metadata.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR)
        {
            return new GraphTensor(node.Key, metadata.OnnxValueType == OnnxValueType.ONNX_TYPE_MAP ? "map" : "sequence", []);
        }

        var type = metadata.ElementDataType switch
        {
            TensorElementType.Float => "float",
            TensorElementType.Double => "double",
            TensorElementType.Int64 => "int64",
            TensorElementType.Int32 => "int32",
            TensorElementType.String => "string",
            TensorElementType.Bool => "bool",
            var other => other.ToString().ToLowerInvariant(),
        };
        return new GraphTensor(node.Key, type, [.. metadata.Dimensions.Select(d => (long)d)]);
    }

    /// <inheritdoc />
    public IModelRuntime Load(byte[] onnxModel, ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        // One intra-op thread per session: requests run in parallel across sessions' calls instead,
        // which on a 2-core machine measured about twice the throughput of the default.
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            // ML.NET's exported graphs draw harmless shape-merge warnings; errors still surface as exceptions.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        InferenceSession session;
        try
        {
            session = new InferenceSession(onnxModel, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CairnException(ErrorCode.Corrupt, $"ONNX Runtime could not load the model: {e.Message}", e);
        }

        try
        {
            return OnnxModelRuntime.Create(session, signature);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
