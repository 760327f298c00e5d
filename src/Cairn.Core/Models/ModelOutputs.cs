using System.Globalization;
using Cairn.Core.Ports;

namespace Cairn.Core.Models;

/// <summary>
/// Turns what a graph computed into the outputs a signature promises, the same way for every engine: ONNX Runtime
/// and the compiled engine read different buffers but must answer alike.
/// </summary>
public static class ModelOutputs
{
    /// <summary>A graph Cairn exported for a binary task: the predicted class, the calibrated probability and the raw score.</summary>
    public static OutputTensor[] Binary(ModelSignature signature, ReadOnlySpan<bool> predicted, float[] probability, float[] score)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var classes = signature.Classes!;
        var labels = new string[probability.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = predicted[i] ? classes[1] : classes[0];
        }

        return
        [
            new(ModelSignature.PredictedLabel, TensorType.Bytes, labels.Length, 1, null, labels),
            new(ModelSignature.Probability, TensorType.Fp32, labels.Length, 1, probability, null),
            new(ModelSignature.Score, TensorType.Fp32, labels.Length, 1, score, null),
        ];
    }

    /// <summary>A probability per class, in the signature's class order, [rows, classes]; the prediction is the argmax.</summary>
    public static OutputTensor[] Multiclass(ModelSignature signature, float[] probabilities, int rows)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var classes = signature.Classes!;
        var labels = new string[rows];
        for (var row = 0; row < rows; row++)
        {
            labels[row] = classes[ArgMax(probabilities.AsSpan(row * classes.Count, classes.Count))];
        }

        return
        [
            new(ModelSignature.PredictedLabel, TensorType.Bytes, rows, 1, null, labels),
            new(ModelSignature.Probabilities, TensorType.Fp32, rows, classes.Count, probabilities, null),
        ];
    }

    /// <summary>The index of the largest value, the first one on a tie.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>A regression's values.</summary>
    public static OutputTensor[] Regression(float[] values) =>
        [new OutputTensor(ModelSignature.Prediction, TensorType.Fp32, values.Length, 1, values, null)];

    /// <summary>
    /// An imported graph's outputs as its binding reads them: <paramref name="scores"/> is [rows, width] (class
    /// probabilities, one probability, or a value) and <paramref name="labels"/> the predicted classes when the graph gives them.
    /// </summary>
    public static OutputTensor[] Imported(ModelSignature signature, float[] scores, int rows, string[]? labels)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var width = scores.Length / Math.Max(1, rows);
        var classes = signature.Classes;
        switch (signature.Task)
        {
            case TaskKind.Binary:
            {
                // [rows, 2] holds both class probabilities; [rows] or [rows, 1] the positive one.
                var positive = new float[rows];
                for (var r = 0; r < rows; r++)
                {
                    positive[r] = scores[(r * width) + width - 1];
                }

                var predicted = labels ?? [.. positive.Select(p => p >= 0.5f ? classes![1] : classes![0])];
                return
                [
                    new(ModelSignature.PredictedLabel, TensorType.Bytes, rows, 1, null, predicted),
                    new(ModelSignature.Probability, TensorType.Fp32, rows, 1, positive, null),
                    new(ModelSignature.Score, TensorType.Fp32, rows, 1, positive, null),
                ];
            }

            case TaskKind.Multiclass:
                return labels is null
                    ? Multiclass(signature, scores, rows)
                    : [new(ModelSignature.PredictedLabel, TensorType.Bytes, rows, 1, null, labels), new(ModelSignature.Probabilities, TensorType.Fp32, rows, width, scores, null)];
            default:
                return Regression(scores);
        }
    }

    /// <summary>The class a graph's integer label output names: the signature's class at that index, or the number itself.</summary>
    public static string ClassName(ModelSignature signature, long index)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var classes = signature.Classes ?? [];
        return index >= 0 && index < classes.Count ? classes[(int)index] : index.ToString(CultureInfo.InvariantCulture);
    }
}
