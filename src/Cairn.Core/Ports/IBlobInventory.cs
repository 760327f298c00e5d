namespace Cairn.Core.Ports;

/// <summary>A blob as an artifact store holds it: its address, size and when it was last written (or stored again).</summary>
public sealed record StoredBlob(ContentHash ContentHash, long SizeBytes, DateTimeOffset LastWritten);

/// <summary>
/// The blobs an artifact store holds, for collecting those nothing references. Storing content that is already there
/// renews its <see cref="StoredBlob.LastWritten"/>, so a blob about to be referenced again is never old enough to collect.
/// </summary>
public interface IBlobInventory
{
    /// <summary>Every blob in the store.</summary>
    IAsyncEnumerable<StoredBlob> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Removes a blob unless it was written (or stored again) at or after <paramref name="writtenBefore"/>; false when it
    /// was kept or is gone already.
    /// </summary>
    Task<bool> DeleteAsync(ContentHash hash, DateTimeOffset writtenBefore, CancellationToken cancellationToken);
}

/// <summary>Which blobs the metadata points at: every dataset file, profile, folder manifest, run artifact, model package, contract and baseline.</summary>
public interface IBlobReferences
{
    /// <summary>The hashes the metadata references, and among them the folder manifests (whose listed files are referenced too).</summary>
    Task<(IReadOnlySet<ContentHash> Referenced, IReadOnlyList<ContentHash> Manifests)> ListReferencedBlobsAsync(CancellationToken cancellationToken);
}

/// <summary>What a collection found: the blobs nothing references that it removed (or would remove, on a dry run).</summary>
/// <param name="Collected">The unreferenced blobs older than the grace period.</param>
/// <param name="Bytes">Their total size.</param>
/// <param name="Kept">How many blobs stay: referenced, or written within the grace period.</param>
/// <param name="DryRun">Whether nothing was removed.</param>
public sealed record BlobCollection(IReadOnlyList<StoredBlob> Collected, long Bytes, int Kept, bool DryRun);
