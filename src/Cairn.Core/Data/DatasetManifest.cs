using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.Core.Data;

/// <summary>What a dataset version holds: one table file, or a folder of them.</summary>
public enum DatasetFormat
{
    /// <summary>One CSV file; the version's hash is the file's.</summary>
    Csv,

    /// <summary>A folder of CSV and Parquet files with one header; the version's hash is its manifest's.</summary>
    Folder,

    /// <summary>One Parquet file; the version's hash is the file's.</summary>
    Parquet,
}

/// <summary>One file of a folder version.</summary>
/// <param name="Path">Its path inside the folder, with '/' separators.</param>
/// <param name="SizeBytes">Its size.</param>
/// <param name="ContentHash">Its SHA-256, which is also its artifact address.</param>
public sealed record ManifestEntry(string Path, long SizeBytes, ContentHash ContentHash);

/// <summary>
/// The files of a folder version, sorted by path. Its canonical JSON is stored as an artifact, and that JSON's hash is
/// the version's content hash: two folders with the same files at the same paths are the same version.
/// </summary>
public sealed record DatasetManifest(IReadOnlyList<ManifestEntry> Files)
{
    /// <summary>A manifest of <paramref name="files"/> in path order.</summary>
    public static DatasetManifest Of(IEnumerable<ManifestEntry> files) => new([.. files.OrderBy(f => f.Path, StringComparer.Ordinal)]);

    /// <summary>The canonical bytes: compact JSON of the sorted entries.</summary>
    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, CairnJson.Compact.DatasetManifest);

    /// <summary>The hash of <see cref="ToBytes"/>: the folder version's content hash.</summary>
    [JsonIgnore]
    public ContentHash Hash => ContentHash.Of(ToBytes());

    /// <summary>Reads stored manifest bytes.</summary>
    public static DatasetManifest Parse(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, CairnJson.Compact.DatasetManifest) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new CairnException(ErrorCode.Corrupt, "A stored dataset manifest is not readable.", e);
        }
    }
}

/// <summary>Which files are tables, by name.</summary>
public static class TableFiles
{
    /// <summary>Whether <paramref name="path"/> names a Parquet file (.parquet).</summary>
    public static bool IsParquet(string path) => path?.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ?? false;

    /// <summary>Whether <paramref name="path"/> names a table file Cairn reads (.csv or .parquet).</summary>
    public static bool IsTable(string path) => IsParquet(path) || (path?.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ?? false);
}
