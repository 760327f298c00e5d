using Cairn.Core;
using Cairn.Core.Ports;
using Microsoft.Data.Sqlite;

namespace Cairn.Adapters.Sqlite;

/// <summary>
/// File hashes in a small SQLite file beside the home's other local state. A file counts as unchanged while its full
/// path, size and modification time (to the tick) are those recorded, as DVC and git decide; anything else is a miss.
/// </summary>
public sealed class SqliteFileHashCache : IFileHashCache
{
    private readonly string _connectionString;

    private SqliteFileHashCache(string connectionString) => _connectionString = connectionString;

    /// <summary>Opens (creating if needed) the cache file.</summary>
    public static SqliteFileHashCache Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var cache = new SqliteFileHashCache(new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString());
        using var connection = cache.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS file_hashes (path TEXT PRIMARY KEY, size INTEGER NOT NULL, modified INTEGER NOT NULL, sha256 TEXT NOT NULL);
            """;
        command.ExecuteNonQuery();
        return cache;
    }

    /// <inheritdoc />
    public async Task<ContentHash?> LookupAsync(FileInfo file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        file.Refresh();
        if (!file.Exists)
        {
            return null;
        }

        await using var connection = Connect();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sha256 FROM file_hashes WHERE path = $path AND size = $size AND modified = $modified";
        command.Parameters.AddWithValue("$path", file.FullName);
        command.Parameters.AddWithValue("$size", file.Length);
        command.Parameters.AddWithValue("$modified", file.LastWriteTimeUtc.Ticks);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string hex && ContentHash.TryParse(hex, out var hash) ? hash : null;
    }

    /// <inheritdoc />
    public async Task RememberAsync(FileInfo file, ContentHash hash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        await using var connection = Connect();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO file_hashes (path, size, modified, sha256) VALUES ($path, $size, $modified, $hash)
            ON CONFLICT (path) DO UPDATE SET size = excluded.size, modified = excluded.modified, sha256 = excluded.sha256
            """;
        command.Parameters.AddWithValue("$path", file.FullName);
        command.Parameters.AddWithValue("$size", file.Length);
        command.Parameters.AddWithValue("$modified", file.LastWriteTimeUtc.Ticks);
        command.Parameters.AddWithValue("$hash", hash.Hex);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}
