using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Adapters.MLNet;

/// <summary>Scores with a fitted ML.NET pipeline, returning the same outputs as the ONNX runtime does for the same signature.</summary>
internal sealed class MLNetModelRuntime(ITransformer model, ModelSignature signature) : IModelRuntime
{
    public ModelSignature Signature { get; } = signature;

    public string Engine => "mlnet";

    public IReadOnlyList<OutputTensor> Predict(Table inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var view = model.Transform(TableDataView.Create(inputs, [.. Signature.Inputs.Select(i => i.Name)]));
        var rows = inputs.RowCount;
        var classes = Signature.Classes;
        switch (Signature.Task)
        {
            case TaskKind.Binary:
            {
                var predicted = Read<bool>(view, "PredictedLabel", rows);
                return
                [
                    new(ModelSignature.PredictedLabel, TensorType.Bytes, rows, 1, null, [.. predicted.Select(p => p ? classes![1] : classes![0])]),
                    new(ModelSignature.Probability, TensorType.Fp32, rows, 1, Read<float>(view, "Probability", rows), null),
                    new(ModelSignature.Score, TensorType.Fp32, rows, 1, Read<float>(view, "Score", rows), null),
                ];
            }

            case TaskKind.Multiclass:
            {
                var width = classes!.Count;
                var probabilities = ReadVectors(view, "Score", rows, width);
                var labels = new string[rows];
                for (var row = 0; row < rows; row++)
                {
                    var slice = probabilities.AsSpan(row * width, width);
                    labels[row] = classes[slice.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(slice))];
                }

                return
                [
                    new(ModelSignature.PredictedLabel, TensorType.Bytes, rows, 1, null, labels),
                    new(ModelSignature.Probabilities, TensorType.Fp32, rows, width, probabilities, null),
                ];
            }

            default:
                return [new(ModelSignature.Prediction, TensorType.Fp32, rows, 1, Read<float>(view, "Score", rows), null)];
        }
    }

    public void Dispose()
    {
        // A fitted pipeline holds no unmanaged resources.
    }

    private static T[] Read<T>(IDataView view, string column, int rows)
    {
        var result = new T[rows];
        var schemaColumn = view.Schema[column];
        using var cursor = view.GetRowCursor([schemaColumn]);
        var getter = cursor.GetGetter<T>(schemaColumn);
        var value = default(T)!;
        for (var i = 0; cursor.MoveNext(); i++)
        {
            getter(ref value);
            result[i] = value;
        }

        return result;
    }

    private static float[] ReadVectors(IDataView view, string column, int rows, int width)
    {
        var result = new float[rows * width];
        var schemaColumn = view.Schema[column];
        using var cursor = view.GetRowCursor([schemaColumn]);
        var getter = cursor.GetGetter<VBuffer<float>>(schemaColumn);
        var value = default(VBuffer<float>);
        for (var i = 0; cursor.MoveNext(); i++)
        {
            getter(ref value);
            value.CopyTo(result.AsSpan(i * width, width));
        }

        return result;
    }
}

/// <summary>Loads saved ML.NET models for serving when ONNX Runtime cannot serve a version.</summary>
public sealed class MLNetModelRuntimeFactory : IMLNetRuntimeFactory
{
    /// <inheritdoc />
    public IModelRuntime Load(byte[] model, ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(signature);
        using var stream = new MemoryStream(model, writable: false);
        try
        {
            return new MLNetModelRuntime(new MLContext().Model.Load(stream, out _), signature);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or IOException)
        {
            throw new Core.CairnException(Core.ErrorCode.Corrupt, $"ML.NET could not load the model: {e.Message}", e);
        }
    }
}
