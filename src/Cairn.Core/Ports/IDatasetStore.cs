using Cairn.Core.Data;
using Cairn.Core.Identity;

namespace Cairn.Core.Ports;

/// <summary>A dataset version about to be recorded; the store assigns its number and its parent (the latest version before it).</summary>
public sealed record NewDatasetVersion(string Name, ContentHash ContentHash, long SizeBytes, long RowCount, string Source, TableSchema Schema)
{
    /// <summary>What changed.</summary>
    public string? Message { get; init; }

    /// <summary>Its first tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>One file or a folder.</summary>
    public DatasetFormat Format { get; init; }
}


/// <summary>Dataset versions with their profiles and validations. Each write is one transaction that records its audit event.</summary>
public interface IDatasetStore
{
    /// <summary>Records a dataset version, or returns the existing one with the same content (then <c>Created</c> is false).</summary>
    Task<(DatasetVersion Version, bool Created)> AddDatasetVersionAsync(NewDatasetVersion version, string actor, CancellationToken cancellationToken);


    /// <summary>The version of a dataset with the given content, if it has one.</summary>
    Task<DatasetVersion?> FindDatasetVersionAsync(string name, ContentHash contentHash, CancellationToken cancellationToken);


    /// <summary>A dataset version; the latest when <paramref name="version"/> is null.</summary>
    Task<DatasetVersion?> GetDatasetVersionAsync(string name, int? version, CancellationToken cancellationToken);


    /// <summary>Every dataset, by name.</summary>
    Task<IReadOnlyList<DatasetSummary>> ListDatasetsAsync(Visibility? visibleTo, CancellationToken cancellationToken);


    /// <summary>A dataset's versions, newest first.</summary>
    Task<IReadOnlyList<DatasetVersion>> ListDatasetVersionsAsync(string name, CancellationToken cancellationToken);


    /// <summary>Records the artifact holding a version's profile.</summary>
    Task SetDatasetProfileAsync(string name, int version, ContentHash profile, string actor, CancellationToken cancellationToken);


    /// <summary>Records the result of validating a version against a contract; returns it as stored (with its time and author).</summary>
    Task<ValidationReport> AddDatasetValidationAsync(ValidationReport report, string actor, CancellationToken cancellationToken);


    /// <summary>A version's validations, newest first.</summary>
    Task<IReadOnlyList<ValidationReport>> ListDatasetValidationsAsync(string name, int version, CancellationToken cancellationToken);

}
