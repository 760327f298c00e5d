using System.Globalization;
using Cairn.Core.Data;
using Cairn.Core.Ports;

namespace Cairn.Core.Models;

/// <summary>
/// Whether two engines answer alike: every probability and value within <see cref="Tolerance"/> and every label
/// identical. The compiled engine serves a version only when it agrees with ONNX Runtime this way.
/// </summary>
public static class EngineParity
{
    /// <summary>The largest absolute difference allowed between two engines' floats.</summary>
    public const double Tolerance = 1e-5;

    /// <summary>The values that test an engine's edges: missing, infinite, signed zero, huge, and text it never saw.</summary>
    private static readonly float[] AwkwardNumbers = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 1e30f, -1e30f];
    private static readonly string?[] AwkwardTexts = [null, "", "never-seen-category", " ", "two  spaces, naïve café 😀 \uFFFD"];

    /// <summary>
    /// The sample's rows, then copies of them in which one input at a time holds an awkward value, so each input meets
    /// each awkward value in the company of real values.
    /// </summary>
    public static Table WithEdgeCases(Table sample, ModelSignature signature, int maxRows = 2000)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(signature);
        var inputs = signature.Inputs;
        var variants = new List<(int Row, int Input, int Value)>();
        for (var input = 0; input < inputs.Count; input++)
        {
            var count = inputs[input].TensorType == TensorType.Bytes ? AwkwardTexts.Length : AwkwardNumbers.Length;
            for (var value = 0; value < count; value++)
            {
                variants.Add((variants.Count % Math.Max(1, sample.RowCount), input, value));
            }
        }

        var rows = Math.Min(maxRows, sample.RowCount) + (sample.RowCount == 0 ? 0 : variants.Count);
        var columns = new List<TableColumn>();
        for (var i = 0; i < inputs.Count; i++)
        {
            var source = sample[inputs[i].Name];
            var kept = Math.Min(maxRows, sample.RowCount);
            if (source is NumericColumn numbers)
            {
                var values = new float[rows];
                numbers.Values.AsSpan(0, kept).CopyTo(values);
                for (var v = 0; v < rows - kept; v++)
                {
                    var (row, input, value) = variants[v];
                    values[kept + v] = input == i ? AwkwardNumbers[value] : numbers.Values[row];
                }

                columns.Add(new NumericColumn(inputs[i].Name, values));
            }
            else
            {
                var texts = ((StringColumn)source).Values;
                var values = new string?[rows];
                texts.AsSpan(0, kept).CopyTo(values);
                for (var v = 0; v < rows - kept; v++)
                {
                    var (row, input, value) = variants[v];
                    values[kept + v] = input == i ? AwkwardTexts[value] : texts[row];
                }

                columns.Add(new StringColumn(inputs[i].Name, values));
            }
        }

        return new Table(columns, rows);
    }

    /// <summary>Up to <paramref name="maxRows"/> rows of <paramref name="rows"/>'s signature inputs as CSV, stored beside a trained model so engines can be compared on them later.</summary>
    public static byte[] ToCsv(Table rows, ModelSignature signature, int maxRows = 1000)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(signature);
        var columns = signature.Inputs.Select(i => rows[i.Name]).ToList();
        var text = new System.Text.StringBuilder(CsvWriter.Record(signature.Inputs.Select(i => i.Name)));
        for (var r = 0; r < Math.Min(maxRows, rows.RowCount); r++)
        {
            text.Append(CsvWriter.Record(columns.Select(c => c switch
            {
                NumericColumn n => float.IsNaN(n.Values[r]) ? "" : n.Values[r].ToString("R", CultureInfo.InvariantCulture),
                _ => ((StringColumn)c).Values[r] ?? "",
            })));
        }

        return System.Text.Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Rows written by <see cref="ToCsv"/>, typed by the signature.</summary>
    public static Table FromCsv(byte[] csv, ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        using var reader = CsvReader.Open(new MemoryStream(csv));
        return Table.Load(reader, new TableSchema([.. signature.Inputs.Select(i => new ColumnSchema(i.Name, i.TensorType == TensorType.Fp32 ? ColumnType.Numeric : ColumnType.Categorical, true, 0, 0))]));
    }

    /// <summary>
    /// Rows for a model with no stored test rows (an imported one): numbers spread over many scales, each text input's
    /// known categories, drawn with a fixed seed so a check is repeatable.
    /// </summary>
    public static Table Synthetic(ModelSignature signature, int rows = 500)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var random = new Random(17);
        return new Table([.. signature.Inputs.Select(TableColumn (i) => i.TensorType == TensorType.Fp32
            ? new NumericColumn(i.Name, [.. Enumerable.Range(0, rows).Select(_ => (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-2, 5))))])
            : new StringColumn(i.Name, [.. Enumerable.Range(0, rows).Select(_ => i.Categories is { Count: > 0 } known ? known[random.Next(known.Count)] : "x")]))], rows);
    }

    /// <summary>The first way <paramref name="actual"/> differs from <paramref name="expected"/> beyond the tolerance, or null when they agree.</summary>
    public static string? Compare(IReadOnlyList<OutputTensor> expected, IReadOnlyList<OutputTensor> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        foreach (var reference in expected)
        {
            var other = actual.FirstOrDefault(o => o.Name == reference.Name);
            if (other is null || other.Rows != reference.Rows || other.Width != reference.Width)
            {
                return $"output '{reference.Name}' is missing or has another shape";
            }

            for (var i = 0; i < reference.Rows * reference.Width; i++)
            {
                var row = i / Math.Max(1, reference.Width);
                if (reference.Strings is { } labels && labels[i] != other.Strings?[i])
                {
                    return $"row {row}: {reference.Name} is '{labels[i]}', not '{other.Strings?[i]}'";
                }

                if (reference.Floats is { } floats && !Close(floats[i], other.Floats![i]))
                {
                    return string.Create(CultureInfo.InvariantCulture, $"row {row}: {reference.Name} is {floats[i]:R}, not {other.Floats[i]:R}");
                }
            }
        }

        return null;
    }

    private static bool Close(float a, float b) =>
        a.Equals(b) || Math.Abs((double)a - b) <= Tolerance;
}
