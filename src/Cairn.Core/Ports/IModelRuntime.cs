using Cairn.Core.Data;
using Cairn.Core.Models;

namespace Cairn.Core.Ports;

/// <summary>One output of a prediction: a [rows] or [rows, width] tensor of floats or strings.</summary>
public sealed record OutputTensor(string Name, TensorType Type, int Rows, int Width, float[]? Floats, string[]? Strings);

/// <summary>A loaded model ready to score rows.</summary>
public interface IModelRuntime : IDisposable
{
    /// <summary>The model's contract.</summary>
    ModelSignature Signature { get; }

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
