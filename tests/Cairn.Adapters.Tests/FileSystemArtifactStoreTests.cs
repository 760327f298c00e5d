using System.Text;
using Cairn.Adapters.FileSystem;
using Cairn.Core;

namespace Cairn.Adapters.Tests;

public sealed class FileSystemArtifactStoreTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    [Fact]
    public async Task Put_StoresUnderItsSha256_InTheShardedLayout()
    {
        var store = new FileSystemArtifactStore(_root.Path);
        var content = Encoding.ASCII.GetBytes("abc");

        var stored = await store.PutAsync(new MemoryStream(content), CancellationToken.None);

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", stored.ContentHash.Hex);
        Assert.Equal(3, stored.SizeBytes);
        Assert.True(File.Exists(Path.Combine(_root.Path, "sha256", "ba", "7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")));
        await using var read = await store.OpenReadAsync(stored.ContentHash, CancellationToken.None);
        Assert.Equal(content, await ReadAllAsync(read));
    }

    [Fact]
    public async Task Put_SameContentTwice_KeepsOneCopyAndNoTemporaryFiles()
    {
        var store = new FileSystemArtifactStore(_root.Path);
        var content = new byte[300_000];
        new Random(1).NextBytes(content);

        var first = await store.PutAsync(new MemoryStream(content), CancellationToken.None);
        var second = await store.PutAsync(new MemoryStream(content), CancellationToken.None);

        Assert.Equal(first, second);
        Assert.Single(Directory.EnumerateFiles(Path.Combine(_root.Path, "sha256"), "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root.Path, "tmp")));
    }

    [Fact]
    public async Task Put_ManyWritersOfTheSameContent_AllSucceed()
    {
        var store = new FileSystemArtifactStore(_root.Path);
        var content = Encoding.UTF8.GetBytes(new string('x', 100_000));

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => store.PutAsync(new MemoryStream(content), CancellationToken.None))));

        Assert.Single(results.Distinct());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root.Path, "tmp")));
    }

    [Fact]
    public async Task Read_CorruptedBlob_FailsVerification()
    {
        var store = new FileSystemArtifactStore(_root.Path);
        var stored = await store.PutAsync(new MemoryStream(Encoding.ASCII.GetBytes("the original bytes")), CancellationToken.None);
        var path = Path.Combine(_root.Path, "sha256", stored.ContentHash.Hex[..2], stored.ContentHash.Hex[2..]);
        await File.WriteAllTextAsync(path, "tampered bytes!!!!");

        await using var read = await store.OpenReadAsync(stored.ContentHash, CancellationToken.None);
        var e = await Assert.ThrowsAsync<CairnException>(() => ReadAllAsync(read));

        Assert.Equal(ErrorCode.Corrupt, e.Code);
        Assert.Contains("corrupt", e.Message);
    }

    [Fact]
    public async Task Open_MissingBlob_IsNotFound()
    {
        var store = new FileSystemArtifactStore(_root.Path);

        var e = await Assert.ThrowsAsync<CairnException>(() => store.OpenReadAsync(ContentHash.Of([1, 2, 3]), CancellationToken.None));

        Assert.Equal(ErrorCode.NotFound, e.Code);
        Assert.False(await store.ExistsAsync(ContentHash.Of([1, 2, 3]), CancellationToken.None));
    }
}
