using System.Data;
using System.Data.Common;
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

    /// <summary>The value to bind for an <see cref="InList"/> parameter.</summary>
    public abstract object ListValue(IReadOnlyList<string> values);

    /// <summary>
    /// Appends a batch of predictions to the log, leaving an id and role already there as they are. This default
    /// sends one prepared statement per row, which is cheapest where the database is in-process; a dialect may batch.
    /// </summary>
    public virtual Task AppendPredictionsAsync(DbConnection connection, DbTransaction transaction, PredictionLogBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO predictions (id, role, deployment, at, model, version, predicted, score, inputs_json)
            VALUES (@id, @role, @d, @at, @model, @version, @predicted, @score, @inputs)
            ON CONFLICT (id, role) DO NOTHING
            """;
        var (id, role) = (AddParameter(insert, "@id", DbType.String), AddParameter(insert, "@role", DbType.String));
        AddParameter(insert, "@d", DbType.String).Value = batch.Deployment;
        var (at, model, version) = (AddParameter(insert, "@at", DbType.Int64), AddParameter(insert, "@model", DbType.String), AddParameter(insert, "@version", DbType.Int64));
        var (predicted, score, inputs) = (AddParameter(insert, "@predicted", DbType.String), AddParameter(insert, "@score", DbType.Double), AddParameter(insert, "@inputs", DbType.String));
        insert.Prepare();
        for (var i = 0; i < batch.Count; i++)
        {
            var row = batch.Rows[i];
            (id.Value, role.Value, at.Value, model.Value, version.Value) = (row.Id, row.Role, row.At.ToUnixTimeMilliseconds(), row.Model, (long)row.Version);
            (predicted.Value, score.Value, inputs.Value) = (row.Predicted, double.IsFinite(row.Score) ? row.Score : DBNull.Value, batch.InputsJson(i));
            insert.ExecuteNonQuery();
        }

        return Task.CompletedTask;
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
