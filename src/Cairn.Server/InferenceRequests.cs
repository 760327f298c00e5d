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
            columns[name] = input.TensorType == TensorType.Bytes
                ? new StringColumn(name, datatype == "BYTES"
                    ? [.. data.Select(v => ReadString(v, name))]
                    : throw CairnException.Invalid($"Input '{name}' is {input.Type.ToString().ToLowerInvariant()}; send it as BYTES, not {datatype}."))
                : new NumericColumn(name, IsNumericDatatype(datatype)
                    ? [.. data.Select(v => ReadNumber(v, input))]
                    : throw CairnException.Invalid($"Input '{name}' is {input.Type.ToString().ToLowerInvariant()}; send it as FP32, FP64, an integer type or BOOL, not {datatype}."));
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
        var count = rows.GetArrayLength();
        if (count is 0 or > MaxRows)
        {
            throw CairnException.Invalid($"Send between 1 and {MaxRows} rows, not {count}.");
        }

        var numeric = signature.Inputs.Select(i => i.TensorType == TensorType.Fp32 ? new float[count] : null).ToArray();
        var text = signature.Inputs.Select(i => i.TensorType == TensorType.Bytes ? new string?[count] : null).ToArray();
        var index = 0;
        foreach (var row in rows.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Object)
            {
                throw CairnException.Invalid($"Row {index} is not a JSON object of column values.");
            }

            for (var c = 0; c < signature.Inputs.Count; c++)
            {
                var input = signature.Inputs[c];
                if (!row.TryGetProperty(input.Name, out var value))
                {
                    throw CairnException.Invalid($"Row {index} lacks column '{input.Name}'; send null for a missing value.");
                }

                if (numeric[c] is { } numbers)
                {
                    numbers[index] = ReadNumber(value, input, index);
                }
                else
                {
                    text[c]![index] = ReadString(value, input.Name, index);
                }
            }

            index++;
        }

        return new Table([.. signature.Inputs.Select((input, c) => numeric[c] is { } n
            ? (TableColumn)new NumericColumn(input.Name, n)
            : new StringColumn(input.Name, text[c]!))], count);
    }

    private static (int Rows, List<JsonElement> Data) ReadTensor(JsonElement tensor, string name)
    {
        if (!tensor.TryGetProperty("datatype", out var datatype) || datatype.ValueKind != JsonValueKind.String)
        {
            throw CairnException.Invalid($"Input '{name}' needs a string 'datatype' (such as FP32 or BYTES).");
        }

        if (!tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array || shape.GetArrayLength() is 0 or > 2)
        {
            throw CairnException.Invalid($"Input '{name}' needs a 'shape' of [rows] or [rows, 1].");
        }

        var dims = new List<int>();
        foreach (var dim in shape.EnumerateArray())
        {
            dims.Add(dim.ValueKind == JsonValueKind.Number && dim.TryGetInt32(out var d) && d >= 0
                ? d
                : throw CairnException.Invalid($"Input '{name}' has a shape entry that is not a non-negative integer."));
        }

        if (dims.Count == 2 && dims[1] != 1)
        {
            throw CairnException.Invalid($"Input '{name}' has shape [{string.Join(", ", dims)}]; each input is one column, so use [rows] or [rows, 1].");
        }

        if (dims[0] is 0 or > MaxRows)
        {
            throw CairnException.Invalid($"Input '{name}' has {dims[0]} rows; send between 1 and {MaxRows}.");
        }

        if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw CairnException.Invalid($"Input '{name}' needs a 'data' array.");
        }

        // The protocol allows the data nested by shape or flattened in row-major order.
        var flat = new List<JsonElement>(dims[0]);
        Flatten(data, flat);
        if (flat.Count != dims[0])
        {
            throw CairnException.Invalid($"Input '{name}' has {flat.Count} values, but its shape [{string.Join(", ", dims)}] needs {dims[0]}.");
        }

        return (dims[0], flat);
    }

    private static void Flatten(JsonElement element, List<JsonElement> into)
    {
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                Flatten(item, into);
            }
            else
            {
                into.Add(item);
            }
        }
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

    private static bool IsNumericDatatype(string datatype) => datatype is "BOOL" or "FP16" or "FP32" or "FP64"
        or "INT8" or "INT16" or "INT32" or "INT64" or "UINT8" or "UINT16" or "UINT32" or "UINT64";

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
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };
}
