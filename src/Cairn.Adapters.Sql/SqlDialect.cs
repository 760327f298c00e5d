using System.Data;
using System.Data.Common;
using System.Globalization;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Adapters.Sql;

/// <summary>What differs between the databases the metadata store runs on; everything else is written once in <see cref="SqlMetadataStore"/>.</summary>
public abstract class SqlDialect
{
    /// <summary>The schema as numbered steps. A step is never edited once released; changes are new steps.</summary>
    public abstract IReadOnlyList<(int Version, string Name, string Sql)> Migrations { get; }

    /// <summary>The two-argument minimum and maximum functions (SQLite: MIN, MAX; PostgreSQL: LEAST, GREATEST).</summary>
    public abstract (string Least, string Greatest) MinMax { get; }

    /// <summary>Opens a connection, ready for use.</summary>
    public abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Once per open, before migrations: database-wide settings.</summary>
    public virtual Task PrepareDatabaseAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Whether write transactions may run at once (each then takes <see cref="LockForWriteAsync"/>), rather than one at a time.</summary>
    public virtual bool ConcurrentWriters => false;

    /// <summary>
    /// Takes the write lock inside a transaction that has just begun, so writers from every process queue: the whole
    /// database's when <paramref name="runScope"/> is null, else only that run's (writes confined to one run's rows).
    /// </summary>
    public virtual Task LockForWriteAsync(DbConnection connection, DbTransaction transaction, string? runScope, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>A case-sensitive LIKE of <paramref name="value"/> against a pattern, given the pattern's parameter name and a way to add parameters.</summary>
    public abstract string Like(string value, string pattern, Func<object?, string> parameter);

    /// <summary>A case-insensitive LIKE.</summary>
    public abstract string ILike(string value, string pattern, Func<object?, string> parameter);

    /// <summary>A condition that <paramref name="column"/> is one of the strings in the parameter <paramref name="parameter"/>, bound with <see cref="ListValue"/>.</summary>
    public abstract string InList(string column, string parameter);

    /// <summary>The value to bind for an <see cref="InList"/> or <see cref="ListRows"/> parameter.</summary>
    public abstract object ListValue(IReadOnlyList<string> values);

    /// <summary>A table of one column, <c>value</c>, holding the strings in the parameter <paramref name="parameter"/>, bound with <see cref="ListValue"/>.</summary>
    public abstract string ListRows(string parameter);

    /// <summary>
    /// Stores a segment of a deployment's prediction log and indexes its request ids (an id already indexed keeps its
    /// first segment). This default writes the segment and then its ids with one statement each.
    /// </summary>
    public virtual async Task AppendSegmentAsync(DbConnection connection, DbTransaction transaction, string deployment, PredictionSegment segment,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        long id;
        using (var store = connection.CreateCommand())
        {
            store.Transaction = transaction;
            store.CommandText = """
                INSERT INTO prediction_segments (deployment, first_at, last_at, rows_logged, bytes, first_request, last_request, fields, inputs)
                VALUES (@d, @first, @last, @rows, @bytes, @firstRequest, @lastRequest, @fields, @inputs) RETURNING id
                """;
            AddParameter(store, "@d", DbType.String).Value = deployment;
            AddParameter(store, "@first", DbType.Int64).Value = segment.FirstAt.ToUnixTimeMilliseconds();
            AddParameter(store, "@last", DbType.Int64).Value = segment.LastAt.ToUnixTimeMilliseconds();
            AddParameter(store, "@rows", DbType.Int64).Value = (long)segment.Rows;
            AddParameter(store, "@bytes", DbType.Int64).Value = segment.Bytes;
            AddParameter(store, "@firstRequest", DbType.String).Value = segment.RequestIds.Count > 0 ? segment.RequestIds[0] : "";
            AddParameter(store, "@lastRequest", DbType.String).Value = segment.RequestIds.Count > 0 ? segment.RequestIds[^1] : "";
            AddParameter(store, "@fields", DbType.Binary).Value = segment.Fields;
            AddParameter(store, "@inputs", DbType.Binary).Value = segment.Inputs;
            id = Convert.ToInt64(await store.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        // All the ids in one statement, as one list parameter: bound parameters are looked up by name, so a statement
        // of hundreds of them costs more in binding than in inserting.
        using var index = connection.CreateCommand();
        index.Transaction = transaction;
        // "WHERE true" tells SQLite's parser that ON CONFLICT is the upsert clause, not a join's ON.
        index.CommandText = $"INSERT INTO prediction_requests (id, segment) SELECT value, @s FROM {ListRows("@ids")} WHERE true ON CONFLICT (id) DO NOTHING";
        AddParameter(index, "@s", DbType.Int64).Value = id;
        AddParameter(index, "@ids", DbType.String).Value = ListValue(segment.RequestIds);
        await index.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes a batch of metric points: appends their chunks to metric_chunks, upserts each key's latest point into
    /// latest_metrics (only where it is newer), and merges the rollups into metric_rollups. This default sends one
    /// prepared statement per row, which is cheapest where the database is in-process; a dialect may batch.
    /// </summary>
    public virtual Task WriteMetricsAsync(DbConnection connection, DbTransaction transaction, string runId, IReadOnlyList<EncodedChunk> chunks,
        IReadOnlyList<Metric> latest, IReadOnlyList<MetricRollup> rollups, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        ArgumentNullException.ThrowIfNull(latest);
        ArgumentNullException.ThrowIfNull(rollups);
        using (var append = connection.CreateCommand())
        {
            append.Transaction = transaction;
            append.CommandText = "INSERT INTO metric_chunks (run_id, key, first_step, last_step, points, data) VALUES (@run, @key, @first, @last, @points, @data)";
            AddParameter(append, "@run", DbType.String).Value = runId;
            var chunkKey = AddParameter(append, "@key", DbType.String);
            var firstStep = AddParameter(append, "@first", DbType.Int64);
            var lastStep = AddParameter(append, "@last", DbType.Int64);
            var points = AddParameter(append, "@points", DbType.Int64);
            var data = AddParameter(append, "@data", DbType.Binary);
            append.Prepare();
            foreach (var chunk in chunks)
            {
                (chunkKey.Value, firstStep.Value, lastStep.Value, points.Value, data.Value) = (chunk.Key, chunk.FirstStep, chunk.LastStep, (long)chunk.Points, chunk.Data);
                append.ExecuteNonQuery();
            }
        }

        using (var upsert = MetricCommand(connection, transaction, runId, $"INSERT INTO latest_metrics (run_id, key, value, step, timestamp) {MetricValues} {LatestMetricUpsert}",
                   out var bindLatest))
        {
            foreach (var metric in latest)
            {
                bindLatest(metric);
                upsert.ExecuteNonQuery();
            }
        }

        using var merge = connection.CreateCommand();
        merge.Transaction = transaction;
        merge.CommandText = $"""
            INSERT INTO metric_rollups (run_id, key, block, first_step, last_step, low, high, last_value, last_timestamp, points)
            VALUES (@run, @key, @block, @first, @last, @low, @high, @value, @ts, @points)
            {RollupMerge}
            """;
        AddParameter(merge, "@run", DbType.String).Value = runId;
        var key = AddParameter(merge, "@key", DbType.String);
        var block = AddParameter(merge, "@block", DbType.Int64);
        var first = AddParameter(merge, "@first", DbType.Int64);
        var last = AddParameter(merge, "@last", DbType.Int64);
        var low = AddParameter(merge, "@low", DbType.Double);
        var high = AddParameter(merge, "@high", DbType.Double);
        var value = AddParameter(merge, "@value", DbType.Double);
        var timestamp = AddParameter(merge, "@ts", DbType.Int64);
        var count = AddParameter(merge, "@points", DbType.Int64);
        merge.Prepare();
        foreach (var rollup in rollups)
        {
            (key.Value, block.Value, first.Value, last.Value) = (rollup.Key, rollup.Block, rollup.FirstStep, rollup.LastStep);
            (low.Value, high.Value, value.Value) = (rollup.Low ?? (object)DBNull.Value, rollup.High ?? (object)DBNull.Value, rollup.LastValue ?? (object)DBNull.Value);
            (timestamp.Value, count.Value) = (rollup.LastTimestamp, rollup.Points);
            merge.ExecuteNonQuery();
        }

        return Task.CompletedTask;
    }

    /// <summary>The ON CONFLICT clause that keeps latest_metrics at each key's newest point (highest step, then newest time).</summary>
    protected const string LatestMetricUpsert = """
        ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
        WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)
        """;

    /// <summary>The ON CONFLICT clause that merges a write's rollup into the stored one.</summary>
    protected string RollupMerge => $"""
        ON CONFLICT (run_id, key, block) DO UPDATE SET
            first_step = {MinMax.Least}(metric_rollups.first_step, excluded.first_step),
            low = COALESCE({MinMax.Least}(metric_rollups.low, excluded.low), metric_rollups.low, excluded.low),
            high = COALESCE({MinMax.Greatest}(metric_rollups.high, excluded.high), metric_rollups.high, excluded.high),
            last_value = CASE WHEN excluded.last_step > metric_rollups.last_step
                                   OR (excluded.last_step = metric_rollups.last_step AND excluded.last_timestamp >= metric_rollups.last_timestamp)
                              THEN excluded.last_value ELSE metric_rollups.last_value END,
            last_timestamp = CASE WHEN excluded.last_step > metric_rollups.last_step
                                       OR (excluded.last_step = metric_rollups.last_step AND excluded.last_timestamp >= metric_rollups.last_timestamp)
                                  THEN excluded.last_timestamp ELSE metric_rollups.last_timestamp END,
            last_step = {MinMax.Greatest}(metric_rollups.last_step, excluded.last_step),
            points = metric_rollups.points + excluded.points
        """;

    private const string MetricValues = "VALUES (@run, @key, @value, @step, @ts)";

    private static DbCommand MetricCommand(DbConnection connection, DbTransaction transaction, string runId, string sql, out Action<Metric> bind)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        AddParameter(command, "@run", DbType.String).Value = runId;
        var key = AddParameter(command, "@key", DbType.String);
        var value = AddParameter(command, "@value", DbType.Double);
        var step = AddParameter(command, "@step", DbType.Int64);
        var timestamp = AddParameter(command, "@ts", DbType.Int64);
        command.Prepare();
        bind = metric =>
        {
            key.Value = metric.Key;
            value.Value = double.IsNaN(metric.Value) ? DBNull.Value : metric.Value;
            step.Value = metric.Step;
            timestamp.Value = metric.Timestamp.ToUnixTimeMilliseconds();
        };
        return command;
    }

    private static DbParameter AddParameter(DbCommand command, string name, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
