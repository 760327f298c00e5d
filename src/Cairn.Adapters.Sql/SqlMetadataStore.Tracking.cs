using System.Data.Common;
using System.Globalization;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Runs;
using Cairn.Core.Search;

namespace Cairn.Adapters.Sql;

public abstract partial class SqlMetadataStore
{
    private const string ExperimentColumns = "id, name, artifact_location, lifecycle_stage, created_at, updated_at";

    /// <inheritdoc />
    public Task<Experiment> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyDictionary<string, string> tags, string actor,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return WriteAsync(async (connection, transaction) =>
        {
            if (await ScalarAsync(connection, transaction, "SELECT id FROM experiments WHERE name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new CairnException(ErrorCode.AlreadyExists, $"Experiment '{name}' already exists.");
            }

            var now = Now();
            var id = (long)(await ScalarAsync(connection, transaction,
                "INSERT INTO experiments (name, artifact_location, lifecycle_stage, created_at, updated_at) VALUES (@name, '', 'active', @now, @now) RETURNING id",
                [("@name", name), ("@now", now)], cancellationToken).ConfigureAwait(false))!;
            var location = artifactLocation ?? $"mlflow-artifacts:/{id}";
            await ExecuteAsync(connection, transaction, "UPDATE experiments SET artifact_location = @location WHERE id = @id",
                [("@location", location), ("@id", id)], cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in tags)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (@id, @key, @value) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                    [("@id", id), ("@key", key), ("@value", value)], cancellationToken).ConfigureAwait(false);
            }

            var idText = id.ToString(CultureInfo.InvariantCulture);
            await GrantOwnerAsync(connection, transaction, actor, ResourceRef.Experiment(idText), cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "experiment.created", idText, new() { ["name"] = name }, cancellationToken).ConfigureAwait(false);
            return new Experiment(idText, name, location, LifecycleStage.Active, Time(now), Time(now), new SortedDictionary<string, string>(tags.ToDictionary(), StringComparer.Ordinal));
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Experiment?> GetExperimentAsync(string id, CancellationToken cancellationToken) =>
        !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? Task.FromResult<Experiment?>(null)
            : ReadAsync(async connection => (await LoadExperimentsAsync(connection, "WHERE id = @id", [("@id", number)], cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(), cancellationToken);

    /// <inheritdoc />
    public Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await LoadExperimentsAsync(connection, "WHERE name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Experiment>> SearchExperimentsAsync(LifecycleStage? lifecycle, SearchQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new ExperimentQuerySql(_dialect);
        var where = sql.Where(lifecycle, query.Filter);
        var order = sql.OrderBy(query.OrderBy, "e.id");
        var parameters = new List<(string, object?)>(sql.Parameters);
        var visible = Visible(query.VisibleTo, ResourceKind.Experiment, "e.id", parameters);
        return ReadAsync<IReadOnlyList<Experiment>>(async connection => await LoadExperimentsAsync(connection,
            $"e WHERE {where} AND {visible} ORDER BY {order} LIMIT {query.Limit} OFFSET {query.Offset}", [.. parameters], cancellationToken).ConfigureAwait(false),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task RenameExperimentAsync(string id, string newName, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var number = await RequireExperimentAsync(connection, transaction, id, cancellationToken).ConfigureAwait(false);
            var holder = await ScalarAsync(connection, transaction, "SELECT id FROM experiments WHERE name = @name", [("@name", newName)], cancellationToken).ConfigureAwait(false);
            if (holder is long other && other != number)
            {
                throw new CairnException(ErrorCode.AlreadyExists, $"Experiment '{newName}' already exists.");
            }

            await ExecuteAsync(connection, transaction, "UPDATE experiments SET name = @name, updated_at = @now WHERE id = @id",
                [("@name", newName), ("@now", Now()), ("@id", number)], cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "experiment.renamed", id, new() { ["name"] = newName }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SetExperimentLifecycleAsync(string id, LifecycleStage lifecycle, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var number = await RequireExperimentAsync(connection, transaction, id, cancellationToken).ConfigureAwait(false);
            if (number == 0 && lifecycle == LifecycleStage.Deleted)
            {
                throw CairnException.Invalid("The default experiment (id 0) cannot be deleted.");
            }

            var stage = LifecycleName(lifecycle);
            await ExecuteAsync(connection, transaction, "UPDATE experiments SET lifecycle_stage = @stage, updated_at = @now WHERE id = @id",
                [("@stage", stage), ("@now", Now()), ("@id", number)], cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, "UPDATE runs SET lifecycle_stage = @stage WHERE experiment_id = @id",
                [("@stage", stage), ("@id", number)], cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, $"experiment.{(lifecycle == LifecycleStage.Deleted ? "deleted" : "restored")}", id, [],
                cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SetExperimentTagAsync(string id, string key, string? value, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var number = await RequireExperimentAsync(connection, transaction, id, cancellationToken).ConfigureAwait(false);
            await (value is null
                ? ExecuteAsync(connection, transaction, "DELETE FROM experiment_tags WHERE experiment_id = @id AND key = @key", [("@id", number), ("@key", key)], cancellationToken)
                : ExecuteAsync(connection, transaction, "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (@id, @key, @value) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                    [("@id", number), ("@key", key), ("@value", value)], cancellationToken)).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, value is null ? "experiment.tag_deleted" : "experiment.tag_set", id, new() { ["key"] = key },
                cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags, string? batchId, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(tags);
        return WriteAsync(runId, async (connection, transaction) =>
        {
            await RequireActiveRunAsync(connection, transaction, runId, cancellationToken).ConfigureAwait(false);
            if (batchId is not null && await ExecuteAsync(connection, transaction,
                    "INSERT INTO log_batches (run_id, batch_id) VALUES (@run, @batch) ON CONFLICT DO NOTHING", [("@run", runId), ("@batch", batchId)],
                    cancellationToken).ConfigureAwait(false) == 0)
            {
                return false;
            }

            // Params are write-once: one read finds those already set, and only new keys are written.
            var known = parameters.Count == 0 ? [] : (await QueryAsync(connection, transaction,
                $"SELECT key, value FROM run_params WHERE run_id = @run AND {_dialect.InList("key", "@keys")}",
                [("@run", runId), ("@keys", _dialect.ListValue([.. parameters.Select(p => p.Key).Distinct()]))],
                r => (Key: r.GetString(0), Value: r.GetString(1)), cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Key, p => p.Value);
            foreach (var (key, value) in parameters)
            {
                if (known.TryGetValue(key, out var old))
                {
                    if (old != value)
                    {
                        throw CairnException.Invalid($"Param '{key}' of run {runId} is already '{old}'; params are write-once, so it cannot become '{value}'.");
                    }

                    continue;
                }

                await ExecuteAsync(connection, transaction, "INSERT INTO run_params (run_id, key, value) VALUES (@run, @key, @value)",
                    [("@run", runId), ("@key", key), ("@value", value)], cancellationToken).ConfigureAwait(false);
                known[key] = value;
            }

            await InsertMetricsAsync(connection, transaction, runId, metrics, cancellationToken).ConfigureAwait(false);

            foreach (var (key, value) in tags)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO run_tags (run_id, key, value) VALUES (@run, @key, @value) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                    [("@run", runId), ("@key", key), ("@value", value)], cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteRunTagAsync(string runId, string key, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RequireActiveRunAsync(connection, transaction, runId, cancellationToken).ConfigureAwait(false);
            var deleted = await ExecuteAsync(connection, transaction, "DELETE FROM run_tags WHERE run_id = @run AND key = @key",
                [("@run", runId), ("@key", key)], cancellationToken).ConfigureAwait(false);
            return deleted > 0 ? true : throw CairnException.NotFound($"Run {runId} has no tag '{key}'.");
        }, cancellationToken);

    /// <inheritdoc />
    public Task UpdateRunAsync(string runId, RunStatus? status, DateTimeOffset? endedAt, string? name, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RequireActiveRunAsync(connection, transaction, runId, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, """
                UPDATE runs SET status = COALESCE(@status, status), ended_at = COALESCE(@end, ended_at), name = COALESCE(@name, name) WHERE id = @id
                """, [("@id", runId), ("@status", status is { } s ? StatusName(s) : null), ("@end", endedAt?.ToUnixTimeMilliseconds()), ("@name", name)],
                cancellationToken).ConfigureAwait(false);
            if (status is { } changed)
            {
                await RecordEventAsync(connection, transaction, actor, "run.status_changed", runId, new() { ["status"] = StatusName(changed) }, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SetRunLifecycleAsync(string runId, LifecycleStage lifecycle, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var changed = await ExecuteAsync(connection, transaction, "UPDATE runs SET lifecycle_stage = @stage WHERE id = @id",
                [("@id", runId), ("@stage", LifecycleName(lifecycle))], cancellationToken).ConfigureAwait(false);
            if (changed == 0)
            {
                throw CairnException.NotFound($"There is no run '{runId}'.");
            }

            await RecordEventAsync(connection, transaction, actor, $"run.{(lifecycle == LifecycleStage.Deleted ? "deleted" : "restored")}", runId, [],
                cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string key, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<Metric>>(async connection => await ReadSeriesAsync(connection, runId, key, cancellationToken).ConfigureAwait(false),
            cancellationToken);

    // A series is read chunk by chunk in step order; chunks written out of order are merged by one sort.
    private static async Task<List<Metric>> ReadSeriesAsync(DbConnection connection, string runId, string key, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, null, "SELECT data FROM metric_chunks WHERE run_id = @run AND key = @key ORDER BY first_step, id",
            [("@run", runId), ("@key", key)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var points = new List<Metric>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            MetricChunk.Decode((byte[])reader.GetValue(0), key, points);
        }

        MetricChunk.Order(points);
        return points;
    }

    // Appends the points as chunks, moves each key's latest point forward where a newer one arrived, and folds the points into
    // their 1024-step rollups; the dialect sends the rows in the fewest round trips its database allows.
    private Task InsertMetricsAsync(DbConnection connection, DbTransaction transaction, string runId, IReadOnlyList<Metric> metrics,
        CancellationToken cancellationToken)
    {
        if (metrics.Count == 0)
        {
            return Task.CompletedTask;
        }

        var latest = metrics.GroupBy(m => m.Key).Select(g => g.MaxBy(m => (m.Step, m.Timestamp))!).ToList();
        var rollups = metrics.GroupBy(m => (m.Key, Block: m.Step >> MetricRollup.Shift)).Select(block =>
        {
            var newest = block.MaxBy(m => (m.Step, m.Timestamp.ToUnixTimeMilliseconds()))!;
            var values = block.Select(m => m.Value).Where(v => !double.IsNaN(v)).ToList();
            return new MetricRollup(block.Key.Key, block.Key.Block, block.Min(m => m.Step), newest.Step,
                values.Count > 0 ? values.Min() : null, values.Count > 0 ? values.Max() : null,
                double.IsNaN(newest.Value) ? null : newest.Value, newest.Timestamp.ToUnixTimeMilliseconds(), block.Count());
        }).ToList();
        return _dialect.WriteMetricsAsync(connection, transaction, runId, MetricChunk.From(metrics), latest, rollups, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<MetricBucket>> GetMetricBucketsAsync(string runId, string key, int buckets, long? fromStep, long? toStep,
        CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<MetricBucket>>(async connection =>
        {
            // A long series is bucketed from its 1024-step rollups, which it has ~1000x fewer of than points; a short one from its points.
            using var rollups = Command(connection, null, """
                SELECT first_step, last_step, low, high, last_value, points FROM metric_rollups WHERE run_id = @run AND key = @key ORDER BY block
                """, [("@run", runId), ("@key", key)]);
            var blocks = new List<MetricBucket>();
            using (var reader = rollups.ExecuteReader())
            {
                while (reader.Read())
                {
                    var block = new MetricBucket(reader.GetInt64(0), reader.GetInt64(1), Real(reader, 2), Real(reader, 3), Real(reader, 4), reader.GetInt64(5));
                    if (block.LastStep >= (fromStep ?? long.MinValue) && block.FirstStep <= (toStep ?? long.MaxValue))
                    {
                        blocks.Add(block);
                    }
                }
            }

            var total = blocks.Sum(b => b.Count);
            if (total == 0)
            {
                return [];
            }

            var first = Math.Max(blocks[0].FirstStep, fromStep ?? long.MinValue);
            var last = Math.Min(blocks[^1].LastStep, toStep ?? long.MaxValue);
            var summary = new MetricSummary(first, last, buckets);
            // Rollups serve when there are enough of them to fill at least half the requested buckets; a zoomed window
            // narrow enough to need fewer than that is read point by point, so zooming in shows every point.
            if (blocks.Count >= buckets / 2 && total > buckets)
            {
                foreach (var block in blocks)
                {
                    summary.Add(block);
                }

                return summary.Buckets;
            }

            foreach (var point in await ReadSeriesAsync(connection, runId, key, cancellationToken).ConfigureAwait(false))
            {
                if (point.Step >= first && point.Step <= last)
                {
                    summary.Add(new MetricBucket(point.Step, point.Step, point.Value, point.Value, point.Value, 1));
                }
            }

            return summary.Buckets;
        }, cancellationToken);

    private static double Real(System.Data.Common.DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? double.NaN : reader.GetDouble(ordinal);

    private static async Task<long> RequireExperimentAsync(DbConnection connection, DbTransaction transaction, string id, CancellationToken cancellationToken)
    {
        if (long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number) &&
            await ScalarAsync(connection, transaction, "SELECT 1 FROM experiments WHERE id = @id", [("@id", number)], cancellationToken).ConfigureAwait(false) is not null)
        {
            return number;
        }

        throw CairnException.NotFound($"There is no experiment with id '{id}'.");
    }

    private static async Task RequireActiveExperimentAsync(DbConnection connection, DbTransaction transaction, string id, CancellationToken cancellationToken)
    {
        var number = await RequireExperimentAsync(connection, transaction, id, cancellationToken).ConfigureAwait(false);
        var stage = await ScalarAsync(connection, transaction, "SELECT lifecycle_stage FROM experiments WHERE id = @id", [("@id", number)], cancellationToken).ConfigureAwait(false);
        if (stage is not "active")
        {
            throw CairnException.Invalid($"Experiment {id} is deleted; restore it before adding runs.");
        }
    }

    private static async Task RequireActiveRunAsync(DbConnection connection, DbTransaction transaction, string runId, CancellationToken cancellationToken)
    {
        var stage = await ScalarAsync(connection, transaction, "SELECT lifecycle_stage FROM runs WHERE id = @id", [("@id", runId)], cancellationToken).ConfigureAwait(false);
        if (stage is null)
        {
            throw CairnException.NotFound($"There is no run '{runId}'.");
        }

        if (stage is not "active")
        {
            throw CairnException.Invalid($"Run {runId} is deleted; restore it before changing it.");
        }
    }

    private static async Task<List<Experiment>> LoadExperimentsAsync(DbConnection connection, string where, (string, object?)[] parameters,
        CancellationToken cancellationToken)
    {
        var experiments = await QueryAsync(connection, null, $"SELECT {ExperimentColumns} FROM experiments {where}", parameters,
            r => new Experiment(r.GetInt64(0).ToString(CultureInfo.InvariantCulture), r.GetString(1), r.GetString(2), ParseLifecycle(r.GetString(3)),
                Time(r.GetInt64(4)), Time(r.GetInt64(5)), new Dictionary<string, string>()), cancellationToken).ConfigureAwait(false);
        if (experiments.Count == 0)
        {
            return experiments;
        }

        var ids = experiments.Select((e, i) => ($"@e{i}", (object?)long.Parse(e.Id, CultureInfo.InvariantCulture))).ToArray();
        var tags = await QueryAsync(connection, null,
            $"SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN ({string.Join(", ", ids.Select(p => p.Item1))}) ORDER BY key", ids,
            r => (Id: r.GetInt64(0).ToString(CultureInfo.InvariantCulture), Key: r.GetString(1), Value: r.GetString(2)), cancellationToken).ConfigureAwait(false);
        return [.. experiments.Select(e => e with
        {
            Tags = new SortedDictionary<string, string>(tags.Where(t => t.Id == e.Id).ToDictionary(t => t.Key, t => t.Value), StringComparer.Ordinal),
        })];
    }
}
