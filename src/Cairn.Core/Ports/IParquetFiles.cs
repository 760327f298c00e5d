using Cairn.Core.Data;

namespace Cairn.Core.Ports;

/// <summary>Reads Parquet files as tables; the adapter that implements it owns the Parquet library.</summary>
public interface IParquetFiles
{
    /// <summary>
    /// Opens a Parquet file (the stream must be seekable) as records whose fields are the values as UTF-8 text —
    /// numbers in round-trip form, booleans as true/false, times in ISO 8601, nulls empty — so schema inference,
    /// profiles and contracts treat it as they treat CSV. Nested columns are rejected.
    /// </summary>
    IRecordReader Open(Stream file);

    /// <summary>
    /// Starts a Parquet file of the given columns on <paramref name="file"/>; each <see cref="IParquetWriter.WriteRowGroup"/>
    /// adds a row group, and disposing the writer finishes and closes the file. Numeric columns are nullable doubles, the others nullable UTF-8 strings.
    /// </summary>
    IParquetWriter Create(Stream file, IReadOnlyList<ParquetColumn> columns);
}

/// <summary>A column of a Parquet file being written.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Numeric">True for a double column, false for a string column.</param>
public sealed record ParquetColumn(string Name, bool Numeric);

/// <summary>Writes a Parquet file a row group at a time; disposing it finishes the file.</summary>
public interface IParquetWriter : IDisposable
{
    /// <summary>Adds a row group: one array per column, <c>double?[]</c> for numeric columns and <c>string?[]</c> for the others, all of one length.</summary>
    void WriteRowGroup(IReadOnlyList<Array> columns);
}
