using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;

namespace Cairn.Server;

/// <summary>
/// Turns request bodies into a <see cref="Table"/> that matches a model's signature. JSON is read once, token by token
/// (<see cref="Utf8JsonReader"/>), straight into the model's input columns: no document, no object per cell, and a
/// category the model knows becomes the model's own string instead of a new one. Every error names the input at fault.
/// </summary>
internal static class InferenceRequests
{
    /// <summary>The most rows one request may carry.</summary>
    public const int MaxRows = 10_000;

    /// <summary>Reads JSON rows keyed by column name: <c>{"rows": [{...}]}</c> or a bare array of objects. Extra keys are ignored.</summary>
    public static Table ReadRows(ReadOnlySpan<byte> body, ModelSignature signature)
    {
        const string Shape = "The request body must be {\"rows\": [{column: value, ...}, ...]} or an array of such objects.";
        try
        {
            var reader = new Utf8JsonReader(body);
            var columns = new RequestColumns(InputLayout.Of(signature));
            switch (Next(ref reader))
            {
                case JsonTokenType.StartArray:
                    ReadRecords(ref reader, columns);
                    break;
                case JsonTokenType.StartObject:
                {
                    var found = false;
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        if (!reader.ValueTextEquals("rows"u8))
                        {
                            reader.Skip();
                            continue;
                        }

                        if (found || Next(ref reader) != JsonTokenType.StartArray)
                        {
                            throw CairnException.Invalid(Shape);
                        }

                        ReadRecords(ref reader, columns);
                        found = true;
                    }

                    if (!found)
                    {
                        throw CairnException.Invalid(Shape);
                    }

                    break;
                }

                default:
                    throw CairnException.Invalid(Shape);
            }

            EndOfBody(ref reader);
            return columns.Build();
        }
        catch (JsonException e)
        {
            throw NotJson(e);
        }
    }

    /// <summary>
    /// Reads MLflow's scoring protocol: <c>dataframe_split</c> (columns and rows of values), <c>dataframe_records</c> or
    /// <c>instances</c> (objects keyed by column), or <c>inputs</c> (an object of column arrays, or records). Other keys
    /// (such as <c>params</c>) are ignored; a body holding two of the forms is refused.
    /// </summary>
    public static Table ReadMlflow(ReadOnlySpan<byte> body, ModelSignature signature)
    {
        const string Forms = "dataframe_split, dataframe_records, instances or inputs";
        try
        {
            var reader = new Utf8JsonReader(body);
            if (Next(ref reader) != JsonTokenType.StartObject)
            {
                throw CairnException.Invalid($"The request body must be a JSON object with one of {Forms}.");
            }

            var columns = new RequestColumns(InputLayout.Of(signature));
            string? form = null;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                var name = reader.ValueTextEquals("dataframe_split"u8) ? "dataframe_split"
                    : reader.ValueTextEquals("dataframe_records"u8) ? "dataframe_records"
                    : reader.ValueTextEquals("instances"u8) ? "instances"
                    : reader.ValueTextEquals("inputs"u8) ? "inputs"
                    : null;
                if (name is null)
                {
                    reader.Skip();
                    continue;
                }

                if (form is not null)
                {
                    throw CairnException.Invalid($"The request body holds both '{form}' and '{name}'; send one of {Forms}.");
                }

                form = name;
                switch (Next(ref reader), name)
                {
                    case (_, "dataframe_split"):
                        ReadSplit(ref reader, columns);
                        break;
                    case (JsonTokenType.StartArray, _):
                        ReadRecords(ref reader, columns);
                        break;
                    case (JsonTokenType.StartObject, "inputs"):
                        ReadColumnar(ref reader, columns);
                        break;
                    case (_, "inputs"):
                        throw CairnException.Invalid("'inputs' must be an object of column arrays or an array of records.");
                    default:
                        throw CairnException.Invalid($"'{name}' must be an array of objects.");
                }
            }

            if (form is null)
            {
                throw CairnException.Invalid($"The request body needs one of {Forms}.");
            }

            EndOfBody(ref reader);
            return columns.Build();
        }
        catch (JsonException e)
        {
            throw NotJson(e);
        }
    }

    /// <summary>Reads an Open Inference Protocol v2 request: one tensor per input column, all with the same first dimension.</summary>
    public static (Table Inputs, string? Id, IReadOnlyList<string>? Outputs) ReadOpenInference(ReadOnlySpan<byte> body, ModelSignature signature)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (Next(ref reader) != JsonTokenType.StartObject)
            {
                throw CairnException.Invalid("The request body must be a JSON object with an 'inputs' array.");
            }

            var columns = new RequestColumns(InputLayout.Of(signature));
            string? id = null;
            List<string>? outputs = null;
            var tensors = 0;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    id = Next(ref reader) == JsonTokenType.String ? reader.GetString() : throw CairnException.Invalid("'id' must be a string.");
                }
                else if (reader.ValueTextEquals("inputs"u8))
                {
                    if (Next(ref reader) != JsonTokenType.StartArray)
                    {
                        throw CairnException.Invalid("The request needs a non-empty 'inputs' array of tensors.");
                    }

                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        ReadTensor(ref reader, columns, hint: tensors);
                        tensors++;
                    }
                }
                else if (reader.ValueTextEquals("outputs"u8))
                {
                    outputs = ReadRequestedOutputs(ref reader, signature);
                }
                else
                {
                    reader.Skip();
                }
            }

            if (tensors == 0)
            {
                throw CairnException.Invalid("The request needs a non-empty 'inputs' array of tensors.");
            }

            EndOfBody(ref reader);
            var missing = columns.Missing();
            if (missing.Count > 0)
            {
                throw CairnException.Invalid($"The request lacks input(s): {string.Join(", ", missing)}.");
            }

            return (columns.Build(), id, outputs);
        }
        catch (JsonException e)
        {
            throw NotJson(e);
        }
    }

    /// <summary>Reads CSV with a header row (MLflow's text/csv input); numbers for the model's numeric inputs, text for the rest.</summary>
    public static Table ReadCsv(Stream body, ModelSignature signature)
    {
        using var reader = CsvReader.Open(body);
        var layout = InputLayout.Of(signature);
        var positions = Positions(reader.Header);
        var inputOf = positions.OrderBy(p => p.Value).Select(p => layout.IndexOf(p.Key)).ToArray();
        var columns = new RequestColumns(layout);
        while (reader.TryRead(out var fields))
        {
            var row = columns.BeginRow(out var tooMany);
            if (tooMany)
            {
                var count = row + 1;
                while (reader.TryRead(out _))
                {
                    count++;
                }

                throw RowCount(count);
            }

            for (var p = 0; p < inputOf.Length && p < fields.Length; p++)
            {
                if (inputOf[p] is var input and >= 0)
                {
                    // Cells stay text until here: a numeric input's text becomes a number by the rule training loads CSV with.
                    var cell = fields[p];
                    if (layout.Numeric[input])
                    {
                        columns.Numbers(input)[row] = MissingValues.IsMissing(cell) ? float.NaN : Table.ParseNumber(layout.Schemas[input], cell, row);
                    }
                    else
                    {
                        columns.Texts(input)[row] = MissingValues.IsMissing(cell) ? null : cell;
                    }

                    columns.Given(input);
                }
            }

            columns.EndRow();
        }

        return columns.Build();
    }

    // Rows of objects keyed by column, the reader on the array's start; leaves it on the array's end.
    private static void ReadRecords(ref Utf8JsonReader reader, RequestColumns columns)
    {
        var layout = columns.Layout;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            var row = columns.BeginRow(out var tooMany);
            if (tooMany)
            {
                throw TooManyRows(ref reader, columns.Rows);
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture, $"Row {row} is not a JSON object of column values."));
            }

            var next = 0;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                var input = layout.Find(ref reader, next);
                Next(ref reader);
                if (input < 0)
                {
                    reader.Skip();
                    continue;
                }

                ReadCell(ref reader, columns, input, row);
                next = input + 1;
            }

            columns.EndRow();
        }
    }

    // dataframe_split: {"columns": [names], "data": [[values], ...]} in either order (an "index" is ignored).
    private static void ReadSplit(ref Utf8JsonReader reader, RequestColumns columns)
    {
        const string Shape = "'dataframe_split' must be an object with 'columns' (an array of names) and 'data' (an array of rows).";
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw CairnException.Invalid(Shape);
        }

        int[]? inputOf = null;
        var rows = default(Utf8JsonReader);
        var hasData = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("columns"u8))
            {
                if (Next(ref reader) != JsonTokenType.StartArray)
                {
                    throw CairnException.Invalid(Shape);
                }

                var names = new List<string>();
                while (Next(ref reader) != JsonTokenType.EndArray)
                {
                    names.Add(reader.TokenType == JsonTokenType.String
                        ? reader.GetString()!
                        : throw CairnException.Invalid("'dataframe_split.columns' must hold column names as strings."));
                }

                inputOf = [.. Positions(names).OrderBy(p => p.Value).Select(p => columns.Layout.IndexOf(p.Key))];
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                if (Next(ref reader) != JsonTokenType.StartArray)
                {
                    throw CairnException.Invalid(Shape);
                }

                // Read once the columns are known, which may come after.
                rows = reader;
                hasData = true;
                reader.Skip();
            }
            else
            {
                reader.Skip();
            }
        }

        if (inputOf is null || !hasData)
        {
            throw CairnException.Invalid(Shape);
        }

        while (Next(ref rows) != JsonTokenType.EndArray)
        {
            var row = columns.BeginRow(out var tooMany);
            if (tooMany)
            {
                throw TooManyRows(ref rows, columns.Rows);
            }

            var position = 0;
            if (rows.TokenType == JsonTokenType.StartArray)
            {
                while (Next(ref rows) != JsonTokenType.EndArray && position < inputOf.Length)
                {
                    if (inputOf[position++] is var input and >= 0)
                    {
                        ReadCell(ref rows, columns, input, row);
                    }
                    else
                    {
                        rows.Skip();
                    }
                }
            }

            if (rows.TokenType != JsonTokenType.EndArray || position != inputOf.Length)
            {
                throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
                    $"Row {row} of 'dataframe_split.data' must be an array of {inputOf.Length} values, one per column."));
            }

            columns.EndRow();
        }
    }

    // MLflow's "inputs" as an object of column arrays, all of one length; the reader on the object's start, left on its end.
    private static void ReadColumnar(ref Utf8JsonReader reader, RequestColumns columns)
    {
        const string Shape = "Every column of 'inputs' must be an array, all of the same length.";
        var start = reader;
        var length = -1;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var count = Next(ref reader) == JsonTokenType.StartArray ? CountItems(ref reader) : -1;
            length = count >= 0 && (length < 0 || length == count) ? count : throw CairnException.Invalid(Shape);
        }

        if (length < 0)
        {
            throw CairnException.Invalid(Shape);
        }

        if (length is 0 or > MaxRows)
        {
            throw RowCount(length);
        }

        columns.SetRows(length);
        while (Next(ref start) == JsonTokenType.PropertyName)
        {
            var input = columns.Layout.Find(ref start, 0);
            Next(ref start);
            if (input < 0)
            {
                start.Skip();
                continue;
            }

            var row = 0;
            while (Next(ref start) != JsonTokenType.EndArray)
            {
                ReadCell(ref start, columns, input, row++);
            }

            columns.Given(input);
        }
    }

    // One tensor of an Open Inference Protocol request into its input's column: its keys come in any order, so the
    // shape and data are read once the name and datatype are known. The reader is on the tensor's start, left on its end.
    private static void ReadTensor(ref Utf8JsonReader reader, RequestColumns columns, int hint)
    {
        string? name = null;
        var index = -1;
        string? datatype = null;
        var shape = default(Utf8JsonReader);
        var data = default(Utf8JsonReader);
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                // Names and datatypes are matched as UTF-8 against the model's and the protocol's own strings: no string per request.
                if (reader.ValueTextEquals("name"u8))
                {
                    if (Next(ref reader) == JsonTokenType.String)
                    {
                        index = columns.Layout.Find(ref reader, hint);
                        name = index >= 0 ? columns.Layout.Inputs[index].Name : reader.GetString();
                    }
                }
                else if (reader.ValueTextEquals("datatype"u8))
                {
                    datatype = Next(ref reader) == JsonTokenType.String ? KnownDatatype(ref reader) : null;
                }
                else if (reader.ValueTextEquals("shape"u8) || reader.ValueTextEquals("data"u8))
                {
                    var isShape = reader.ValueTextEquals("shape"u8);
                    Next(ref reader);
                    if (isShape)
                    {
                        shape = reader;
                    }
                    else
                    {
                        data = reader;
                    }
                }

                reader.Skip();
            }
        }
        else
        {
            reader.Skip();
        }

        if (name is null)
        {
            throw CairnException.Invalid("Every input tensor needs a string 'name'.");
        }

        var layout = columns.Layout;
        if (index < 0)
        {
            throw CairnException.Invalid($"Input '{name}' is not an input of this model; its inputs are: {string.Join(", ", layout.Inputs.Select(i => i.Name))}.");
        }

        if (columns.IsGiven(index))
        {
            throw CairnException.Invalid($"Input '{name}' appears more than once.");
        }

        if (datatype is null)
        {
            throw CairnException.Invalid($"Input '{name}' needs a string 'datatype' (such as FP32 or BYTES).");
        }

        var dimsReader = shape;
        if (dimsReader.TokenType != JsonTokenType.StartArray)
        {
            throw CairnException.Invalid($"Input '{name}' needs a 'shape' of [rows] or [rows, 1].");
        }

        // A shape has one or two entries; a third is read only to be refused.
        Span<long> dims = stackalloc long[3];
        var rank = 0;
        while (Next(ref dimsReader) != JsonTokenType.EndArray)
        {
            var d = dimsReader.TokenType == JsonTokenType.Number && dimsReader.TryGetInt64(out var value)
                ? value
                : throw CairnException.Invalid($"Input '{name}' has a shape entry that is not an integer.");
            dims[Math.Min(rank++, 2)] = d;
        }

        var rows = RowsOf(dims[..Math.Min(rank, 3)], name);
        var values = data;
        if (values.TokenType != JsonTokenType.StartArray)
        {
            throw CairnException.Invalid($"Input '{name}' needs a 'data' array.");
        }

        // The protocol allows the data nested by shape or flattened in row-major order; counted before anything is read.
        var counting = values;
        var count = CountValues(ref counting);
        if (count != rows)
        {
            throw CairnException.Invalid($"Input '{name}' has {count} values, but its shape [{string.Join(", ", dims[..rank].ToArray())}] needs {rows}.");
        }

        if (columns.Rows != 0 && columns.Rows != rows)
        {
            throw CairnException.Invalid($"Input '{name}' has {rows} rows, but earlier inputs have {columns.Rows}; every input needs the same first dimension.");
        }

        var input = layout.Inputs[index];
        var range = default((double Min, double Max, bool Integer));
        if (input.TensorType == TensorType.Bytes ? datatype != "BYTES" : !NumericRanges.TryGetValue(datatype, out range))
        {
            throw WrongDatatype(input, datatype);
        }

        columns.SetRows(rows);
        var at = 0;
        FillTensor(ref values, columns, index, datatype, range, ref at);
        columns.Given(index);
    }

    // The scalar values in a nested array, in row-major order; the reader on the array's start.
    private static int CountValues(ref Utf8JsonReader reader)
    {
        var count = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                count += CountValues(ref reader);
            }
            else
            {
                reader.Skip();
                count++;
            }
        }

        return count;
    }

    // The items of an array (whatever they are); the reader on its start, left on its end.
    private static int CountItems(ref Utf8JsonReader reader)
    {
        var count = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            reader.Skip();
            count++;
        }

        return count;
    }

    // Reads a tensor's nested data array in row-major order into its column.
    private static void FillTensor(ref Utf8JsonReader reader, RequestColumns columns, int input, string datatype,
        (double Min, double Max, bool Integer) range, ref int at)
    {
        var name = columns.Layout.Inputs[input].Name;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                FillTensor(ref reader, columns, input, datatype, range, ref at);
            }
            else if (datatype == "BYTES")
            {
                columns.Texts(input)[at++] = ReadText(ref reader, columns.Layout, input, null);
            }
            else
            {
                columns.Numbers(input)[at] = ReadTyped(ref reader, datatype, range, name, at);
                at++;
            }
        }
    }

    private static List<string> ReadRequestedOutputs(ref Utf8JsonReader reader, ModelSignature signature)
    {
        if (Next(ref reader) != JsonTokenType.StartArray)
        {
            throw CairnException.Invalid("'outputs' must be an array.");
        }

        var names = new List<string>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            string? name = null;
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8) && Next(ref reader) == JsonTokenType.String)
                    {
                        name = reader.GetString();
                    }

                    reader.Skip();
                }
            }

            if (name is null)
            {
                throw CairnException.Invalid("Every requested output needs a string 'name'.");
            }

            names.Add(signature.Outputs.Any(o => o.Name == name)
                ? name
                : throw CairnException.Invalid($"Output '{name}' is not an output of this model; its outputs are: {string.Join(", ", signature.Outputs.Select(o => o.Name))}."));
        }

        return names;
    }

    // One cell of a row into its input's column.
    private static void ReadCell(ref Utf8JsonReader reader, RequestColumns columns, int input, int row)
    {
        if (columns.Layout.Numeric[input])
        {
            columns.Numbers(input)[row] = ReadNumber(ref reader, columns.Layout, input, row);
        }
        else
        {
            columns.Texts(input)[row] = ReadText(ref reader, columns.Layout, input, row);
        }

        columns.Given(input);
    }

    // The protocol's numeric datatypes and the values each may hold; BOOL holds true and false only.
    // The protocol's datatype names, matched without a string per request; an unknown one is read as a string to be named in the error.
    private static string KnownDatatype(ref Utf8JsonReader reader)
    {
        foreach (var known in Datatypes)
        {
            if (reader.ValueTextEquals(known))
            {
                return known;
            }
        }

        return reader.GetString()!;
    }

    private static readonly string[] Datatypes = ["FP32", "BYTES", "FP64", "INT64", "INT32", "BOOL", "INT8", "INT16", "UINT8", "UINT16", "UINT32", "UINT64", "FP16"];

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
    private static float ReadTyped(ref Utf8JsonReader value, string datatype, (double Min, double Max, bool Integer) range, string name, int index)
    {
        if (datatype == "BOOL")
        {
            return value.TokenType switch
            {
                JsonTokenType.True => 1f,
                JsonTokenType.False => 0f,
                _ => throw CairnException.Invalid($"Input '{name}' is BOOL, but value {index} is {Describe(ref value)}; send true or false."),
            };
        }

        if (value.TokenType == JsonTokenType.Null && !range.Integer)
        {
            return float.NaN;
        }

        if (value.TokenType != JsonTokenType.Number || !value.TryGetDouble(out var number))
        {
            throw CairnException.Invalid($"Input '{name}' is {datatype}, but value {index} is {Describe(ref value)}.");
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
    internal static int RowsOf(IReadOnlyList<long> dims, string name) => RowsOf(dims.Take(3).ToArray().AsSpan(), name);

    /// <summary>The rows of an input tensor's shape: [rows] or [rows, 1], with 1 to <see cref="MaxRows"/> rows; more than two entries are refused.</summary>
    internal static int RowsOf(ReadOnlySpan<long> dims, string name)
    {
        if (dims.Length is 0 or > 2 || dims[0] < 0 || (dims.Length == 2 && dims[1] < 0))
        {
            throw CairnException.Invalid($"Input '{name}' needs a 'shape' of [rows] or [rows, 1] with non-negative sizes.");
        }

        if (dims.Length == 2 && dims[1] != 1)
        {
            throw CairnException.Invalid($"Input '{name}' has shape [{dims[0]}, {dims[1]}]; each input is one column, so use [rows] or [rows, 1].");
        }

        return dims[0] is 0 or > MaxRows
            ? throw CairnException.Invalid($"Input '{name}' has {dims[0]} rows; send between 1 and {MaxRows}.")
            : (int)dims[0];
    }

    /// <summary>The error for a tensor whose datatype does not suit the model's input.</summary>
    internal static CairnException WrongDatatype(SignatureInput input, string datatype) => CairnException.Invalid(input.TensorType == TensorType.Bytes
        ? $"Input '{input.Name}' is {input.Type.ToString().ToLowerInvariant()}; send it as BYTES, not {datatype}."
        : $"Input '{input.Name}' is {input.Type.ToString().ToLowerInvariant()}; send it as FP32, FP64, an integer type or BOOL, not {datatype}.");

    // A cell of a numeric input: a number, null (missing), a boolean, or text parsed as training parses CSV.
    private static float ReadNumber(ref Utf8JsonReader value, InputLayout layout, int input, int row)
    {
        switch (value.TokenType)
        {
            case JsonTokenType.Number:
                return value.TryGetSingle(out var number)
                    ? number
                    : throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
                        $"Row {row}, column '{layout.Inputs[input].Name}' must be a number a 32-bit float can hold, not {Encoding.UTF8.GetString(Raw(ref value))}."));
            case JsonTokenType.Null:
                return float.NaN;
            case JsonTokenType.True:
                return 1f;
            case JsonTokenType.False:
                return 0f;
            case JsonTokenType.String:
                var text = value.GetString()!;
                return MissingValues.IsMissing(text) ? float.NaN : Table.ParseNumber(layout.Schemas[input], text, row);
            default:
                throw CairnException.Invalid($"{Where(row)}column '{layout.Inputs[input].Name}' must be a number, not {Describe(ref value)}.");
        }
    }

    // A cell of a text input: a known category as the model's own string, missing as null, numbers and booleans as written.
    private static string? ReadText(ref Utf8JsonReader value, InputLayout layout, int input, int? row)
    {
        switch (value.TokenType)
        {
            case JsonTokenType.String:
                if (layout.Known(ref value, input) is { } known)
                {
                    return known;
                }

                var text = value.GetString();
                return MissingValues.IsMissing(text) ? null : text;
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False:
                return Encoding.UTF8.GetString(Raw(ref value));
            default:
                throw CairnException.Invalid($"{Where(row)}column '{layout.Inputs[input].Name}' must be a string, not {Describe(ref value)}.");
        }
    }

    private static ReadOnlySpan<byte> Raw(ref Utf8JsonReader value) => value.HasValueSequence ? value.ValueSequence.ToArray() : value.ValueSpan;

    private static string Where(int? row) => row is { } r ? string.Create(CultureInfo.InvariantCulture, $"Row {r}, ") : string.Empty;

    private static string Describe(ref Utf8JsonReader value) => value.TokenType switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => $"the number {Encoding.UTF8.GetString(Raw(ref value))}",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => "null",
    };

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

    // The next token; the body's end before the document's is malformed JSON.
    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("The body ends before its JSON does.");

    // Anything after the root value is refused (the reader throws on it).
    private static void EndOfBody(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new JsonException("The body holds more than one JSON value.");
        }
    }

    // The count of a request with too many rows, for the error: the rest are counted, not read.
    private static CairnException TooManyRows(ref Utf8JsonReader reader, int read)
    {
        var count = read;
        do
        {
            reader.Skip();
            count++;
        }
        while (Next(ref reader) != JsonTokenType.EndArray);

        return RowCount(count);
    }

    private static CairnException RowCount(int count) =>
        CairnException.Invalid(string.Create(CultureInfo.InvariantCulture, $"Send between 1 and {MaxRows} rows, not {count}."));

    private static CairnException NotJson(JsonException e) => CairnException.Invalid($"The request body is not valid JSON: {e.Message}");

    /// <summary>What reading a request needs to know of a model's inputs, worked out once per signature.</summary>
    private sealed class InputLayout
    {
        private static readonly ConditionalWeakTable<ModelSignature, InputLayout> Layouts = [];

        private readonly byte[][] _names;
        private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>>?[] _categories;

        private InputLayout(ModelSignature signature)
        {
            Inputs = [.. signature.Inputs];
            _names = [.. Inputs.Select(i => Encoding.UTF8.GetBytes(i.Name))];
            Numeric = [.. Inputs.Select(i => i.TensorType == TensorType.Fp32)];
            Schemas = [.. Inputs.Select(i => new ColumnSchema(i.Name, i.Type, true, 0, 0))];
            _categories = [.. Inputs.Select(i => i.Categories is { Count: > 0 } levels
                ? levels.Distinct(StringComparer.Ordinal).ToDictionary(l => l, l => l, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>()
                : (Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>>?)null)];
        }

        public SignatureInput[] Inputs { get; }

        public bool[] Numeric { get; }

        /// <summary>Each input as a column, for parsing numbers sent as text.</summary>
        public ColumnSchema[] Schemas { get; }

        public static InputLayout Of(ModelSignature signature) => Layouts.GetValue(signature, s => new InputLayout(s));

        public int IndexOf(string name)
        {
            for (var i = 0; i < Inputs.Length; i++)
            {
                if (Inputs[i].Name == name)
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>The input the reader's property names, or -1; <paramref name="hint"/> is tried first, since rows tend to list inputs in order.</summary>
        public int Find(ref Utf8JsonReader reader, int hint)
        {
            if (hint < _names.Length && reader.ValueTextEquals(_names[hint]))
            {
                return hint;
            }

            for (var i = 0; i < _names.Length; i++)
            {
                if (i != hint && reader.ValueTextEquals(_names[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>The model's own string for the reader's string value when it is one of the input's categories.</summary>
        public string? Known(ref Utf8JsonReader reader, int input)
        {
            if (_categories[input] is not { } lookup || reader.HasValueSequence || reader.ValueIsEscaped || reader.ValueSpan.Length > 128)
            {
                return null;
            }

            Span<char> chars = stackalloc char[128];
            var written = Encoding.UTF8.GetChars(reader.ValueSpan, chars);
            return lookup.TryGetValue(chars[..written], out var known) ? known : null;
        }
    }

    /// <summary>
    /// The model's input columns as a request is read: row by row (growing) or column by column (sized by the first),
    /// with a note of which inputs each row gave.
    /// </summary>
    private sealed class RequestColumns(InputLayout layout)
    {
        private readonly float[]?[] _numbers = new float[]?[layout.Inputs.Length];
        private readonly string?[]?[] _texts = new string?[]?[layout.Inputs.Length];
        // The last row (plus one) that gave each input; column by column, 1 once given.
        private readonly int[] _given = new int[layout.Inputs.Length];
        private int _capacity;

        public InputLayout Layout { get; } = layout;

        /// <summary>Rows read so far (row by row), or every column's length (column by column).</summary>
        public int Rows { get; private set; }

        public float[] Numbers(int input) => _numbers[input]!;

        public string?[] Texts(int input) => _texts[input]!;

        /// <summary>Starts a row; <paramref name="tooMany"/> when it would pass <see cref="MaxRows"/>.</summary>
        public int BeginRow(out bool tooMany)
        {
            tooMany = Rows == MaxRows;
            if (!tooMany && Rows == _capacity)
            {
                Grow(Math.Min(MaxRows, Math.Max(1, _capacity * 2)));
            }

            return Rows;
        }

        public void Given(int input) => _given[input] = Rows + 1;

        public bool IsGiven(int input) => _given[input] != 0;

        /// <summary>Ends a row, which must have given every input.</summary>
        public void EndRow()
        {
            for (var i = 0; i < _given.Length; i++)
            {
                if (_given[i] != Rows + 1)
                {
                    throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
                        $"Row {Rows} lacks column '{Layout.Inputs[i].Name}'; send null for a missing value."));
                }
            }

            Rows++;
        }

        /// <summary>Column by column: every column has <paramref name="rows"/> rows.</summary>
        public void SetRows(int rows)
        {
            if (_capacity == 0)
            {
                Grow(rows);
            }

            Rows = rows;
        }

        /// <summary>Column by column: the inputs no column was given for.</summary>
        public List<string> Missing() => [.. Layout.Inputs.Where((_, i) => _given[i] == 0).Select(i => i.Name)];

        public Table Build()
        {
            if (Rows is 0 or > MaxRows)
            {
                throw RowCount(Rows);
            }

            var columns = new TableColumn[_given.Length];
            for (var i = 0; i < columns.Length; i++)
            {
                if (_given[i] == 0)
                {
                    throw CairnException.Invalid($"Row 0 lacks column '{Layout.Inputs[i].Name}'; send null for a missing value.");
                }

                columns[i] = Layout.Numeric[i]
                    ? new NumericColumn(Layout.Inputs[i].Name, _capacity == Rows ? _numbers[i]! : _numbers[i]![..Rows])
                    : new StringColumn(Layout.Inputs[i].Name, _capacity == Rows ? _texts[i]! : _texts[i]![..Rows]);
            }

            return new Table(columns, Rows);
        }

        private void Grow(int capacity)
        {
            for (var i = 0; i < _given.Length; i++)
            {
                if (Layout.Numeric[i])
                {
                    Array.Resize(ref _numbers[i], capacity);
                }
                else
                {
                    Array.Resize(ref _texts[i], capacity);
                }
            }

            _capacity = capacity;
        }
    }
}
