using Cairn.Core.Data;
using Cairn.Core.Models;

namespace Cairn.Core.Ports;

/// <summary>One output of a prediction: a [rows] or [rows, width] tensor of floats or strings.</summary>
public sealed record OutputTensor(string Name, TensorType Type, int Rows, int Width, float[]? Floats, string[]? Strings)
{
    /// <summary>The rows <paramref name="from"/> to <paramref name="from"/> + <paramref name="rows"/> - 1, copied.</summary>
    public OutputTensor Slice(int from, int rows) => from == 0 && rows == Rows
        ? this
        : this with
        {
            Rows = rows,
            Floats = Floats?.AsSpan(from * Width, rows * Width).ToArray(),
            Strings = Strings?.AsSpan(from * Width, rows * Width).ToArray(),
        };
}

/// <summary>A loaded model ready to score rows.</summary>
public interface IModelRuntime : IDisposable
{
    /// <summary>The model's contract.</summary>
    ModelSignature Signature { get; }

    /// <summary>What scores it: <c>onnxruntime</c>, or <c>mlnet</c> for the fallback engine.</summary>
    string Engine { get; }

    /// <summary>Scores a batch. <paramref name="inputs"/> has one column per signature input, typed as the signature says.</summary>
    IReadOnlyList<OutputTensor> Predict(Table inputs);
}

/// <summary>Loads serialized models into runtimes.</summary>
public interface IModelRuntimeFactory
{
    /// <summary>Loads an ONNX graph.</summary>
    IModelRuntime Load(byte[] onnxModel, ModelSignature signature);

    /// <summary>The inputs and outputs an ONNX graph declares, for importing a model trained elsewhere.</summary>
    GraphDescription Describe(byte[] onnxModel);
}

/// <summary>Loads ML.NET models, the fallback engine for versions whose ONNX graph ONNX Runtime cannot load or score.</summary>
public interface IMLNetRuntimeFactory
{
    /// <summary>Loads a saved ML.NET model (the zip ML.NET writes).</summary>
    IModelRuntime Load(byte[] model, ModelSignature signature);
}

/// <summary>Compiles a model's graph into code that scores rows directly, where every part of the graph is one it knows.</summary>
public interface IModelCompiler
{
    /// <summary>A runtime for the ONNX graph; null, with the reason, when the graph holds something the compiler leaves to ONNX Runtime.</summary>
    IModelRuntime? TryCompile(byte[] onnxModel, ModelSignature signature, out string? reason);
}

/// <summary>A tree model saved by another library, turned into an ONNX graph Cairn serves like any imported graph.</summary>
/// <param name="Onnx">The graph: one [rows, features] float input, one float output (the value, the positive-class probability, or one probability per class).</param>
/// <param name="Format">What the file was, such as <c>xgboost-json</c>.</param>
/// <param name="Task">The task its objective implies.</param>
/// <param name="Features">The feature names the file records, in input order.</param>
public sealed record ConvertedTreeModel(byte[] Onnx, string Format, TaskKind Task, IReadOnlyList<string> Features);

/// <summary>Reads tree models other libraries save (XGBoost's JSON, LightGBM's text) into ONNX graphs.</summary>
public interface ITreeModelConverter
{
    /// <summary>The converted model, or null when <paramref name="file"/> is not in a format this converter reads; a file in such a format that cannot be converted is an error naming why.</summary>
    ConvertedTreeModel? TryConvert(byte[] file);
}
