using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Identity;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>Adds, finds and loads dataset versions.</summary>
public sealed class DatasetService(IDatasetStore store, IArtifactStore artifacts, IFileHashCache hashes, IParquetFiles parquet, Actor actor)
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

        await DemandAddAsync(name, cancellationToken).ConfigureAwait(false);
        var added = Directory.Exists(path)
            ? await AddFolderAsync(path, name, message, tags, source, cancellationToken).ConfigureAwait(false)
            : await AddFileAsync(path, name, message, tags, source, cancellationToken).ConfigureAwait(false);
        if (added.Created && added.Version.Version == 1)
        {
            actor.Claim(ResourceRef.Dataset(name));
        }

        return added;
    }

    /// <summary>
    /// Throws unless the caller may add a version to <paramref name="name"/>: editor on it, or — for a dataset that does
    /// not exist yet — editor globally. Hosts call it before receiving an upload; <see cref="AddAsync(string, string, CancellationToken)"/> checks again.
    /// </summary>
    public async Task DemandAddAsync(string name, CancellationToken cancellationToken)
    {
        var resource = ResourceRef.Dataset(name);
        if (actor.Holds(resource, Role.Editor))
        {
            return;
        }

        if (await store.GetDatasetVersionAsync(name, null, cancellationToken).ConfigureAwait(false) is null)
        {
            actor.DemandCreate(ResourceKind.Dataset);
            return;
        }

        actor.Demand(resource, Role.Editor, "add versions");
    }

    private async Task<(DatasetVersion Version, bool Created)> AddFileAsync(string path, string name, string? message, IReadOnlyDictionary<string, string> tags,
        string? source, CancellationToken cancellationToken)
    {

        if (!File.Exists(path))
        {
            throw CairnException.NotFound($"File '{path}' does not exist.");
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

        SchemaInference? inference = null;
        var stored = await StoreAndReadAsync(path, reader =>
        {
            inference = new SchemaInference(reader.Header);
            Observe(reader, inference, cancellationToken);
        }, cancellationToken).ConfigureAwait(false);
        await hashes.RememberAsync(info, stored.ContentHash, cancellationToken).ConfigureAwait(false);

        return await store.AddDatasetVersionAsync(
            new NewDatasetVersion(name, stored.ContentHash, stored.SizeBytes, inference!.RowCount, source ?? Path.GetFileName(path), inference.Build())
            {
                Message = message,
                Tags = tags,
                Format = TableFiles.IsParquet(path) ? DatasetFormat.Parquet : DatasetFormat.Csv,
            }, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    // A folder of CSV files with one header is one version: each file is stored by content (an unchanged one,
    // known to the hash cache, is not hashed or stored again), the manifest of paths, sizes and hashes is the
    // version's identity, and the schema is inferred over all files' rows in path order.
    private async Task<(DatasetVersion Version, bool Created)> AddFolderAsync(string folder, string name, string? message, IReadOnlyDictionary<string, string> tags,
        string? source, CancellationToken cancellationToken)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => (Full: f, Relative: Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/')))
            .Where(f => !f.Relative.Split('/').Any(part => part.StartsWith('.')))
            .OrderBy(f => f.Relative, StringComparer.Ordinal)
            .ToList();
        var others = files.Where(f => !TableFiles.IsTable(f.Relative)).Select(f => f.Relative).ToList();
        if (others.Count > 0)
        {
            throw CairnException.Invalid(
                $"'{folder}' holds files that are not CSV or Parquet: {string.Join(", ", others.Take(10))}{(others.Count > 10 ? ", …" : "")}. A folder version holds table files only.");
        }

        if (files.Count == 0)
        {
            throw CairnException.Invalid($"'{folder}' has no CSV or Parquet files.");
        }

        // Known, stored files need no reading at all; if every file is, the manifest may name an existing version.
        var known = new Dictionary<string, ContentHash>(StringComparer.Ordinal);
        foreach (var (full, relative) in files)
        {
            if (await hashes.LookupAsync(new FileInfo(full), cancellationToken).ConfigureAwait(false) is { } hash &&
                await artifacts.ExistsAsync(hash, cancellationToken).ConfigureAwait(false))
            {
                known[relative] = hash;
            }
        }

        if (known.Count == files.Count)
        {
            var manifest = DatasetManifest.Of(files.Select(f => new ManifestEntry(f.Relative, new FileInfo(f.Full).Length, known[f.Relative])));
            if (await store.FindDatasetVersionAsync(name, manifest.Hash, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                return (existing, false);
            }
        }

        SchemaInference? inference = null;
        IReadOnlyList<string>? header = null;
        var entries = new List<ManifestEntry>();
        foreach (var (full, relative) in files)
        {
            void Read(IRecordReader reader)
            {
                header ??= reader.Header;
                if (!reader.Header.SequenceEqual(header))
                {
                    throw CairnException.Invalid(
                        $"'{relative}' has the columns {string.Join(", ", reader.Header)}; '{files[0].Relative}' has {string.Join(", ", header)}. Every file of a folder must have the same header.");
                }

                inference ??= new SchemaInference(header);
                Observe(reader, inference, cancellationToken);
            }

            try
            {
                if (known.TryGetValue(relative, out var hash))
                {
                    using var reader = OpenLocal(full);
                    Read(reader);
                    entries.Add(new ManifestEntry(relative, new FileInfo(full).Length, hash));
                    continue;
                }

                var stored = await StoreAndReadAsync(full, Read, cancellationToken).ConfigureAwait(false);
                await hashes.RememberAsync(new FileInfo(full), stored.ContentHash, cancellationToken).ConfigureAwait(false);
                entries.Add(new ManifestEntry(relative, stored.SizeBytes, stored.ContentHash));
            }
            catch (CairnException e) when (e.Code == ErrorCode.InvalidArgument && !e.Message.StartsWith($"'{relative}'", StringComparison.Ordinal))
            {
                throw CairnException.Invalid($"{relative}: {e.Message}");
            }
        }

        var built = DatasetManifest.Of(entries);
        var manifestBlob = await artifacts.PutAsync(new MemoryStream(built.ToBytes()), cancellationToken).ConfigureAwait(false);
        return await store.AddDatasetVersionAsync(
            new NewDatasetVersion(name, manifestBlob.ContentHash, entries.Sum(e => e.SizeBytes), inference!.RowCount,
                source ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))), inference.Build())
            {
                Message = message,
                Tags = tags,
                Format = DatasetFormat.Folder,
            }, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    private static void Observe(IRecordReader reader, SchemaInference inference, CancellationToken cancellationToken)
    {
        while (reader.TryRead())
        {
            if ((reader.RecordCount & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            inference.Observe(reader);
        }
    }

    // One read of the file: the artifact store hashes and copies its bytes while a second thread parses the same
    // bytes. A file the parser rejects stops the copy; nothing is stored or recorded.
    private async Task<StoredArtifact> StoreAndReadAsync(string path, Action<IRecordReader> read, CancellationToken cancellationToken)
    {
        if (TableFiles.IsParquet(path))
        {
            // Parquet's footer comes last, so it is read from the file itself, then stored if it was readable.
            await Task.Run(() =>
            {
                using var reader = OpenLocal(path);
                read(reader);
            }, cancellationToken).ConfigureAwait(false);
            await using var parquetFile = File.OpenRead(path);
            return await artifacts.PutAsync(parquetFile, cancellationToken).ConfigureAwait(false);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        using var fork = new StreamFork(file);
        var parsing = Task.Factory.StartNew(() =>
        {
            try
            {
                using var reader = CsvReader.Open(fork.Secondary);
                read(reader);
            }
            catch
            {
                stop.Cancel();
                throw;
            }
        }, stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        // The store sees the end of the file only once the parser has accepted all of it, so a rejected file is never stored.
        fork.EndGate = parsing;
        try
        {
            return await artifacts.PutAsync(fork.Primary, stop.Token).ConfigureAwait(false);
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
    }

    private IRecordReader OpenLocal(string path) => TableFiles.IsParquet(path) ? parquet.Open(File.OpenRead(path)) : CsvReader.Open(File.OpenRead(path));

    // A stored file as records. Parquet needs to seek, so its verified bytes are copied to a temporary file first.
    private IRecordReader OpenStored(ContentHash hash, bool isParquet)
    {
        var stream = artifacts.OpenReadAsync(hash, CancellationToken.None).GetAwaiter().GetResult();
        if (!isParquet)
        {
            return CsvReader.Open(stream);
        }

        var copy = new FileStream(SpoolFiles.NewTempPath(".parquet"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            1 << 16, FileOptions.DeleteOnClose);
        using (stream)
        {
            stream.CopyTo(copy);
        }

        copy.Position = 0;
        return parquet.Open(copy);
    }

    /// <summary>
    /// Opens a version's rows for reading: its file, or its folder's files in manifest order. Every file is verified
    /// against its hash as it is read to the end. Blocking (for use on a worker thread).
    /// </summary>
    public IRecordReader OpenRecords(DatasetVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Format != DatasetFormat.Folder)
        {
            return OpenStored(version.ContentHash, version.Format == DatasetFormat.Parquet);
        }

        var manifest = ReadManifest(version);
        return new RecordChain([.. manifest.Files.Select(f => (f.Path, (Func<IRecordReader>)(() => OpenStored(f.ContentHash, TableFiles.IsParquet(f.Path)))))]);
    }

    /// <summary>A folder version's manifest. Blocking.</summary>
    public DatasetManifest ReadManifest(DatasetVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Format != DatasetFormat.Folder)
        {
            throw CairnException.Invalid($"{version.Reference} is a single file, not a folder.");
        }

        using var stream = artifacts.OpenReadAsync(version.ContentHash, CancellationToken.None).GetAwaiter().GetResult();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return DatasetManifest.Parse(buffer.ToArray());
    }

    /// <summary>The version a reference names; the latest when it names none.</summary>
    public async Task<DatasetVersion> GetAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        actor.Demand(ResourceRef.Dataset(reference.Name), Role.Viewer, "read datasets");
        return await store.GetDatasetVersionAsync(reference.Name, reference.Version, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound(reference.Version is null
                ? $"There is no dataset '{reference.Name}'. Add one with: cairn datasets add FILE --name {reference.Name}"
                : $"Dataset '{reference.Name}' has no version {reference.Version}.");
    }

    /// <summary>Every dataset.</summary>
    public Task<IReadOnlyList<DatasetSummary>> ListAsync(CancellationToken cancellationToken) =>
        store.ListDatasetsAsync(actor.VisibleTo(ResourceKind.Dataset), cancellationToken);

    /// <summary>A dataset's versions, newest first.</summary>
    public async Task<IReadOnlyList<DatasetVersion>> ListVersionsAsync(string name, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Dataset(name), Role.Viewer, "read datasets");
        var versions = await store.ListDatasetVersionsAsync(name, cancellationToken).ConfigureAwait(false);
        return versions.Count > 0 ? versions : throw CairnException.NotFound($"There is no dataset '{name}'.");
    }

    /// <summary>Opens a version's file; reading it to the end verifies its content.</summary>
    public async Task<(DatasetVersion Version, Stream Content)> OpenAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        var version = await GetAsync(reference, cancellationToken).ConfigureAwait(false);
        return version.Format == DatasetFormat.Folder
            ? throw CairnException.Invalid($"{version.Reference} is a folder of files; restore it with: cairn datasets get {version.Reference}")
            : (version, await artifacts.OpenReadAsync(version.ContentHash, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Restores a version into <paramref name="folder"/>: its file under its original name, or its folder's files under
    /// the folder's name, streamed and verified. Nothing existing is overwritten, and a file that fails verification
    /// is removed. Returns the restored file or folder.
    /// </summary>
    public async Task<string> RestoreAsync(DatasetRef reference, string folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var version = await GetAsync(reference, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(folder);
        var name = Path.GetFileName(version.Source) is { Length: > 0 } source
            ? source
            : version.Name + version.Format switch { DatasetFormat.Csv => ".csv", DatasetFormat.Parquet => ".parquet", _ => "" };
        var target = Path.Combine(folder, name);
        if (File.Exists(target) || Directory.Exists(target))
        {
            throw new CairnException(ErrorCode.Conflict, $"'{target}' already exists; choose another folder or remove it.");
        }

        if (version.Format != DatasetFormat.Folder)
        {
            await RestoreFileAsync(version.ContentHash, target, cancellationToken).ConfigureAwait(false);
            return target;
        }

        // Files are restored into a hidden sibling folder that takes the target's name only when all are verified.
        var manifest = await Task.Run(() => ReadManifest(version), cancellationToken).ConfigureAwait(false);
        var partial = Path.Combine(folder, $".{name}.partial-{Guid.NewGuid():N}");
        try
        {
            foreach (var file in manifest.Files)
            {
                var path = Path.GetFullPath(Path.Combine(partial, file.Path));
                if (!path.StartsWith(Path.GetFullPath(partial) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw new CairnException(ErrorCode.Corrupt, $"The manifest of {version.Reference} names a path outside its folder: '{file.Path}'.");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await RestoreFileAsync(file.ContentHash, path, cancellationToken).ConfigureAwait(false);
            }

            Directory.Move(partial, target);
            return target;
        }
        finally
        {
            if (Directory.Exists(partial))
            {
                Directory.Delete(partial, recursive: true);
            }
        }
    }

    private async Task RestoreFileAsync(ContentHash hash, string target, CancellationToken cancellationToken)
    {
        var partial = target + ".partial";
        try
        {
            await using (var source = await artifacts.OpenReadAsync(hash, cancellationToken).ConfigureAwait(false))
            await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 128 * 1024, FileOptions.Asynchronous))
            {
                await source.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }

            File.Move(partial, target);
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

        // Readers read every file to its end, so each is verified against its hash.
        return await Task.Run(() =>
        {
            using var reader = OpenRecords(version);
            return Table.Load(reader, version.Schema);
        }, cancellationToken).ConfigureAwait(false);
    }
}
