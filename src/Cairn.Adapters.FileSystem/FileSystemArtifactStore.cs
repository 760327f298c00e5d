using Cairn.Core;
using Cairn.Core.Ports;

namespace Cairn.Adapters.FileSystem;

/// <summary>
/// Content-addressed blobs under <c>root/sha256/ab/cdef…</c>. A blob is written to <c>root/tmp</c>, flushed to disk
/// and renamed into place, so a reader sees either nothing or the whole file. Reads verify the hash at the end.
/// Partial files a killed process left in <c>root/tmp</c> are removed when the next store opens.
/// </summary>
public sealed class FileSystemArtifactStore : IArtifactStore, IBlobInventory
{
    private const int BufferSize = 128 * 1024;
    private readonly string _root;
    private readonly string _temp;

    /// <summary>Uses (and creates) <paramref name="root"/>.</summary>
    public FileSystemArtifactStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        _temp = Path.Combine(_root, "tmp");
        Directory.CreateDirectory(_temp);
        SpoolFiles.RemoveOrphans(_temp, "");
    }

    /// <inheritdoc />
    public async Task<StoredArtifact> PutAsync(Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var tempPath = SpoolFiles.NewPath(_temp, "", ".partial");
        try
        {
            var (hash, size) = await ContentSpool.WriteAsync(content, tempPath, cancellationToken).ConfigureAwait(false);
            var finalPath = PathOf(hash);
            if (File.Exists(finalPath))
            {
                // Stored again: young again, so a collection cannot take it before the new reference is recorded.
                File.SetLastWriteTimeUtc(finalPath, File.GetLastWriteTimeUtc(tempPath));
                return new StoredArtifact(hash, size);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
            try
            {
                File.Move(tempPath, finalPath, overwrite: false);
            }
            catch (IOException) when (File.Exists(finalPath))
            {
                // Another writer stored the same content first; its copy is identical.
            }

            return new StoredArtifact(hash, size);
        }
        finally
        {
            File.Delete(tempPath);
        }
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(ContentHash hash, CancellationToken cancellationToken)
    {
        var path = PathOf(hash);
        if (!File.Exists(path))
        {
            throw CairnException.NotFound($"Artifact sha256:{hash} is not in the artifact store at {_root}.");
        }

        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Task.FromResult<Stream>(new HashingReadStream(file, expected: hash));
    }

    /// <inheritdoc />
    public Task<bool> ExistsAsync(ContentHash hash, CancellationToken cancellationToken) => Task.FromResult(File.Exists(PathOf(hash)));

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredBlob> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var blobs = Path.Combine(_root, "sha256");
        if (!Directory.Exists(blobs))
        {
            yield break;
        }

        foreach (var file in new DirectoryInfo(blobs).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (ContentHash.TryParse(file.Directory!.Name + file.Name, out var hash))
            {
                yield return new StoredBlob(hash, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(ContentHash hash, DateTimeOffset writtenBefore, CancellationToken cancellationToken)
    {
        var file = new FileInfo(PathOf(hash));
        if (!file.Exists || file.LastWriteTimeUtc >= writtenBefore.UtcDateTime)
        {
            return Task.FromResult(false);
        }

        file.Delete();
        return Task.FromResult(true);
    }

    // The path comes from a validated hash only, never from caller text.
    private string PathOf(ContentHash hash) => Path.Combine(_root, "sha256", hash.Hex[..2], hash.Hex[2..]);
}
