using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>Adds, finds and loads dataset versions.</summary>
public sealed class DatasetService(IMetadataStore store, IArtifactStore artifacts, Actor actor)
{
    /// <summary>
    /// Reads and validates a CSV file, infers its schema and records it as a new version of <paramref name="name"/>;
    /// identical content returns the existing version. Nothing is recorded unless the whole file parses.
    /// </summary>
    public async Task<(DatasetVersion Version, bool Created)> AddAsync(string path, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        Names.Validate(name, "dataset");
        if (!File.Exists(path))
        {
            throw CairnException.NotFound(Directory.Exists(path) ? $"'{path}' is a folder; give a CSV file." : $"File '{path}' does not exist.");
        }

        // One pass parses and hashes the same bytes; the artifact store hashes its copy again, so a file that changes in between is caught.
        TableSchema schema;
        long rows;
        ContentHash parsedHash;
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 128 * 1024, FileOptions.SequentialScan))
        using (var hashing = new HashingReadStream(file, leaveOpen: true))
        {
            using var reader = CsvReader.Open(hashing);
            (schema, rows) = SchemaInference.Infer(reader, cancellationToken);
            parsedHash = hashing.Finish();
        }

        StoredArtifact stored;
        await using (var file = File.OpenRead(path))
        {
            stored = await artifacts.PutAsync(file, cancellationToken).ConfigureAwait(false);
        }

        if (stored.ContentHash != parsedHash)
        {
            throw new CairnException(ErrorCode.Conflict, $"'{path}' changed while it was being added; try again.");
        }

        return await store.AddDatasetVersionAsync(
            new NewDatasetVersion(name, stored.ContentHash, stored.SizeBytes, rows, Path.GetFileName(path), schema), actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The version a reference names; the latest when it names none.</summary>
    public async Task<DatasetVersion> GetAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return await store.GetDatasetVersionAsync(reference.Name, reference.Version, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound(reference.Version is null
                ? $"There is no dataset '{reference.Name}'. Add one with: cairn datasets add FILE --name {reference.Name}"
                : $"Dataset '{reference.Name}' has no version {reference.Version}.");
    }

    /// <summary>Every dataset.</summary>
    public Task<IReadOnlyList<DatasetSummary>> ListAsync(CancellationToken cancellationToken) => store.ListDatasetsAsync(cancellationToken);

    /// <summary>A dataset's versions, newest first.</summary>
    public async Task<IReadOnlyList<DatasetVersion>> ListVersionsAsync(string name, CancellationToken cancellationToken)
    {
        var versions = await store.ListDatasetVersionsAsync(name, cancellationToken).ConfigureAwait(false);
        return versions.Count > 0 ? versions : throw CairnException.NotFound($"There is no dataset '{name}'.");
    }

    /// <summary>Loads a version's rows from the artifact store, verifying its content hash.</summary>
    public async Task<Table> LoadAsync(DatasetVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        await using var stream = await artifacts.OpenReadAsync(version.ContentHash, cancellationToken).ConfigureAwait(false);
        using var reader = CsvReader.Open(stream);
        var table = Table.Load(reader, version.Schema);

        // Drain to the end so the store verifies the hash even if the reader stopped at the last record.
        await stream.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        return table;
    }
}
