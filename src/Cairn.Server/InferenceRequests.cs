using System.Globalization;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;

namespace Cairn.Server;

/// <summary>Turns request bodies into a <see cref="Table"/> that matches a model's signature; every error names the input at fault.</summary>
internal static class InferenceRequests
{
    /// <summary>The most rows one request may carry.</summary>
    public const int MaxRows = 10_000;

    /// <summary>Reads an Open Inference Protocol v2 request: one tensor per input column, all with the same first dimension.</summary>
    public static (Table Inputs, string? Id, IReadOnlyList<string>? Outputs) ReadOpenInference(JsonElement body, ModelSignature signature)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw CairnException.Invalid("The request body must be a JSON object with an 'inputs' array.");
        }

        string? id = null;
        if (body.TryGetProperty("id", out var idElement))
        {
            id = idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : throw CairnException.Invalid("'id' must be a string.");
        }

        if (!body.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0)
        {
            throw CairnException.Invalid("The request needs a non-empty 'inputs' array of tensors.");
        }

        var columns = new Dictionary<string, TableColumn>(StringComparer.Ordinal);
        int? rows = null;
        foreach (var tensor in inputs.EnumerateArray())
        {
            var name = tensor.ValueKind == JsonValueKind.Object && tensor.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                ? n.GetString()!
                : throw CairnException.Invalid("Every input tensor needs a string 'name'.");
            var input = signature.FindInput(name)
                ?? throw CairnException.Invalid($"Input '{name}' is not an input of this model; its inputs are: {string.Join(", ", signature.Inputs.Select(i => i.Name))}.");
            if (columns.ContainsKey(name))
            {
                throw CairnException.Invalid($"Input '{name}' appears more than once.");
            }

            var (tensorRows, data) = ReadTensor(tensor, name);
            if (rows is { } expected && expected != tensorRows)
            {
                throw CairnException.Invalid($"Input '{name}' has {tensorRows} rows, but earlier inputs have {expected}; every input needs the same first dimension.");
            }

            rows = tensorRows;
            var datatype = tensor.GetProperty("datatype").GetString()!;
            if (input.TensorType == TensorType.Bytes)
            {
                var texts = datatype == "BYTES" ? new string?[tensorRows] : throw WrongDatatype(input, datatype);
                Fill(data, 0, (item, at) => texts[at] = ReadString(item, name));
                columns[name] = new StringColumn(name, texts);
            }
            else
            {
                var range = NumericRanges.TryGetValue(datatype, out var known) ? known : throw WrongDatatype(input, datatype);
                var numbers = new float[tensorRows];
                Fill(data, 0, (item, at) => numbers[at] = ReadTyped(item, datatype, range, name, at));
                columns[name] = new NumericColumn(name, numbers);
            }
        }

        var missing = signature.Inputs.Where(i => !columns.ContainsKey(i.Name)).Select(i => i.Name).ToList();
        if (missing.Count > 0)
        {
            throw CairnException.Invalid($"The request lacks input(s): {string.Join(", ", missing)}.");
        }

        return (new Table([.. signature.Inputs.Select(i => columns[i.Name])], rows!.Value), id, ReadRequestedOutputs(body, signature));
    }

    /// <summary>Reads JSON rows keyed by column name: <c>{"rows": [{...}]}</c> or a bare array of objects. Extra keys are ignored.</summary>
    public static Table ReadRows(JsonElement body, ModelSignature signature)
    {
        var rows = body.ValueKind switch
        {
            JsonValueKind.Array => body,
            JsonValueKind.Object when body.TryGetProperty("rows", out var r) && r.ValueKind == JsonValueKind.Array => r,
            _ => throw CairnException.Invalid("The request body must be {\"rows\": [{column: value, ...}, ...]} or an array of such objects."),
        };
        return FromRecords(rows, signature);
    }

    /// <summary>
    /// Reads MLflow's scoring protocol: <c>dataframe_split</c> (columns and rows of values), <c>dataframe_records</c> or
    /// <c>instances</c> (objects keyed by column), or <c>inputs</c> (an object of column arrays, or records).
    /// </summary>
    public static Table ReadMlflow(JsonElement body, ModelSignature signature)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw CairnException.Invalid("The request body must be a JSON object with one of dataframe_split, dataframe_records, instances or inputs.");
        }

        if (body.TryGetProperty("dataframe_split", out var split))
        {
            if (split.ValueKind != JsonValueKind.Object
                || !split.TryGetProperty("columns", out var columns) || columns.ValueKind != JsonValueKind.Array
                || !split.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                throw CairnException.Invalid("'dataframe_split' must be an object with 'columns' (an array of names) and 'data' (an array of rows).");
            }

            var position = Positions(columns.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.String
                ? c.GetString()!
                : throw CairnException.Invalid("'dataframe_split.columns' must hold column names as strings.")));
            var rows = data.EnumerateArray().ToList();
            return Build(rows.Count, signature, (row, column) =>
            {
                if (rows[row].ValueKind != JsonValueKind.Array || rows[row].GetArrayLength() != position.Count)
                {
                    throw CairnException.Invalid($"Row {row} of 'dataframe_split.data' must be an array of {position.Count} values, one per column.");
                }

                return position.TryGetValue(column, out var p) ? rows[row][p] : null;
            });
        }

        foreach (var name in new[] { "dataframe_records", "instances" })
        {
            if (body.TryGetProperty(name, out var records))
            {
                return records.ValueKind == JsonValueKind.Array ? FromRecords(records, signature) : throw CairnException.Invalid($"'{name}' must be an array of objects.");
            }
        }

        if (body.TryGetProperty("inputs", out var inputs))
        {
            if (inputs.ValueKind == JsonValueKind.Array)
            {
                return FromRecords(inputs, signature);
            }

            if (inputs.ValueKind != JsonValueKind.Object)
            {
                throw CairnException.Invalid("'inputs' must be an object of column arrays or an array of records.");
            }

            var lengths = inputs.EnumerateObject().Select(p => p.Value.ValueKind == JsonValueKind.Array ? p.Value.GetArrayLength() : -1).Distinct().ToList();
            if (lengths.Count != 1 || lengths[0] < 0)
            {
                throw CairnException.Invalid("Every column of 'inputs' must be an array, all of the same length.");
            }

            return Build(lengths[0], signature, (row, column) => inputs.TryGetProperty(column, out var values) ? values[row] : null);
        }

        throw CairnException.Invalid("The request body needs one of dataframe_split, dataframe_records, instances or inputs.");
    }

    /// <summary>Reads CSV with a header row (MLflow's text/csv input); numbers for the model's numeric inputs, text for the rest.</summary>
    public static Table ReadCsv(byte[] body, ModelSignature signature)
    {
        using var reader = CsvReader.Open(new MemoryStream(body, writable: false));
        var position = Positions(reader.Header);
        var records = new List<string[]>();
        while (reader.TryRead(out var fields))
        {
            records.Add(fields);
        }

        // Cells stay text: a numeric input's text becomes a number by the rule training loads CSV with (Table.ParseNumber).
        return Build(records.Count, signature, (row, column) =>
            position.TryGetValue(column, out var p)
                ? MissingValues.IsMissing(records[row][p]) ? Null : JsonSerializer.SerializeToElement(records[row][p], InferenceJson.Default.String)
                : null);
    }

    private static readonly JsonElement Null = JsonDocument.Parse("null").RootElement;

    // Each column's position; a name given twice is ambiguous, so refused.
    private static Dictionary<string, int> Positions(IEnumerable<string> names)
    {
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!position.TryAdd(name, position.Count))
            {
                throw CairnException.Invalid($"Column '{name}' is given twice.");
            }
        }

        return position;
    }

    private static Table FromRecords(JsonElement rows, ModelSignature signature)
    {
        var list = rows.EnumerateArray().ToList();
        return Build(list.Count, signature, (row, column) => list[row].ValueKind == JsonValueKind.Object
            ? list[row].TryGetProperty(column, out var value) ? value : null
            : throw CairnException.Invalid($"Row {row} is not a JSON object of column values."));
    }

    // One table from any row layout: cell(row, column) gives a row's value of a column, or null when the row lacks it.
    private static Table Build(int count, ModelSignature signature, Func<int, string, JsonElement?> cell)
    {
        if (count is 0 or > MaxRows)
        {
            throw CairnException.Invalid($"Send between 1 and {MaxRows} rows, not {count}.");
        }

        var numeric = signature.Inputs.Select(i => i.TensorType == TensorType.Fp32 ? new float[count] : null).ToArray();
        var text = signature.Inputs.Select(i => i.TensorType == TensorType.Bytes ? new string?[count] : null).ToArray();
        for (var index = 0; index < count; index++)
        {
            for (var c = 0; c < signature.Inputs.Count; c++)
            {
                var input = signature.Inputs[c];
                var value = cell(index, input.Name)
                    ?? throw CairnException.Invalid($"Row {index} lacks column '{input.Name}'; send null for a missing value.");
                if (numeric[c] is { } numbers)
                {
                    numbers[index] = ReadNumber(value, input, index);
                }
                else
                {
                    text[c]![index] = ReadString(value, input.Name, index);
                }
            }
        }

        return new Table([.. signature.Inputs.Select((input, c) => numeric[c] is { } n
            ? (TableColumn)new NumericColumn(input.Name, n)
            : new StringColumn(input.Name, text[c]!))], count);
    }

    private static (int Rows, JsonElement Data) ReadTensor(JsonElement tensor, string name)
    {
        if (!tensor.TryGetProperty("datatype", out var datatype) || datatype.ValueKind != JsonValueKind.String)
        {
            throw CairnException.Invalid($"Input '{name}' needs a string 'datatype' (such as FP32 or BYTES).");
        }

        if (!tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
        {
            throw CairnException.Invalid($"Input '{name}' needs a 'shape' of [rows] or [rows, 1].");
        }

        var dims = new List<long>(2);
        foreach (var dim in shape.EnumerateArray())
        {
            dims.Add(dim.ValueKind == JsonValueKind.Number && dim.TryGetInt64(out var d)
                ? d
                : throw CairnException.Invalid($"Input '{name}' has a shape entry that is not an integer."));
        }

        var rows = RowsOf(dims, name);
        if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw CairnException.Invalid($"Input '{name}' needs a 'data' array.");
        }

        // The protocol allows the data nested by shape or flattened in row-major order; counted before anything is read.
        var count = Count(data);
        if (count != rows)
        {
            throw CairnException.Invalid($"Input '{name}' has {count} values, but its shape [{string.Join(", ", dims)}] needs {rows}.");
        }

        return (rows, data);
    }

    // The values in a nested array, in row-major order.
    private static int Count(JsonElement array)
    {
        var count = 0;
        foreach (var item in array.EnumerateArray())
        {
            count += item.ValueKind == JsonValueKind.Array ? Count(item) : 1;
        }

        return count;
    }

    // Hands each value of a nested array to `read` with its row-major index; returns the next index.
    private static int Fill(JsonElement array, int at, Action<JsonElement, int> read)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                at = Fill(item, at, read);
            }
            else
            {
                read(item, at++);
            }
        }

        return at;
    }

    private static IReadOnlyList<string>? ReadRequestedOutputs(JsonElement body, ModelSignature signature)
    {
        if (!body.TryGetProperty("outputs", out var outputs))
        {
            return null;
        }

        var names = new List<string>();
        foreach (var output in outputs.ValueKind == JsonValueKind.Array ? outputs.EnumerateArray() : throw CairnException.Invalid("'outputs' must be an array."))
        {
            var name = output.ValueKind == JsonValueKind.Object && output.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                ? n.GetString()!
                : throw CairnException.Invalid("Every requested output needs a string 'name'.");
            names.Add(signature.Outputs.Any(o => o.Name == name)
                ? name
                : throw CairnException.Invalid($"Output '{name}' is not an output of this model; its outputs are: {string.Join(", ", signature.Outputs.Select(o => o.Name))}."));
        }

        return names;
    }

    // The protocol's numeric datatypes and the values each may hold; BOOL holds true and false only.
    internal static readonly Dictionary<string, (double Min, double Max, bool Integer)> NumericRanges = new(StringComparer.Ordinal)
    {
        ["BOOL"] = (0, 1, true),
        ["INT8"] = (sbyte.MinValue, sbyte.MaxValue, true),
        ["INT16"] = (short.MinValue, short.MaxValue, true),
        ["INT32"] = (int.MinValue, int.MaxValue, true),
        ["INT64"] = (long.MinValue, long.MaxValue, true),
        ["UINT8"] = (0, byte.MaxValue, true),
        ["UINT16"] = (0, ushort.MaxValue, true),
        ["UINT32"] = (0, uint.MaxValue, true),
        ["UINT64"] = (0, ulong.MaxValue, true),
        ["FP16"] = (-65504, 65504, false),
        ["FP32"] = (float.MinValue, float.MaxValue, false),
        ["FP64"] = (double.MinValue, double.MaxValue, false),
    };

    // One value of a numeric tensor, checked against its datatype; null stands for a missing value in FP tensors.
    private static float ReadTyped(JsonElement value, string datatype, (double Min, double Max, bool Integer) range, string name, int index)
    {
        if (datatype == "BOOL")
        {
            return value.ValueKind switch
            {
                JsonValueKind.True => 1f,
                JsonValueKind.False => 0f,
                _ => throw CairnException.Invalid($"Input '{name}' is BOOL, but value {index} is {Describe(value)}; send true or false."),
            };
        }

        if (value.ValueKind == JsonValueKind.Null && !range.Integer)
        {
            return float.NaN;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number))
        {
            throw CairnException.Invalid($"Input '{name}' is {datatype}, but value {index} is {Describe(value)}.");
        }

        return Checked(number, datatype, name, index);
    }

    /// <summary>A value of a numeric tensor as a float, once it is known to fit its datatype.</summary>
    internal static float Checked(double number, string datatype, string name, int index)
    {
        var range = NumericRanges[datatype];
        if (number < range.Min || number > range.Max || (range.Integer && Math.Floor(number) != number))
        {
            throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
                $"Input '{name}' is {datatype}, but value {index} ({number}) is {(range.Integer ? "not an integer in" : "outside")} its range {range.Min}..{range.Max}."));
        }

        return (float)number;
    }

    /// <summary>The rows of an input tensor's shape: [rows] or [rows, 1], with 1 to <see cref="MaxRows"/> rows.</summary>
    internal static int RowsOf(IReadOnlyList<long> dims, string name)
    {
        if (dims.Count is 0 or > 2 || dims.Any(d => d < 0))
        {
            throw CairnException.Invalid($"Input '{name}' needs a 'shape' of [rows] or [rows, 1] with non-negative sizes.");
        }

        if (dims.Count == 2 && dims[1] != 1)
        {
            throw CairnException.Invalid($"Input '{name}' has shape [{string.Join(", ", dims)}]; each input is one column, so use [rows] or [rows, 1].");
        }

        return dims[0] is 0 or > MaxRows
            ? throw CairnException.Invalid($"Input '{name}' has {dims[0]} rows; send between 1 and {MaxRows}.")
            : (int)dims[0];
    }

    /// <summary>The error for a tensor whose datatype does not suit the model's input.</summary>
    internal static CairnException WrongDatatype(SignatureInput input, string datatype) => CairnException.Invalid(input.TensorType == TensorType.Bytes
        ? $"Input '{input.Name}' is {input.Type.ToString().ToLowerInvariant()}; send it as BYTES, not {datatype}."
        : $"Input '{input.Name}' is {input.Type.ToString().ToLowerInvariant()}; send it as FP32, FP64, an integer type or BOOL, not {datatype}.");

    private static float ReadNumber(JsonElement value, SignatureInput input, int? row = null) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetSingle(),
        JsonValueKind.Null => float.NaN,
        JsonValueKind.True => 1f,
        JsonValueKind.False => 0f,
        JsonValueKind.String when MissingValues.IsMissing(value.GetString()) => float.NaN,
        JsonValueKind.String => Table.ParseNumber(new ColumnSchema(input.Name, input.Type, true, 0, 0), value.GetString()!, row ?? 0),
        _ => throw CairnException.Invalid($"{Where(row)}column '{input.Name}' must be a number, not {Describe(value)}."),
    };

    private static string? ReadString(JsonElement value, string column, int? row = null) => value.ValueKind switch
    {
        JsonValueKind.String => MissingValues.IsMissing(value.GetString()) ? null : value.GetString(),
        JsonValueKind.Null => null,
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => throw CairnException.Invalid($"{Where(row)}column '{column}' must be a string, not {Describe(value)}."),
    };

    private static string Where(int? row) => row is { } r ? string.Create(CultureInfo.InvariantCulture, $"Row {r}, ") : string.Empty;

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };
}

/// <summary>Source-generated JSON for the scalars CSV cells become.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(double))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class InferenceJson : System.Text.Json.Serialization.JsonSerializerContext;
