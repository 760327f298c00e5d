namespace Cairn.Core.Data;

/// <summary>One typed column of an in-memory <see cref="Table"/>.</summary>
public abstract class TableColumn(string name)
{
    /// <summary>The column name.</summary>
    public string Name { get; } = name;

    /// <summary>The number of rows.</summary>
    public abstract int Length { get; }
}

/// <summary>A numeric (or boolean, as 0/1) column; a missing value is NaN.</summary>
public sealed class NumericColumn(string name, float[] values) : TableColumn(name)
{
    /// <summary>The values, NaN where missing.</summary>
    public float[] Values { get; } = values;

    /// <inheritdoc />
    public override int Length => Values.Length;
}

/// <summary>A text-valued column (categorical, text or date-time); a missing value is null.</summary>
public sealed class StringColumn(string name, string?[] values) : TableColumn(name)
{
    /// <summary>The values, null where missing.</summary>
    public string?[] Values { get; } = values;

    /// <inheritdoc />
    public override int Length => Values.Length;
}

/// <summary>A columnar, in-memory table: what trainers read and models score.</summary>
public sealed class Table
{
    // Narrow tables (a request's dozen inputs) are searched in order: cheaper than building a dictionary per request.
    private const int SearchedInOrder = 16;
    private readonly Dictionary<string, TableColumn>? _byName;

    /// <summary>Creates a table; every column must have <paramref name="rowCount"/> rows and a name of its own.</summary>
    public Table(IReadOnlyList<TableColumn> columns, int rowCount)
    {
        ArgumentNullException.ThrowIfNull(columns);
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i].Length != rowCount)
            {
                throw new ArgumentException("Every column must have the table's row count.", nameof(columns));
            }
        }

        Columns = columns;
        RowCount = rowCount;
        if (columns.Count > SearchedInOrder)
        {
            _byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
            return;
        }

        for (var i = 1; i < columns.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(columns[i].Name, columns[j].Name, StringComparison.Ordinal))
                {
                    throw new ArgumentException($"An item with the same key has already been added. Key: {columns[i].Name}", nameof(columns));
                }
            }
        }
    }

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>The number of rows.</summary>
    public int RowCount { get; }

    /// <summary>The column called <paramref name="name"/>.</summary>
    public TableColumn this[string name] =>
        Find(name) ?? throw CairnException.Invalid($"The table has no column '{name}'.");

    /// <summary>Whether a column called <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => Find(name) is not null;

    private TableColumn? Find(string name)
    {
        if (_byName is not null)
        {
            return _byName.GetValueOrDefault(name);
        }

        for (var i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i].Name, name, StringComparison.Ordinal))
            {
                return Columns[i];
            }
        }

        return null;
    }

    /// <summary>Reads CSV records into typed columns following <paramref name="schema"/>: numbers and booleans become floats, the rest strings.</summary>
    public static Table Load(IRecordReader reader, TableSchema schema) => LoadChunk(reader, schema, int.MaxValue);

    /// <summary>
    /// The next <paramref name="maxRows"/> records of <paramref name="reader"/> (fewer at its end, none past it), typed by
    /// <paramref name="schema"/>; with <paramref name="fields"/>, each record's fields as they were written are kept too.
    /// </summary>
    public static Table LoadChunk(IRecordReader reader, TableSchema schema, int maxRows, List<string[]>? fields = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(schema);
        var columns = schema.Columns;
        var numeric = columns.Select(c => c.Type is ColumnType.Numeric or ColumnType.Boolean ? new List<float>() : null).ToArray();
        var text = columns.Select(c => c.Type is ColumnType.Numeric or ColumnType.Boolean ? null : new List<string?>()).ToArray();
        var rows = 0;
        while (rows < maxRows && reader.TryRead())
        {
            rows++;
            fields?.Add([.. Enumerable.Range(0, columns.Count).Select(reader.GetString)]);
            for (var i = 0; i < columns.Count; i++)
            {
                var raw = reader.Field(i);
                var missing = MissingValues.IsMissing(raw);
                if (numeric[i] is { } numbers)
                {
                    numbers.Add(missing ? float.NaN : ParseNumber(columns[i], raw, reader.RecordCount));
                }
                else
                {
                    text[i]!.Add(missing ? null : reader.GetString(i));
                }
            }
        }

        TableColumn[] built = [.. columns.Select((c, i) => numeric[i] is { } n
            ? (TableColumn)new NumericColumn(c.Name, [.. n])
            : new StringColumn(c.Name, [.. text[i]!]))];
        return new Table(built, rows);
    }

    /// <summary>Converts one cell of a numeric or boolean column; a value that does not fit the schema names its row and column.</summary>
    public static float ParseNumber(ColumnSchema column, ReadOnlySpan<byte> raw, long row)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (column.Type == ColumnType.Boolean && SchemaInference.TryParseBoolean(raw, out var flag))
        {
            return flag ? 1f : 0f;
        }

        if (column.Type == ColumnType.Numeric && SchemaInference.TryParseNumber(raw, out var number))
        {
            return (float)number;
        }

        throw CairnException.Invalid($"Row {row}, column '{column.Name}': '{System.Text.Encoding.UTF8.GetString(raw)}' is not a {column.Type.ToString().ToLowerInvariant()} value.");
    }

    /// <summary>The same for a cell already read as text.</summary>
    public static float ParseNumber(ColumnSchema column, string raw, long row) =>
        ParseNumber(column, System.Text.Encoding.UTF8.GetBytes(raw), row);

    /// <summary>A new table with the given rows, in the given order.</summary>
    public Table Take(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        TableColumn[] taken = [.. Columns.Select(c => c switch
        {
            NumericColumn n => (TableColumn)new NumericColumn(c.Name, [.. rows.Select(r => n.Values[r])]),
            StringColumn s => new StringColumn(c.Name, [.. rows.Select(r => s.Values[r])]),
            _ => throw new InvalidOperationException($"Unknown column kind {c.GetType().Name}."),
        })];
        return new Table(taken, rows.Count);
    }

    /// <summary>One table holding the rows of <paramref name="parts"/> one after another; they must have the same columns in the same order.</summary>
    public static Table Concat(IReadOnlyList<Table> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 1)
        {
            return parts[0];
        }

        var rows = parts.Sum(p => p.RowCount);
        var columns = new TableColumn[parts[0].Columns.Count];
        for (var c = 0; c < columns.Length; c++)
        {
            var first = parts[0].Columns[c];
            columns[c] = first switch
            {
                NumericColumn => new NumericColumn(first.Name, Join<float>(parts, c, rows, column => ((NumericColumn)column).Values)),
                StringColumn => new StringColumn(first.Name, Join<string?>(parts, c, rows, column => ((StringColumn)column).Values)),
                _ => throw new InvalidOperationException($"Unknown column kind {first.GetType().Name}."),
            };
        }

        return new Table(columns, rows);
    }

    private static T[] Join<T>(IReadOnlyList<Table> parts, int column, int rows, Func<TableColumn, T[]> values)
    {
        var joined = new T[rows];
        var at = 0;
        foreach (var part in parts)
        {
            values(part[parts[0].Columns[column].Name]).CopyTo(joined, at);
            at += part.RowCount;
        }

        return joined;
    }
}
