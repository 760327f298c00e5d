using System.Data.Common;
using System.Text.Json;
using Cairn.Core;
using Microsoft.Data.Sqlite;

namespace Cairn.Adapters.Sqlite;

/// <summary>
/// The embedded metadata store: one SQLite file in WAL mode, so readers never block the writer. Every write is
/// one IMMEDIATE transaction that also appends its audit event. Migrations are applied when the store opens.
/// </summary>
public sealed partial class SqliteMetadataStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;

    // Writers in this process queue here instead of polling SQLite's busy lock; other processes still wait on the lock.
    private readonly SemaphoreSlim _writer = new(1, 1);

    private SqliteMetadataStore(string connectionString, TimeProvider time)
    {
        _connectionString = connectionString;
        _time = time;
    }

    /// <summary>The schema version this build writes.</summary>
    public static int CurrentSchemaVersion => Migrations.All[^1].Version;

    /// <summary>Opens (creating if needed) the database file and brings its schema up to date.</summary>
    public static async Task<SqliteMetadataStore> OpenAsync(string path, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            ForeignKeys = true,
            Pooling = true,
            // Microsoft.Data.Sqlite retries a busy database for up to this long before failing.
            DefaultTimeout = 30,
        }.ToString();
        var store = new SqliteMetadataStore(connectionString, time);
        await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <summary>The schema version recorded in the database.</summary>
    public async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var version = await ScalarAsync(connection, null, "SELECT MAX(version) FROM schema_migrations", [], cancellationToken).ConfigureAwait(false);
        return version is long v ? (int)v : 0;
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL", [], cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            )
            """, [], cancellationToken).ConfigureAwait(false);
        foreach (var (version, name, sql) in Migrations.All)
        {
            // Each step checks again inside its own write transaction, so concurrent starts apply it once.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var applied = await ScalarAsync(connection, transaction, "SELECT 1 FROM schema_migrations WHERE version = $v", [("$v", version)], cancellationToken).ConfigureAwait(false);
            if (applied is null)
            {
                await ExecuteAsync(connection, transaction, sql, [], cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t)",
                    [("$v", version), ("$n", name), ("$t", Now())], cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        var newest = await ScalarAsync(connection, null, "SELECT MAX(version) FROM schema_migrations", [], cancellationToken).ConfigureAwait(false);
        if (newest is long n && n > CurrentSchemaVersion)
        {
            throw new CairnException(ErrorCode.Conflict,
                $"The metadata database has schema version {n}, newer than this build of Cairn understands ({CurrentSchemaVersion}); upgrade Cairn.");
        }
    }

    private async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    // Runs a write in one IMMEDIATE transaction (Microsoft.Data.Sqlite's default), so writers queue instead of deadlocking.
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var result = await work(connection, transaction).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        finally
        {
            _writer.Release();
        }
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await work(connection).ConfigureAwait(false);
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql,
        IEnumerable<(string, object?)> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql,
        IEnumerable<(string, object?)> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    private static async Task<List<T>> QueryAsync<T>(SqliteConnection connection, SqliteTransaction? transaction, string sql,
        IEnumerable<(string, object?)> parameters, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var results = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            results.Add(map(reader));
        }

        return results;
    }

    private Task RecordEventAsync(SqliteConnection connection, SqliteTransaction transaction, string actor, string kind, string subject,
        Dictionary<string, string> detail, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, "INSERT INTO events (at, actor, kind, subject, detail) VALUES ($at, $actor, $kind, $subject, $detail)",
            [("$at", Now()), ("$actor", actor), ("$kind", kind), ("$subject", subject),
             ("$detail", JsonSerializer.Serialize(detail, CairnJson.Compact.DictionaryStringString))], cancellationToken);
}
