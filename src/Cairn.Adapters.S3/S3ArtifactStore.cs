using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using Cairn.Core;
using Cairn.Core.Ports;

namespace Cairn.Adapters.S3;

/// <summary>
/// Content-addressed blobs in an S3-compatible bucket under <c>prefix/sha256/ab/cdef…</c>. An upload is spooled to a
/// local file while hashed (constant memory; the key is the content's hash), then sent as a multipart upload, so the
/// object appears only when complete; identical content is stored once. Downloads stream and verify the hash.
/// </summary>
public sealed class S3ArtifactStore : IArtifactStore, IBlobInventory, IDisposable
{
    // Parts of this size keep a multi-gigabyte upload within S3's 10,000-part limit and memory small.
    private const long PartSize = 16 * 1024 * 1024;

    private readonly IAmazonS3 _s3;
    private readonly S3ArtifactLocation _location;
    private readonly string _spool;

    /// <summary>Uses the bucket at <paramref name="location"/>; uploads are spooled in <paramref name="spoolDirectory"/>.</summary>
    public S3ArtifactStore(S3ArtifactLocation location, string spoolDirectory, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentException.ThrowIfNullOrEmpty(spoolDirectory);
        _location = location;
        _spool = spoolDirectory;
        Directory.CreateDirectory(_spool);
        SpoolFiles.RemoveOrphans(_spool, "");
        var config = new AmazonS3Config
        {
            AuthenticationRegion = location.Region,
            RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(location.Region),
            Timeout = TimeSpan.FromMinutes(5),
            MaxErrorRetry = 3,
        };
        if (location.Endpoint is { } endpoint)
        {
            // S3-compatible servers on a host and port of their own address buckets by path.
            config.ServiceURL = endpoint.ToString();
            config.ForcePathStyle = true;
        }

        _s3 = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    /// <inheritdoc />
    public async Task<StoredArtifact> PutAsync(Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var spooled = SpoolFiles.NewPath(_spool, "", ".partial");
        try
        {
            var (hash, size) = await ContentSpool.WriteAsync(content, spooled, cancellationToken).ConfigureAwait(false);
            if (await ExistsAsync(hash, cancellationToken).ConfigureAwait(false))
            {
                // Stored again: copied onto itself so its time is renewed, and a collection cannot take it before the new reference is recorded.
                await CallAsync(() => _s3.CopyObjectAsync(new CopyObjectRequest
                {
                    SourceBucket = _location.Bucket,
                    SourceKey = KeyOf(hash),
                    DestinationBucket = _location.Bucket,
                    DestinationKey = KeyOf(hash),
                    MetadataDirective = S3MetadataDirective.REPLACE,
                    ContentType = "application/octet-stream",
                }, cancellationToken), $"renew sha256:{hash}").ConfigureAwait(false);
                return new StoredArtifact(hash, size);
            }

            await CallAsync(async () =>
            {
                using var transfer = new TransferUtility(_s3, new TransferUtilityConfig { MinSizeBeforePartUpload = PartSize });
                await transfer.UploadAsync(new TransferUtilityUploadRequest
                {
                    BucketName = _location.Bucket,
                    Key = KeyOf(hash),
                    FilePath = spooled,
                    PartSize = PartSize,
                    ContentType = "application/octet-stream",
                }, cancellationToken).ConfigureAwait(false);
                return true;
            }, $"store sha256:{hash}").ConfigureAwait(false);
            return new StoredArtifact(hash, size);
        }
        finally
        {
            File.Delete(spooled);
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(ContentHash hash, CancellationToken cancellationToken)
    {
        var response = await CallAsync(() => _s3.GetObjectAsync(_location.Bucket, KeyOf(hash), cancellationToken), $"read sha256:{hash}",
            notFound: $"Artifact sha256:{hash} is not in the artifact store {_location}.").ConfigureAwait(false);
        // Disposing the response stream returns its connection to the pool.
        return new HashingReadStream(response.ResponseStream, expected: hash);
    }

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(ContentHash hash, CancellationToken cancellationToken)
    {
        try
        {
            await CallAsync(() => _s3.GetObjectMetadataAsync(_location.Bucket, KeyOf(hash), cancellationToken), $"look up sha256:{hash}",
                notFound: "").ConfigureAwait(false);
            return true;
        }
        catch (CairnException e) when (e.Code == ErrorCode.NotFound)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredBlob> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = KeyPrefix + "sha256/";
        var request = new ListObjectsV2Request { BucketName = _location.Bucket, Prefix = prefix };
        while (true)
        {
            var page = await CallAsync(() => _s3.ListObjectsV2Async(request, cancellationToken), "list blobs").ConfigureAwait(false);
            foreach (var entry in page.S3Objects ?? [])
            {
                if (ContentHash.TryParse(entry.Key[prefix.Length..].Replace("/", "", StringComparison.Ordinal), out var hash))
                {
                    yield return new StoredBlob(hash, entry.Size ?? 0, entry.LastModified is { } written ? new DateTimeOffset(written.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MaxValue);
                }
            }

            if (page.IsTruncated != true)
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(ContentHash hash, DateTimeOffset writtenBefore, CancellationToken cancellationToken)
    {
        GetObjectMetadataResponse current;
        try
        {
            current = await CallAsync(() => _s3.GetObjectMetadataAsync(_location.Bucket, KeyOf(hash), cancellationToken), $"look up sha256:{hash}", notFound: "")
                .ConfigureAwait(false);
        }
        catch (CairnException e) when (e.Code == ErrorCode.NotFound)
        {
            return false;
        }

        if (current.LastModified is not { } written || new DateTimeOffset(written.ToUniversalTime(), TimeSpan.Zero) >= writtenBefore)
        {
            return false;
        }

        await CallAsync(() => _s3.DeleteObjectAsync(_location.Bucket, KeyOf(hash), cancellationToken), $"delete sha256:{hash}").ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    public void Dispose() => _s3.Dispose();

    private string KeyPrefix => _location.Prefix.Length == 0 ? "" : _location.Prefix + "/";

    // The key comes from a validated hash only, never from caller text.
    private string KeyOf(ContentHash hash) => $"{KeyPrefix}sha256/{hash.Hex[..2]}/{hash.Hex[2..]}";

    // S3's failures become Cairn's: a missing object is NotFound, refused credentials or a missing bucket are
    // InvalidArgument (configuration the user must fix), an unreachable server is Unavailable. No secret is quoted.
    private async Task<T> CallAsync<T>(Func<Task<T>> call, string what, string? notFound = null)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && notFound is not null && e.ErrorCode is not "NoSuchBucket")
        {
            throw CairnException.NotFound(notFound);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
        {
            throw CairnException.Invalid($"The bucket of the artifact store {_location} does not exist; create it first.");
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            throw CairnException.Invalid($"The artifact store {_location} refused the credentials ({e.ErrorCode}) trying to {what}; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.");
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException or TaskCanceledException && e is not OperationCanceledException { CancellationToken.IsCancellationRequested: true })
        {
            throw new CairnException(ErrorCode.Unavailable, $"The artifact store {_location} could not {what}: {e.Message}", e);
        }
    }
}
