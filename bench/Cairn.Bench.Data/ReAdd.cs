using System.Diagnostics;
using Cairn.Adapters.FileSystem;
using Cairn.Adapters.Parquet;
using Cairn.Adapters.Sqlite;
using Cairn.Application;

/// <summary>
/// Re-adding an unchanged file, measured inside one process (no process start-up): the first re-add (code not yet
/// compiled by the JIT) and the median of twenty more.
/// </summary>
internal static class ReAdd
{
    public static async Task RunAsync(string file)
    {
        var home = Directory.CreateTempSubdirectory("cairn-bench-readd").FullName;
        try
        {
            var store = await SqliteMetadataStore.OpenAsync(Path.Combine(home, "metadata.db"), TimeProvider.System, CancellationToken.None);
            var datasets = new DatasetService(store, new FileSystemArtifactStore(Path.Combine(home, "artifacts")),
                SqliteFileHashCache.Open(Path.Combine(home, "file-hashes.db")), new ParquetFiles(), new Actor("bench"));
            var clock = Stopwatch.StartNew();
            await datasets.AddAsync(file, "bench", CancellationToken.None);
            Console.WriteLine($"add {new FileInfo(file).Length / 1048576.0:F0} MiB: {clock.Elapsed.TotalSeconds:F2} s");

            clock.Restart();
            var (_, created) = await datasets.AddAsync(file, "bench", CancellationToken.None);
            var first = clock.Elapsed.TotalMilliseconds;
            var warm = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                clock.Restart();
                await datasets.AddAsync(file, "bench", CancellationToken.None);
                warm.Add(clock.Elapsed.TotalMilliseconds);
            }

            warm.Sort();
            Console.WriteLine($"re-add unchanged, in process: first {first:F1} ms (cold code), then median {warm[10]:F2} ms, max {warm[^1]:F2} ms; created again: {created}   target <= 50 ms");
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
