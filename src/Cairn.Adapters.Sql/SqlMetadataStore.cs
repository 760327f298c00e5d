using System.Data.Common;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Adapters.Sql;

/// <summary>
/// The metadata store over ADO.NET, written once for every database: a <see cref="SqlDialect"/> supplies what
/// differs (connections, schema steps, write locking, pattern matching). Every write is one transaction that also
/// appends its audit event, and writers are serialized, so numbering (versions, experiment ids) never races.
/// Migrations are applied when the store opens.
/// </summary>
public abstract partial class SqlMetadataStore : IDatasetStore, ITrackingStore, IRegistryStore, IDeploymentStore, IAuditStore, IAsyncDisposable
{
    private readonly SqlDialect _dialect;
    private readonly TimeProvider _time;

    // Where the database has one writer at a time (SQLite), writers in this process queue here instead of contending for its lock.
    private readonly SemaphoreSlim _writer = new(1, 1);

    private protected SqlMetadataStore(SqlDialect dialect, TimeProvider time)
    {
        _dialect = dialect;
        _time = time;
    }

    /// <summary>Releases the store's connections; a pool left open would hold its idle connections for minutes.</summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>The schema version recorded in the database.</summary>
    public async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var version = await ScalarAsync(connection, null, "SELECT MAX(version) FROM schema_migrations", [], cancellationToken).ConfigureAwait(false);
        return version is null ? 0 : Convert.ToInt32(version, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Applies the dialect's schema steps that the database has not seen yet; each in its own write transaction.</summary>
    private protected async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await _dialect.PrepareDatabaseAsync(connection, cancellationToken).ConfigureAwait(false);
        // Under the write lock: two processes starting at once would otherwise race to create the table.
        await using (var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false))
        {
            await ExecuteAsync(connection, transaction, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """, [], cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        var current = _dialect.Migrations[^1].Version;
        // Most opens find every step applied: one read says so, and no write transaction is taken.
        var seen = (await QueryAsync(connection, null, "SELECT version FROM schema_migrations", [], r => Int(r, 0), cancellationToken).ConfigureAwait(false))
            .ToHashSet();
        foreach (var (version, name, sql) in _dialect.Migrations.Where(m => !seen.Contains(m.Version)))
        {
            // Each step checks again inside its own locked write transaction, so concurrent starts apply it once.
            await using var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            var applied = await ScalarAsync(connection, transaction, "SELECT 1 FROM schema_migrations WHERE version = @v", [("@v", version)], cancellationToken).ConfigureAwait(false);
            if (applied is null)
            {
                await ExecuteAsync(connection, transaction, sql, [], cancellationToken).ConfigureAwait(false);
                if (version == MetricChunksStep)
                {
                    await MoveMetricRowsToChunksAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
                }
                else if (version == PredictionSegmentsStep)
                {
                    await MovePredictionRowsToSegmentsAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
                }

                await ExecuteAsync(connection, transaction, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t)",
                    [("@v", version), ("@n", name), ("@t", Now())], cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        var newest = await ScalarAsync(connection, null, "SELECT MAX(version) FROM schema_migrations", [], cancellationToken).ConfigureAwait(false);
        if (newest is not null && Convert.ToInt32(newest, System.Globalization.CultureInfo.InvariantCulture) is var n && n > current)
        {
            throw new CairnException(ErrorCode.Conflict,
                $"The metadata database has schema version {n}, newer than this build of Cairn understands ({current}); upgrade Cairn.");
        }
    }

    // The schema step that introduced metric_chunks; its data move is code, not SQL.
    private const int MetricChunksStep = 8;

    // Points stored one row each before step 8 become chunks, run by run (memory bounded by the largest run), and the old table goes.
    private async Task MoveMetricRowsToChunksAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var runIds = await QueryAsync(connection, transaction, "SELECT DISTINCT run_id FROM run_metrics", [], r => r.GetString(0), cancellationToken)
            .ConfigureAwait(false);
        foreach (var runId in runIds)
        {
            var points = await QueryAsync(connection, transaction,
                "SELECT key, value, step, timestamp FROM run_metrics WHERE run_id = @run ORDER BY key, step, timestamp", [("@run", runId)],
                r => new Metric(r.GetString(0), r.IsDBNull(1) ? double.NaN : r.GetDouble(1), r.GetInt64(2), Time(r.GetInt64(3))), cancellationToken).ConfigureAwait(false);
            // Latest values and rollups were derived from these rows by earlier steps; only the points move.
            await _dialect.WriteMetricsAsync(connection, transaction, runId, MetricChunk.From(points), [], [], cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, transaction, "DROP TABLE run_metrics", [], cancellationToken).ConfigureAwait(false);
    }

    private async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dialect.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e) when (IsOutage(e))
        {
            throw Unavailable(e);
        }
    }

    // A database that refuses, drops or times out connections, or is busy, is down for now rather than broken: callers
    // get Unavailable (503 with Retry-After, exit code 6) and may retry. Nothing was committed, since commit failed or never ran.
    private static bool IsOutage(DbException e) =>
        e.IsTransient || e.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException;

    // Database errors never leave the store as such: an outage is Unavailable, anything else Internal (a bug or a damaged database).
    private static CairnException Translate(DbException e) =>
        IsOutage(e) ? Unavailable(e) : new CairnException(ErrorCode.Internal, $"The metadata database failed: {e.Message}", e);

    private static CairnException Unavailable(DbException e) =>
        new(ErrorCode.Unavailable, $"The metadata database is unavailable: {e.Message.TrimEnd('.')}. Retry shortly.", e);

    private async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await _dialect.LockForWriteAsync(connection, transaction, null, cancellationToken).ConfigureAwait(false);
        return transaction;
    }

    // Runs a write in one transaction that holds the database's write lock from its start, so writers queue instead of deadlocking.
    private Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(null, work, cancellationToken);

    // A write confined to one run's own rows (its metrics, params, tags, inputs, artifacts). Where the database allows
    // concurrent writers, such writes to different runs proceed in parallel; other writes still exclude them.
    private async Task<T> WriteAsync<T>(string? runScope, Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        var queued = !_dialect.ConcurrentWriters;
        if (queued)
        {
            await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await _dialect.LockForWriteAsync(connection, transaction, runScope, cancellationToken).ConfigureAwait(false);
            var result = await work(connection, transaction).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch (DbException e)
        {
            throw Translate(e);
        }
        finally
        {
            if (queued)
            {
                _writer.Release();
            }
        }
    }

    private async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await work(connection).ConfigureAwait(false);
        }
        catch (DbException e)
        {
            throw Translate(e);
        }
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    // Integer columns are 64-bit in every dialect; numbers such as versions are read back as int.
    private static int Int(DbDataReader reader, int ordinal) => checked((int)reader.GetInt64(ordinal));

    private static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            // NaN is stored as NULL everywhere (SQLite cannot hold it), so comparisons treat it alike in every database.
            parameter.Value = value is null or double.NaN ? DBNull.Value : value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql,
        IEnumerable<(string, object?)> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, DbTransaction? transaction, string sql,
        IEnumerable<(string, object?)> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    private static async Task<List<T>> QueryAsync<T>(DbConnection connection, DbTransaction? transaction, string sql,
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

    private Task RecordEventAsync(DbConnection connection, DbTransaction transaction, string actor, string kind, string subject,
        Dictionary<string, string> detail, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, "INSERT INTO events (at, actor, kind, subject, detail) VALUES (@at, @actor, @kind, @subject, @detail)",
            [("@at", Now()), ("@actor", actor), ("@kind", kind), ("@subject", subject),
             ("@detail", JsonSerializer.Serialize(detail, CairnJson.Compact.DictionaryStringString))], cancellationToken);
}
