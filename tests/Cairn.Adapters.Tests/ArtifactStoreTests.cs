using System.Text;
using Amazon.S3.Model;
using Cairn.Adapters.FileSystem;
using Cairn.Adapters.S3;
using Cairn.Core;
using Cairn.Core.Ports;
using Cairn.Testing;

namespace Cairn.Adapters.Tests;

/// <summary>What every artifact store must do, run against the local folder store and a real S3-compatible server.</summary>
public abstract class ArtifactStoreContract
{
    /// <summary>The store under test, empty.</summary>
    private protected abstract IArtifactStore Store { get; }

    /// <summary>Replaces a stored blob's bytes behind the store's back.</summary>
    private protected abstract Task TamperAsync(ContentHash hash, byte[] bytes);

    private protected static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    [Fact]
    public async Task Put_StoresUnderItsSha256_AndReadsBack()
    {
        var content = Encoding.ASCII.GetBytes("abc");

        var stored = await Store.PutAsync(new MemoryStream(content), CancellationToken.None);

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", stored.ContentHash.Hex);
        Assert.Equal(3, stored.SizeBytes);
        Assert.True(await Store.ExistsAsync(stored.ContentHash, CancellationToken.None));
        await using var read = await Store.OpenReadAsync(stored.ContentHash, CancellationToken.None);
        Assert.Equal(content, await ReadAllAsync(read));
    }

    [Fact]
    public async Task Put_ALargeBlob_StreamsBothWays()
    {
        // Larger than a multipart part, so the S3 store uploads it in parts.
        var content = new byte[40 * 1024 * 1024];
        new Random(3).NextBytes(content);

        var stored = await Store.PutAsync(new MemoryStream(content), CancellationToken.None);

        Assert.Equal(ContentHash.Of(content), stored.ContentHash);
        await using var read = await Store.OpenReadAsync(stored.ContentHash, CancellationToken.None);
        Assert.Equal(content, await ReadAllAsync(read));
    }

    [Fact]
    public async Task Put_ManyWritersOfTheSameContent_AllSucceed()
    {
        var content = Encoding.UTF8.GetBytes(new string('x', 100_000));

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.PutAsync(new MemoryStream(content), CancellationToken.None))));

        Assert.Single(results.Distinct());
    }

    [Fact]
    public async Task Read_CorruptedBlob_FailsVerification()
    {
        var stored = await Store.PutAsync(new MemoryStream(Encoding.ASCII.GetBytes("the original bytes")), CancellationToken.None);
        await TamperAsync(stored.ContentHash, Encoding.ASCII.GetBytes("tampered bytes!!!!"));

        await using var read = await Store.OpenReadAsync(stored.ContentHash, CancellationToken.None);
        var e = await Assert.ThrowsAsync<CairnException>(() => ReadAllAsync(read));

        Assert.Equal(ErrorCode.Corrupt, e.Code);
        Assert.Contains("corrupt", e.Message);
    }

    [Fact]
    public async Task Open_MissingBlob_IsNotFound()
    {
        var e = await Assert.ThrowsAsync<CairnException>(() => Store.OpenReadAsync(ContentHash.Of([1, 2, 3]), CancellationToken.None));

        Assert.Equal(ErrorCode.NotFound, e.Code);
        Assert.False(await Store.ExistsAsync(ContentHash.Of([1, 2, 3]), CancellationToken.None));
    }
}

public sealed class FileSystemArtifactStoreTests : ArtifactStoreContract, IDisposable
{
    private readonly TempDirectory _root = new();

    public FileSystemArtifactStoreTests() => Store = new FileSystemArtifactStore(_root.Path);

    private protected override IArtifactStore Store { get; }

    public void Dispose() => _root.Dispose();

    private protected override Task TamperAsync(ContentHash hash, byte[] bytes) => File.WriteAllBytesAsync(PathOf(hash), bytes);

    private string PathOf(ContentHash hash) => Path.Combine(_root.Path, "sha256", hash.Hex[..2], hash.Hex[2..]);

