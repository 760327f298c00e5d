using Cairn.Adapters.Sqlite;
using Cairn.Core;

namespace Cairn.Adapters.Tests;

public sealed class FileHashCacheTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task AHash_IsRemembered_UntilTheFileChangesSizeOrTime()
    {
        var cache = SqliteFileHashCache.Open(Path.Combine(_directory.Path, "hashes.db"));
        var path = Path.Combine(_directory.Path, "data.csv");
        await File.WriteAllTextAsync(path, "x\n1\n");
        var file = new FileInfo(path);
        var hash = ContentHash.Of("x\n1\n"u8.ToArray());

        Assert.Null(await cache.LookupAsync(file, CancellationToken.None));
        await cache.RememberAsync(file, hash, CancellationToken.None);
        Assert.Equal(hash, await cache.LookupAsync(new FileInfo(path), CancellationToken.None));

        // Same size, new content and time: a miss.
        await File.WriteAllTextAsync(path, "x\n2\n");
        File.SetLastWriteTimeUtc(path, file.LastWriteTimeUtc.AddSeconds(1));
        Assert.Null(await cache.LookupAsync(new FileInfo(path), CancellationToken.None));
        File.Delete(path);
        Assert.Null(await cache.LookupAsync(new FileInfo(path), CancellationToken.None));
    }
}
