namespace Cairn.Core.Data;

/// <summary>An immutable snapshot of a table, identified by its content.</summary>
/// <param name="Name">The dataset's name.</param>
/// <param name="Version">The version number within the dataset, from 1.</param>
/// <param name="ContentHash">The SHA-256 of the file's bytes (of a folder's manifest); also its artifact address.</param>
/// <param name="SizeBytes">The file size.</param>
/// <param name="RowCount">Data rows, not counting the header.</param>
/// <param name="Source">Where the file came from (its file name).</param>
/// <param name="Schema">The inferred schema.</param>
/// <param name="CreatedAt">When the version was recorded.</param>
public sealed record DatasetVersion(
    string Name,
    int Version,
    ContentHash ContentHash,
    long SizeBytes,
    long RowCount,
    string Source,
    TableSchema Schema,
    DateTimeOffset CreatedAt)
{
    /// <summary>The version that was the dataset's latest when this one was added: its lineage; null for the first.</summary>
    public int? ParentVersion { get; init; }

    /// <summary>What changed, in the words of whoever added it.</summary>
    public string? Message { get; init; }

    /// <summary>Its tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>One file, or a folder of files listed by a manifest (whose artifact is <see cref="ContentHash"/>).</summary>
    public DatasetFormat Format { get; init; }

    /// <summary>The artifact holding its profile, once profiled.</summary>
    public ContentHash? ProfileHash { get; init; }

    /// <summary>The reference people type: <c>name@version</c>.</summary>
    public string Reference => $"{Name}@{Version}";
}

/// <summary>A dataset and a summary of its versions.</summary>
public sealed record DatasetSummary(string Name, int LatestVersion, int VersionCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A reference to a dataset version: <c>name</c> (the latest) or <c>name@version</c>.</summary>
public sealed record DatasetRef(string Name, int? Version)
{
    /// <summary>Parses <c>name</c> or <c>name@N</c>.</summary>
    public static DatasetRef Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.LastIndexOf('@');
        if (at < 0)
        {
            return new DatasetRef(Names.Validate(text, "dataset"), null);
        }

        var name = Names.Validate(text[..at], "dataset");
        return VersionNumber.TryParse(text[(at + 1)..], out var version)
            ? new DatasetRef(name, version)
            : throw CairnException.Invalid($"'{text}' is not a dataset reference: use NAME or NAME@VERSION with a positive version number.");
    }

    /// <inheritdoc />
    public override string ToString() => Version is { } v ? $"{Name}@{v}" : Name;
}