    [Fact]
    public async Task Put_UsesTheShardedLayout_KeepsOneCopy_AndLeavesNoTemporaryFiles()
    {
        var content = new byte[300_000];
        new Random(1).NextBytes(content);

        var first = await Store.PutAsync(new MemoryStream(content), CancellationToken.None);
        var second = await Store.PutAsync(new MemoryStream(content), CancellationToken.None);

        Assert.Equal(first, second);
        Assert.True(File.Exists(PathOf(first.ContentHash)));
        Assert.Single(Directory.EnumerateFiles(Path.Combine(_root.Path, "sha256"), "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root.Path, "tmp")));
    }
}

public sealed class S3ArtifactStoreTests(S3Server server) : ArtifactStoreContract, IClassFixture<S3Server>, IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _spool = new();
    private S3ArtifactStore? _store;
    private string _bucket = "";

    private protected override IArtifactStore Store => _store!;

    public async Task InitializeAsync()
    {
        _bucket = await server.CreateBucketAsync();
        _store = new S3ArtifactStore(new S3ArtifactLocation(_bucket, "team/artifacts", server.Endpoint, "us-east-1"), _spool.Path, S3Server.Credentials);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _store?.Dispose();
        _spool.Dispose();
    }

    private protected override async Task TamperAsync(ContentHash hash, byte[] bytes)
    {
        using var client = server.Client();
        await client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = $"team/artifacts/sha256/{hash.Hex[..2]}/{hash.Hex[2..]}",
            InputStream = new MemoryStream(bytes),
        });
    }

    [Fact]
    public async Task Objects_LiveUnderThePrefix_AndNoSpoolFilesRemain()
    {
        var stored = await Store.PutAsync(new MemoryStream([1, 2, 3]), CancellationToken.None);

        using var client = server.Client();
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket });
        Assert.Equal([$"team/artifacts/sha256/{stored.ContentHash.Hex[..2]}/{stored.ContentHash.Hex[2..]}"], listed.S3Objects.Select(o => o.Key));
        Assert.Empty(Directory.EnumerateFiles(_spool.Path));
    }

    [Fact]
    public async Task AMissingBucket_AndAnUnreachableServer_GetClearErrors()
    {
        using var missing = new S3ArtifactStore(new S3ArtifactLocation("no-such-bucket", "", server.Endpoint, "us-east-1"), _spool.Path, S3Server.Credentials);
        var e = await Assert.ThrowsAsync<CairnException>(() => missing.PutAsync(new MemoryStream([1]), CancellationToken.None));
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.Contains("does not exist", e.Message);

        using var unreachable = new S3ArtifactStore(new S3ArtifactLocation("b", "", new Uri("http://127.0.0.1:1/"), "us-east-1"), _spool.Path, S3Server.Credentials);
        e = await Assert.ThrowsAsync<CairnException>(() => unreachable.OpenReadAsync(ContentHash.Of([1]), CancellationToken.None));
        Assert.Equal(ErrorCode.Unavailable, e.Code);
        Assert.DoesNotContain("cairn-test-secret", e.Message);
    }

    [Theory]
    [InlineData("s3://bucket/some/prefix", "bucket", "some/prefix")]
    [InlineData("s3://bucket", "bucket", "")]
    public void Location_ParsesBucketAndPrefix_AndTheEndpointFromTheEnvironment(string text, string bucket, string prefix)
    {
        var location = S3ArtifactLocation.Parse(text, name => name == S3ArtifactLocation.EndpointVariable ? "http://127.0.0.1:9000" : null);

        Assert.Equal((bucket, prefix, "us-east-1"), (location.Bucket, location.Prefix, location.Region));
        Assert.Equal(new Uri("http://127.0.0.1:9000"), location.Endpoint);
        Assert.Throws<CairnException>(() => S3ArtifactLocation.Parse("https://bucket/x", _ => null));
    }
}
