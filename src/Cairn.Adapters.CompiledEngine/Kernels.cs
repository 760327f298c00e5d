using System.Numerics.Tensors;

namespace Cairn.Adapters.CompiledEngine;

/// <summary>
/// One compiled step of a graph, run for one row: it reads and writes ranges of the row's value buffer (every value
/// the graph computes has a fixed place there) and may read the row's text inputs. Each step writes the whole of its
/// output every time, so the buffer is reused from row to row without clearing.
/// </summary>
internal abstract class Kernel
{
    public abstract void Run(Span<float> row, string?[] texts);

    /// <summary>Runs over <paramref name="rows"/> row buffers laid out <paramref name="width"/> floats apart; row by row unless a kernel does better on a block.</summary>
    public virtual void RunBlock(float[] block, int width, int rows, string?[][] texts)
    {
        for (var r = 0; r < rows; r++)
        {
            Run(block.AsSpan(r * width, width), texts[r]);
        }
    }
}

/// <summary>A float range of the row's value buffer.</summary>
/// <param name="Offset">Where it starts.</param>
/// <param name="Width">How many values it holds.</param>
/// <param name="Integral">Whether it only ever holds whole numbers (class indexes, codes), so a cast to an integer type leaves it unchanged.</param>
/// <param name="Names">For a predicted class, the class names its values index.</param>
internal sealed record Slot(int Offset, int Width, bool Integral = false, IReadOnlyList<string>? Names = null)
{
    public Span<float> Of(Span<float> row) => row.Slice(Offset, Width);
}

/// <summary><c>Imputer</c>: a missing value (or the declared stand-in) becomes the imputed one.</summary>
internal sealed class Impute(Slot input, Slot output, float[] imputed, float replaced) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var source = input.Of(row);
        var target = output.Of(row);
        for (var i = 0; i < source.Length; i++)
        {
            var value = source[i];
            var missing = float.IsNaN(replaced) ? float.IsNaN(value) : value == replaced;
            target[i] = missing ? imputed[imputed.Length == 1 ? 0 : i] : value;
        }
    }
}

/// <summary><c>LabelEncoder</c> on a text input: a known string becomes its code, anything else the default.</summary>
internal sealed class EncodeText(int text, Slot output, Dictionary<string, float> codes, float fallback) : Kernel
{
    // ONNX Runtime is handed an empty string for a missing value, so a missing value encodes as "" does.
    public override void Run(Span<float> row, string?[] texts) =>
        row[output.Offset] = codes.TryGetValue(texts[text] ?? string.Empty, out var code) ? code : fallback;
}

/// <summary><c>LabelEncoder</c> on numbers.</summary>
internal sealed class EncodeNumber(Slot input, Slot output, Dictionary<float, float> codes, float fallback) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var source = input.Of(row);
        var target = output.Of(row);
        for (var i = 0; i < source.Length; i++)
        {
            target[i] = codes.TryGetValue(source[i], out var code) ? code : fallback;
        }
    }
}

/// <summary><c>OneHotEncoder</c>: each value becomes a block of zeros with a one at its category, all zeros when unknown.</summary>
internal sealed class OneHot(Slot input, Slot output, Dictionary<float, int> categories) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var source = input.Of(row);
        var target = output.Of(row);
        target.Clear();
        for (var i = 0; i < source.Length; i++)
        {
            if (categories.TryGetValue(source[i], out var at))
            {
                target[(i * categories.Count) + at] = 1f;
            }
        }
    }
}

/// <summary><c>OneHotEncoder</c> on a text input.</summary>
internal sealed class OneHotText(int text, Slot output, Dictionary<string, int> categories) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var target = output.Of(row);
        target.Clear();
        if (categories.TryGetValue(texts[text] ?? string.Empty, out var at))
        {
            target[at] = 1f;
        }
    }
}

/// <summary>Copies a range (a piece of a concatenation), padding with zeros when the declared width is larger.</summary>
internal sealed class Copy(Slot input, int offset, int width) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var take = Math.Min(width, input.Width);
        row.Slice(input.Offset, take).CopyTo(row.Slice(offset, take));
        row.Slice(offset + take, width - take).Clear();
    }
}

/// <summary><c>Scaler</c>: (x - offset) × scale, per element or with one offset and scale for all.</summary>
internal sealed class Scale(Slot input, Slot output, float[] offset, float[] scale) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var source = input.Of(row);
        var target = output.Of(row);
        if (offset.Length == source.Length && scale.Length == source.Length)
        {
            // Wide inputs (text's n-gram counts) scale element by element; vectorized, with the same rounding per element.
            TensorPrimitives.Subtract(source, offset, target);
            TensorPrimitives.Multiply(target, scale, target);
            return;
        }

        for (var i = 0; i < source.Length; i++)
        {
            target[i] = (source[i] - offset[offset.Length == 1 ? 0 : i]) * scale[scale.Length == 1 ? 0 : i];
        }
    }
}

/// <summary><c>Normalizer</c>: divides a row by its L1, L2 or max norm.</summary>
internal sealed class Normalize(Slot input, Slot output, Norm norm) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var source = input.Of(row);
        var target = output.Of(row);
        var total = norm switch
        {
            Norm.L1 => TensorPrimitives.SumOfMagnitudes(source),
            Norm.L2 => MathF.Sqrt(TensorPrimitives.SumOfSquares(source)),
            _ => source.IsEmpty ? 0f : MathF.Max(0f, TensorPrimitives.Max(source)),
        };

        if (total == 0)
        {
            source.CopyTo(target);
        }
        else
        {
            TensorPrimitives.Divide(source, total, target);
        }
    }
}

