using System.Security.Cryptography;

namespace Cairn.Core;

/// <summary>Copies a stream into a new local file while hashing it, in constant memory, flushed to disk.</summary>
public static class ContentSpool
{
    private const int BufferSize = 128 * 1024;

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> (which must not exist) and returns its SHA-256 and size.</summary>
    public static async Task<(ContentHash Hash, long Size)> WriteAsync(Stream content, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
        using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BufferSize];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hasher.AppendData(buffer, 0, read);
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }

        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        file.Flush(flushToDisk: true);
        return (ContentHash.FromDigest(hasher.GetHashAndReset()), file.Length);
    }
}
