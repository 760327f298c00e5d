using Cairn.Core.Data;

namespace Cairn.Core.Models;

/// <summary>What a model learns to predict.</summary>
public enum TaskKind
{
    /// <summary>Two classes.</summary>
    Binary,

    /// <summary>Three or more classes.</summary>
    Multiclass,

    /// <summary>A number.</summary>
    Regression,
}

/// <summary>Tensor element types, named as the Open Inference Protocol names them.</summary>
public enum TensorType
{
    /// <summary>32-bit float.</summary>
    Fp32,

    /// <summary>Strings.</summary>
    Bytes,
}

/// <summary>One input column of a model.</summary>
/// <param name="Name">The column name callers send.</param>
/// <param name="Type">The column's type in the training data.</param>
/// <param name="Categories">The levels seen in training, for categorical columns.</param>
public sealed record SignatureInput(string Name, ColumnType Type, IReadOnlyList<string>? Categories = null)
{
    /// <summary>The tensor type the model reads this column as.</summary>
    public TensorType TensorType => Type is ColumnType.Numeric or ColumnType.Boolean ? TensorType.Fp32 : TensorType.Bytes;
}

/// <summary>One output of a model; its shape is [rows] or [rows, <see cref="Width"/>].</summary>
public sealed record SignatureOutput(string Name, TensorType Type, int Width = 1);

/// <summary>A model's contract: its task, the inputs it reads, the label it predicts and the outputs it returns.</summary>
/// <param name="Task">The learning task.</param>
/// <param name="Label">The label column it was trained on.</param>
/// <param name="Classes">The class values for classifiers, in output order (for binary: negative, then positive).</param>
/// <param name="Inputs">The feature columns, in order.</param>
/// <param name="Outputs">The outputs, in order.</param>
public sealed record ModelSignature(
    TaskKind Task,
    string Label,
    IReadOnlyList<string>? Classes,
    IReadOnlyList<SignatureInput> Inputs,
    IReadOnlyList<SignatureOutput> Outputs)
{
    /// <summary>The output carrying the predicted class or value.</summary>
    public const string PredictedLabel = "predicted_label";

    /// <summary>The output carrying the positive class's probability (binary).</summary>
    public const string Probability = "probability";

    /// <summary>The output carrying per-class probabilities (multiclass).</summary>
    public const string Probabilities = "probabilities";

    /// <summary>The output carrying the raw margin of a binary classifier.</summary>
    public const string Score = "score";

    /// <summary>The output carrying a regression's predicted value.</summary>
    public const string Prediction = "prediction";

    /// <summary>The standard outputs of a task.</summary>
    public static IReadOnlyList<SignatureOutput> OutputsFor(TaskKind task, int classCount) => task switch
    {
        TaskKind.Binary =>
        [
            new(PredictedLabel, TensorType.Bytes),
            new(Probability, TensorType.Fp32),
            new(Score, TensorType.Fp32),
        ],
        TaskKind.Multiclass =>
        [
            new(PredictedLabel, TensorType.Bytes),
            new(Probabilities, TensorType.Fp32, classCount),
        ],
        _ => [new(Prediction, TensorType.Fp32)],
    };

    /// <summary>How an imported graph's tensors map onto the inputs and outputs; null for graphs Cairn exported itself.</summary>
    public GraphBinding? Graph { get; init; }

    /// <summary>The input called <paramref name="name"/>, if any.</summary>
    public SignatureInput? FindInput(string name) => Inputs.FirstOrDefault(i => i.Name == name);
}

/// <summary>Where an imported ONNX graph takes its inputs and gives its outputs.</summary>
/// <param name="MatrixInput">The graph's single [rows, features] float input that the inputs fill in order, or null when each input is a tensor of its own.</param>
/// <param name="ScoreOutput">The output with the prediction: class probabilities ([rows, classes]), a positive-class probability or a value.</param>
/// <param name="LabelOutput">The output with the predicted class (an index or a name), when the graph has one.</param>
public sealed record GraphBinding(string? MatrixInput, string ScoreOutput, string? LabelOutput);