/// <summary>An element-wise operation of one range with another range or a constant, broadcasting a single value.</summary>
internal sealed class Arithmetic(Operator op, Slot left, Slot? right, float[]? constant, bool constantFirst, Slot output) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var target = output.Of(row);
        for (var i = 0; i < target.Length; i++)
        {
            var a = row[left.Offset + (left.Width == 1 ? 0 : i)];
            var b = right is { } r ? row[r.Offset + (r.Width == 1 ? 0 : i)] : constant![constant.Length == 1 ? 0 : i];
            if (constantFirst)
            {
                (a, b) = (b, a);
            }

            target[i] = op switch
            {
                Operator.Add => a + b,
                Operator.Sub => a - b,
                Operator.Mul => a * b,
                _ => a / b,
            };
        }
    }
}

/// <summary>Element-wise functions: <c>Sigmoid</c>, casts to integers (truncation) and to booleans (non-zero).</summary>
internal sealed class Map(Function function, Slot input, Slot output) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var source = input.Of(row);
        var target = output.Of(row);
        for (var i = 0; i < source.Length; i++)
        {
            target[i] = function switch
            {
                Function.Sigmoid => 1f / (1f + MathF.Exp(-source[i])),
                Function.Truncate => MathF.Truncate(source[i]),
                Function.NotZero => source[i] != 0 ? 1f : 0f,
                Function.Abs => MathF.Abs(source[i]),
                Function.Exp => MathF.Exp(source[i]),
                Function.Not => source[i] == 0 ? 1f : 0f,
                _ => source[i],
            };
        }
    }
}

/// <summary><c>Clip</c> between constant bounds.</summary>
internal sealed class Clamp(Slot input, Slot output, float min, float max) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var source = input.Of(row);
        var target = output.Of(row);
        for (var i = 0; i < source.Length; i++)
        {
            // NaN passes through, as ONNX Runtime's clip leaves it.
            target[i] = source[i] < min ? min : source[i] > max ? max : source[i];
        }
    }
}

/// <summary><c>Sum</c>, <c>Max</c> or <c>Min</c> of several ranges, element by element, a single value broadcasting.</summary>
internal sealed class Combine(Operator op, Slot[] inputs, Slot output) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var target = output.Of(row);
        for (var i = 0; i < target.Length; i++)
        {
            var value = row[inputs[0].Offset + (inputs[0].Width == 1 ? 0 : i)];
            for (var k = 1; k < inputs.Length; k++)
            {
                var next = row[inputs[k].Offset + (inputs[k].Width == 1 ? 0 : i)];
                value = op switch
                {
                    Operator.Add => value + next,
                    Operator.Max => MathF.Max(value, next),
                    _ => MathF.Min(value, next),
                };
            }

            target[i] = value;
        }
    }
}

/// <summary><c>Binarizer</c>: 1 above the threshold, else 0.</summary>
internal sealed class Binarize(Slot input, Slot output, float threshold) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var source = input.Of(row);
        var target = output.Of(row);
        for (var i = 0; i < source.Length; i++)
        {
            // ONNX Runtime refuses a NaN here rather than guess a class.
            target[i] = float.IsNaN(source[i])
                ? throw Cairn.Core.CairnException.Invalid("The model's score is not a number for this row (an input is infinite or out of range).")
                : source[i] > threshold ? 1f : 0f;
        }
    }
}

/// <summary><c>MatMul</c> of a row by a constant [width, columns] matrix, or <c>LinearRegressor</c> with its [targets, width] coefficients transposed to that form.</summary>
internal sealed class MatrixProduct(Slot input, Slot output, float[] matrix, float[]? bias, PostTransform transform) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        var source = input.Of(row);
        var target = output.Of(row);
        var columns = target.Length;
        if (columns == 1)
        {
            target[0] = TensorPrimitives.Dot(source, matrix) + (bias?[0] ?? 0f);
            Transforms.Apply(transform, target);
            return;
        }

        for (var c = 0; c < columns; c++)
        {
            var sum = 0f;
            for (var i = 0; i < source.Length; i++)
            {
                sum += source[i] * matrix[(i * columns) + c];
            }

            target[c] = bias is null ? sum : sum + bias[bias.Length == 1 ? 0 : c];
        }

        Transforms.Apply(transform, target);
    }
}

/// <summary><c>Softmax</c> over the last axis.</summary>
internal sealed class SoftmaxKernel(Slot input, Slot output) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        input.Of(row).CopyTo(output.Of(row));
        Transforms.Softmax(output.Of(row));
    }
}

/// <summary><c>ArgMax</c> over the last axis: the first index of the largest value.</summary>
internal sealed class ArgMaxKernel(Slot input, Slot output) : Kernel
{
    public override void Run(Span<float> row, string?[] texts) => row[output.Offset] = Cairn.Core.Models.ModelOutputs.ArgMax(input.Of(row));
}

/// <summary>A tree ensemble; a classifier also writes the index of its predicted class.</summary>
internal sealed class Trees(TreeEnsemble ensemble, Slot input, Slot scores, Slot? label) : Kernel
{
    public override void Run(Span<float> row, string?[] texts)
    {
        ensemble.Score(input.Of(row), scores.Of(row));
        Label(row);
    }

    private void Label(Span<float> row)
    {
        if (label is { } l)
        {
            row[l.Offset] = Cairn.Core.Models.ModelOutputs.ArgMax(scores.Of(row));
        }
    }
}

internal enum Norm
{
    Max,
    L1,
    L2,
}

internal enum Operator
{
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
}

internal enum Function
{
    Sigmoid,
    Truncate,
    NotZero,
    Abs,
    Exp,
    Not,
}
