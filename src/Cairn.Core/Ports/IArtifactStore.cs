namespace Cairn.Core.Ports;

/// <summary>What storing content produced: its address and size.</summary>
public sealed record StoredArtifact(ContentHash ContentHash, long SizeBytes);

/// <summary>
/// Immutable, content-addressed blobs. A blob is visible only once complete, and reads verify its hash.
/// Implemented on the local file system (embedded) and, later, S3-compatible buckets.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Stores a stream's bytes under their SHA-256; storing the same content twice keeps one copy.</summary>
    Task<StoredArtifact> PutAsync(Stream content, CancellationToken cancellationToken);

    /// <summary>Opens a blob; reading it to the end throws a <see cref="CairnException"/> (corrupt) if the bytes no longer match the hash.</summary>
    Task<Stream> OpenReadAsync(ContentHash hash, CancellationToken cancellationToken);

    /// <summary>Whether a blob exists.</summary>
    Task<bool> ExistsAsync(ContentHash hash, CancellationToken cancellationToken);
}

/// <summary>
/// A machine-local memory of file hashes keyed by path, size and modification time, so an unchanged large file is
/// not read again to learn its hash.
/// </summary>
public interface IFileHashCache
{
    /// <summary>The hash recorded for the file as it is now, or null when it is unknown or the file has changed.</summary>
    Task<ContentHash?> LookupAsync(FileInfo file, CancellationToken cancellationToken);

    /// <summary>Records the hash of the file as it was when hashed (its size and modification time then).</summary>
    Task RememberAsync(FileInfo file, ContentHash hash, CancellationToken cancellationToken);
}
