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
}
