using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>
/// <c>cairn gc</c>: removes blobs no dataset version, profile, folder manifest, run artifact, model version, contract or
/// monitor baseline references. Only blobs older than a grace period are candidates, and storing content again renews
/// a blob's time, so a write in flight (blob stored, reference not yet recorded) is never collected.
/// </summary>
public sealed class BlobCollector(IBlobReferences references, IBlobInventory inventory, IArtifactStore artifacts, TimeProvider time)
{
    /// <summary>The default grace period: far longer than any write takes between storing a blob and recording it.</summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromHours(1);

    /// <summary>Finds, and unless <paramref name="dryRun"/> removes, the blobs nothing references that are older than <paramref name="grace"/>.</summary>
    public async Task<BlobCollection> CollectAsync(TimeSpan grace, bool dryRun, CancellationToken cancellationToken)
    {
        if (grace < TimeSpan.Zero)
        {
            throw CairnException.Invalid($"The grace period is {grace}; it cannot be negative.");
        }

        // Blobs are listed before references are read: one stored after the listing is no candidate, and one listed but
        // referenced meanwhile is among the references by the time they are read.
        var cutoff = time.GetUtcNow() - grace;
        var candidates = new List<StoredBlob>();
        var total = 0;
        await foreach (var blob in inventory.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            total++;
            if (blob.LastWritten < cutoff)
            {
                candidates.Add(blob);
            }
        }

        var (referenced, manifests) = await references.ListReferencedBlobsAsync(cancellationToken).ConfigureAwait(false);
        var live = new HashSet<ContentHash>(referenced);
        foreach (var manifest in manifests)
        {
            // A folder version references its files through its manifest; one that cannot be read stops the collection.
            await using var content = await artifacts.OpenReadAsync(manifest, cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            live.UnionWith(DatasetManifest.Parse(buffer.ToArray()).Files.Select(f => f.ContentHash));
        }

        var garbage = candidates.Where(b => !live.Contains(b.ContentHash)).ToList();
        var collected = new List<StoredBlob>();
        foreach (var blob in garbage)
        {
            if (dryRun || await inventory.DeleteAsync(blob.ContentHash, cutoff, cancellationToken).ConfigureAwait(false))
            {
                collected.Add(blob);
            }
        }

        return new BlobCollection(collected, collected.Sum(b => b.SizeBytes), total - collected.Count, dryRun);
    }
}
