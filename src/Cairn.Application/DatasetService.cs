using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Cairn.Core.Statistics;

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
    // bytes and infers their schema. A file the parser rejects stops the copy; nothing is stored or recorded.
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

        // The store sees the end of the file only once the parser has accepted all of it, so a rejected file is never stored.
        fork.EndGate = parsing;

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

    /// <summary>
    /// A version's profile: the stored one, or computed now (columns split among the cores, each reading the
    /// verified file) and stored with the version.
    /// </summary>
    public async Task<(DatasetVersion Version, DatasetProfile Profile)> ProfileAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        var version = await GetAsync(reference, cancellationToken).ConfigureAwait(false);
        if (version.ProfileHash is { } stored)
        {
            await using var json = await artifacts.OpenReadAsync(stored, cancellationToken).ConfigureAwait(false);
            return (version, await JsonSerializer.DeserializeAsync(json, CairnJson.Compact.DatasetProfile, cancellationToken).ConfigureAwait(false)
                ?? throw new CairnException(ErrorCode.Corrupt, $"The stored profile of {version.Reference} is empty."));
        }

        var profile = await Task.Run(() => Profiler.Profile(
            () => artifacts.OpenReadAsync(version.ContentHash, cancellationToken).GetAwaiter().GetResult(),
            version.Schema, Math.Clamp(Environment.ProcessorCount, 1, 4), cancellationToken), cancellationToken).ConfigureAwait(false);
        var saved = await artifacts.PutAsync(new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(profile, CairnJson.Compact.DatasetProfile)), cancellationToken)
            .ConfigureAwait(false);
        await store.SetDatasetProfileAsync(version.Name, version.Version, saved.ContentHash, actor.Name, cancellationToken).ConfigureAwait(false);
        return (version with { ProfileHash = saved.ContentHash }, profile);
    }

    /// <summary>Compares two versions: schema changes, row counts and per-column drift from their profiles.</summary>
    public async Task<DatasetDiff> DiffAsync(DatasetRef first, DatasetRef second, CancellationToken cancellationToken)
    {
        var (a, aProfile) = await ProfileAsync(first, cancellationToken).ConfigureAwait(false);
        var (b, bProfile) = await ProfileAsync(second, cancellationToken).ConfigureAwait(false);
        return new DatasetDiff(a.Reference, b.Reference, a.RowCount, b.RowCount, SchemaChange.Compare(a.Schema, b.Schema), DriftDetector.Compare(aProfile, bProfile));
    }

    /// <summary>A contract the version passes as it is, to be edited.</summary>
    public async Task<DataContract> InferContractAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        var (version, profile) = await ProfileAsync(reference, cancellationToken).ConfigureAwait(false);
        return DataContract.Infer(version, profile);
    }

    /// <summary>Validates a version against a contract (YAML text), reporting every violation, and stores the result with the version.</summary>
    public async Task<ValidationReport> ValidateAsync(DatasetRef reference, string contractYaml, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contractYaml);
        var contract = DataContract.Parse(contractYaml);
        var version = await GetAsync(reference, cancellationToken).ConfigureAwait(false);
        var contractHash = (await artifacts.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(contractYaml)), cancellationToken).ConfigureAwait(false)).ContentHash;
        (bool Passed, long Rows, IReadOnlyList<Violation> Violations) result;
        await using (var stream = await artifacts.OpenReadAsync(version.ContentHash, cancellationToken).ConfigureAwait(false))
        {
            using var reader = CsvReader.Open(stream);
            result = await Task.Run(() => contract.Validate(reader, cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        var report = new ValidationReport(version.Name, version.Version, contractHash, result.Passed, result.Rows, result.Violations, DateTimeOffset.UnixEpoch);
        return await store.AddDatasetValidationAsync(report, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A version's stored validations, newest first.</summary>
    public async Task<IReadOnlyList<ValidationReport>> ListValidationsAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        var version = await GetAsync(reference, cancellationToken).ConfigureAwait(false);
        return await store.ListDatasetValidationsAsync(version.Name, version.Version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Splits a version's rows deterministically; with <paramref name="folder"/>, writes each part's rows (in file
    /// order, header first) to train.csv, validation.csv and test.csv there, none of which may exist yet.
    /// </summary>
    public async Task<(DatasetVersion Version, IReadOnlyDictionary<SplitPart, long> Counts, IReadOnlyList<string> Files)> SplitAsync(
        DatasetRef reference, DataSplit split, int seed, string? folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(split);
        var version = await GetAsync(reference, cancellationToken).ConfigureAwait(false);
        var parts = split.Assign(await LoadAsync(version, cancellationToken).ConfigureAwait(false), version.Schema, seed);
        var counts = Enum.GetValues<SplitPart>().ToDictionary(p => p, p => (long)parts.Count(x => x == p));
        if (folder is null)
        {
            return (version, counts, []);
        }

        Directory.CreateDirectory(folder);
        var targets = new[] { SplitPart.Train, SplitPart.Validation, SplitPart.Test }.Where(p => counts[p] > 0)
            .ToDictionary(p => p, p => Path.Combine(folder, $"{p.ToString().ToLowerInvariant()}.csv"));
        if (targets.Values.FirstOrDefault(File.Exists) is { } taken)
        {
            throw new CairnException(ErrorCode.Conflict, $"'{taken}' already exists; choose another folder or remove it.");
        }

        var writers = targets.ToDictionary(t => t.Key, t => new StreamWriter(t.Value + ".partial", false, new UTF8Encoding(false), 1 << 16));
        try
        {
            await using (var stream = await artifacts.OpenReadAsync(version.ContentHash, cancellationToken).ConfigureAwait(false))
            {
                using var reader = CsvReader.Open(stream);
                foreach (var writer in writers.Values)
                {
                    writer.Write(CsvWriter.Record(reader.Header));
                }

                var row = 0;
                while (reader.TryRead(out var record))
                {
                    if (writers.TryGetValue(parts[row++], out var writer))
                    {
                        writer.Write(CsvWriter.Record(record));
                    }
                }

                await stream.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            }

            foreach (var (part, writer) in writers)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
                File.Move(targets[part] + ".partial", targets[part]);
            }

            return (version, counts, [.. targets.Values]);
        }
        finally
        {
            foreach (var (part, writer) in writers)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
                File.Delete(targets[part] + ".partial");
            }
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
