using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>Adds, finds and loads dataset versions.</summary>
public sealed class DatasetService(IMetadataStore store, IArtifactStore artifacts, IFileHashCache hashes, Actor actor)
{
    /// <summary>
    /// Reads and validates a CSV file, infers its schema and records it as a new version of <paramref name="name"/>;
    /// identical content returns the existing version. Nothing is recorded unless the whole file parses.
    /// </summary>
    public Task<(DatasetVersion Version, bool Created)> AddAsync(string path, string name, CancellationToken cancellationToken) =>
        AddAsync(path, name, null, new Dictionary<string, string>(), cancellationToken);

    /// <summary>The same, recording a message and tags with a new version.</summary>
    public Task<(DatasetVersion Version, bool Created)> AddAsync(string path, string name, string? message, IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken) =>
        AddAsync(path, name, message, tags, null, cancellationToken);

    /// <summary>The same, naming the source (for an upload, the client's file name) instead of the file's own name.</summary>
    public async Task<(DatasetVersion Version, bool Created)> AddAsync(string path, string name, string? message, IReadOnlyDictionary<string, string> tags,
        string? source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tags);
        Names.Validate(name, "dataset");
        TrackingLimits.Validate([], [], [.. tags]);
        if (message is { Length: > 5000 })
        {
            throw CairnException.Invalid($"The message has {message.Length} characters; the limit is 5000.");
        }

        if (!File.Exists(path))
        {
            throw CairnException.NotFound(Directory.Exists(path) ? $"'{path}' is a folder; give a CSV file." : $"File '{path}' does not exist.");
        }

        // An unchanged file (same path, size and modification time) whose content this dataset already has is
        // answered from the hash cache, without reading it again.
        var info = new FileInfo(path);
        if (await hashes.LookupAsync(info, cancellationToken).ConfigureAwait(false) is { } known &&
            await store.FindDatasetVersionAsync(name, known, cancellationToken).ConfigureAwait(false) is { } existing &&
            await artifacts.ExistsAsync(known, cancellationToken).ConfigureAwait(false))
        {
            return (existing, false);
        }

        var (stored, schema, rows) = await StoreAndInferAsync(path, cancellationToken).ConfigureAwait(false);
        await hashes.RememberAsync(info, stored.ContentHash, cancellationToken).ConfigureAwait(false);

        return await store.AddDatasetVersionAsync(
            new NewDatasetVersion(name, stored.ContentHash, stored.SizeBytes, rows, source ?? Path.GetFileName(path), schema) { Message = message, Tags = tags }, actor.Name,
            cancellationToken).ConfigureAwait(false);
    }

    // One read of the file: the artifact store hashes and copies its bytes while a second thread parses the same
    // bytes and infers their schema. A file the parser rejects stops the copy; nothing is recorded.
    private async Task<(StoredArtifact Stored, TableSchema Schema, long Rows)> StoreAndInferAsync(string path, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        using var fork = new StreamFork(file);
        var parsing = Task.Factory.StartNew(() =>
        {
            try
            {
                using var reader = CsvReader.Open(fork.Secondary);
                return SchemaInference.Infer(reader, stop.Token);
            }
            catch
            {
                stop.Cancel();
                throw;
            }
        }, stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        StoredArtifact stored;
        try
        {
            stored = await artifacts.PutAsync(fork.Primary, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            fork.Complete(e);
            if (parsing.IsFaulted || (await Task.WhenAny(parsing).ConfigureAwait(false)).IsFaulted)
            {
                // The parser's complaint (a ragged row, invalid UTF-8) is what stopped the copy.
                await parsing.ConfigureAwait(false);
            }

            throw;
        }

        var (schema, rows) = await parsing.ConfigureAwait(false);
        return (stored, schema, rows);
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

    /// <summary>Opens a version's file; reading it to the end verifies its content.</summary>
    public async Task<(DatasetVersion Version, Stream Content)> OpenAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        var version = await GetAsync(reference, cancellationToken).ConfigureAwait(false);
        return (version, await artifacts.OpenReadAsync(version.ContentHash, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Restores a version's file into <paramref name="folder"/> under its original file name, streamed and verified;
    /// an existing file is not overwritten, and a file that fails verification is removed.
    /// </summary>
    public async Task<string> RestoreAsync(DatasetRef reference, string folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var version = await GetAsync(reference, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, Path.GetFileName(version.Source) is { Length: > 0 } file ? file : $"{version.Name}.csv");
        if (File.Exists(target))
        {
            throw new CairnException(ErrorCode.Conflict, $"'{target}' already exists; choose another folder or remove it.");
        }

        var partial = target + ".partial";
        try
        {
            await using (var source = await artifacts.OpenReadAsync(version.ContentHash, cancellationToken).ConfigureAwait(false))
            await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 128 * 1024, FileOptions.Asynchronous))
            {
                await source.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }

            File.Move(partial, target);
            return target;
        }
        finally
        {
            File.Delete(partial);
        }
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
