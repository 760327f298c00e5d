namespace Cairn.Core.Data;

/// <summary>The kinds of column Cairn infers from data.</summary>
public enum ColumnType
{
    /// <summary>Numbers (integers or reals).</summary>
    Numeric,

    /// <summary>true/false values.</summary>
    Boolean,

    /// <summary>A small set of repeated labels.</summary>
    Categorical,

    /// <summary>Free text.</summary>
    Text,

    /// <summary>Dates or timestamps in ISO 8601.</summary>
    DateTime,
}

/// <summary>What a column is for, as inferred from its name and values; training and monitoring read it as a default.</summary>
public enum ColumnRole
{
    /// <summary>An input to a model.</summary>
    Feature,

    /// <summary>What a model predicts (named label, target, class, y or outcome).</summary>
    Label,

    /// <summary>Identifies a row: named like an id and never repeated or missing.</summary>
    Id,

    /// <summary>When the row happened: a date-time column.</summary>
    Timestamp,
}

/// <summary>One column of an inferred schema.</summary>
/// <param name="Name">The header name.</param>
/// <param name="Type">The inferred type.</param>
/// <param name="Nullable">Whether any value is missing.</param>
/// <param name="MissingCount">How many values are missing.</param>
/// <param name="DistinctCount">How many distinct non-missing values: exact up to a few thousand, a HyperLogLog estimate (±1.6%) beyond.</param>
/// <param name="Categories">The sorted levels of a categorical column; null for other types.</param>
public sealed record ColumnSchema(
    string Name,
    ColumnType Type,
    bool Nullable,
    long MissingCount,
    long DistinctCount,
    IReadOnlyList<string>? Categories = null)
{
    /// <summary>What the column is for.</summary>
    public ColumnRole Role { get; init; }
}

/// <summary>The inferred schema of a table: its columns in file order.</summary>
public sealed record TableSchema(IReadOnlyList<ColumnSchema> Columns)
{
    /// <summary>Finds a column by exact name.</summary>
    public ColumnSchema? Find(string name) => Columns.FirstOrDefault(c => c.Name == name);
}
