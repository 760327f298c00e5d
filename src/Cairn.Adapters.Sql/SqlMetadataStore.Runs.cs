using System.Data.Common;
using System.Globalization;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Runs;

namespace Cairn.Adapters.Sql;

public abstract partial class SqlMetadataStore
{
    /// <inheritdoc />
    public Task CreateRunAsync(Run run, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return WriteAsync(async (connection, transaction) =>
        {
            await RequireActiveExperimentAsync(connection, transaction, run.ExperimentId, cancellationToken).ConfigureAwait(false);
            if (run.ParentRunId is { } parent &&
                await ScalarAsync(connection, transaction, "SELECT 1 FROM runs WHERE id = @id", [("@id", parent)], cancellationToken).ConfigureAwait(false) is null)
            {
                throw CairnException.NotFound($"The parent run '{parent}' does not exist.");
            }

            await ExecuteAsync(connection, transaction, """
                INSERT INTO runs (id, name, status, started_at, experiment_id, user_id, parent_run_id) VALUES (@id, @name, @status, @start, @experiment, @user, @parent)
                """,
                [("@id", run.Id), ("@name", run.Name), ("@status", StatusName(run.Status)), ("@start", run.StartedAt.ToUnixTimeMilliseconds()),
                 ("@experiment", long.Parse(run.ExperimentId, CultureInfo.InvariantCulture)), ("@user", run.User), ("@parent", run.ParentRunId)],
                cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in run.Tags)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO run_tags (run_id, key, value) VALUES (@run, @key, @value)",
                    [("@run", run.Id), ("@key", key), ("@value", value)], cancellationToken).ConfigureAwait(false);
            }

            await RecordEventAsync(connection, transaction, actor, "run.started", run.Id, new() { ["name"] = run.Name }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task FinishRunAsync(string runId, RunCompletion completion, DateTimeOffset endedAt, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completion);
        return WriteAsync(async (connection, transaction) =>
        {
            await EndRunAsync(connection, transaction, runId, RunStatus.Finished, null, endedAt, cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in completion.Params)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO run_params (run_id, key, value) VALUES (@run, @key, @value)",
                    [("@run", runId), ("@key", key), ("@value", value)], cancellationToken).ConfigureAwait(false);
            }

            await InsertMetricsAsync(connection, transaction, runId, completion.Metrics, cancellationToken).ConfigureAwait(false);

            foreach (var (key, value) in completion.Tags)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO run_tags (run_id, key, value) VALUES (@run, @key, @value) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                    [("@run", runId), ("@key", key), ("@value", value)], cancellationToken).ConfigureAwait(false);
            }

            await InsertInputsAsync(connection, transaction, runId, completion.Inputs, cancellationToken).ConfigureAwait(false);

            foreach (var artifact in completion.Artifacts)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO run_artifacts (run_id, path, content_hash, size_bytes) VALUES (@run, @path, @hash, @size)",
                    [("@run", runId), ("@path", artifact.Path), ("@hash", artifact.ContentHash.Hex), ("@size", artifact.SizeBytes)], cancellationToken).ConfigureAwait(false);
            }

            await RecordEventAsync(connection, transaction, actor, "run.finished", runId, [], cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task LogInputsAsync(string runId, IReadOnlyList<RunInput> inputs, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return WriteAsync(runId, async (connection, transaction) =>
        {
            await RequireActiveRunAsync(connection, transaction, runId, cancellationToken).ConfigureAwait(false);
            await InsertInputsAsync(connection, transaction, runId, inputs, cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "run.inputs_logged", runId,
                new() { ["datasets"] = string.Join(", ", inputs.Select(i => i.Reference)) }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    // A Cairn version takes its digest from the version's content hash; any other input is linked to the Cairn version
    // of the same name whose content hash its digest starts (8 characters at least).
    private static async Task InsertInputsAsync(DbConnection connection, DbTransaction transaction, string runId, IReadOnlyList<RunInput> inputs,
        CancellationToken cancellationToken)
    {
        foreach (var input in inputs)
        {
            await ExecuteAsync(connection, transaction, """
                INSERT INTO run_dataset_inputs (run_id, name, digest, context, source_type, source, schema, profile, dataset_version)
                SELECT @run, @name, COALESCE((SELECT content_hash FROM dataset_versions WHERE dataset = @name AND version = @version), @digest),
                       @context, @sourceType, @source, @schema, @profile,
                       COALESCE(@version, (SELECT version FROM dataset_versions
                                           WHERE dataset = @name AND length(@digest) >= 8 AND substr(content_hash, 1, length(@digest)) = lower(@digest)
                                           ORDER BY version DESC LIMIT 1))
                ON CONFLICT (run_id, name, digest, context) DO NOTHING
                """,
                [("@run", runId), ("@name", input.Dataset), ("@version", input.Version), ("@digest", input.Digest), ("@context", input.Context),
                 ("@sourceType", input.SourceType), ("@source", input.Source), ("@schema", input.Schema), ("@profile", input.Profile)],
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task SetRunArtifactAsync(string runId, RunArtifact artifact, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        return WriteAsync(runId, async (connection, transaction) =>
        {
            await RequireActiveRunAsync(connection, transaction, runId, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, """
                INSERT INTO run_artifacts (run_id, path, content_hash, size_bytes) VALUES (@run, @path, @hash, @size)
                ON CONFLICT (run_id, path) DO UPDATE SET content_hash = excluded.content_hash, size_bytes = excluded.size_bytes
                """,
                [("@run", runId), ("@path", artifact.Path), ("@hash", artifact.ContentHash.Hex), ("@size", artifact.SizeBytes)], cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "run.artifact_logged", runId,
                new() { ["path"] = artifact.Path, ["sha256"] = artifact.ContentHash.Hex }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> DeleteRunArtifactsAsync(string runId, string path, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RequireActiveRunAsync(connection, transaction, runId, cancellationToken).ConfigureAwait(false);
            // The directory test compares a prefix with substr, so no character of the path is a pattern.
            var removed = await ExecuteAsync(connection, transaction,
                "DELETE FROM run_artifacts WHERE run_id = @run AND (path = @path OR substr(path, 1, length(@path) + 1) = @path || '/')",
                [("@run", runId), ("@path", path)], cancellationToken).ConfigureAwait(false);
            if (removed > 0)
            {
                await RecordEventAsync(connection, transaction, actor, "run.artifact_deleted", runId, new() { ["path"] = path }, cancellationToken).ConfigureAwait(false);
            }

            return removed;
        }, cancellationToken);

    /// <inheritdoc />
    public Task FailRunAsync(string runId, string error, DateTimeOffset endedAt, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await EndRunAsync(connection, transaction, runId, RunStatus.Failed, error, endedAt, cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "run.failed", runId, new() { ["error"] = error }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<Run?> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var runs = await LoadRunsAsync(connection, "WHERE id = @id", [("@id", runId)], cancellationToken).ConfigureAwait(false);
            return runs.FirstOrDefault();
        }, cancellationToken);

    /// <inheritdoc />
    public Task<string?> GetRunExperimentIdAsync(string runId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => await ScalarAsync(connection, null, "SELECT experiment_id FROM runs WHERE id = @id", [("@id", runId)], cancellationToken)
            .ConfigureAwait(false) is { } id ? Convert.ToString(id, System.Globalization.CultureInfo.InvariantCulture) : null, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Run>> SearchRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new RunQuerySql(_dialect);
        var where = sql.Where(query);
        var order = sql.OrderBy(query);
        var parameters = new List<(string, object?)>(sql.Parameters);
        var visible = Visible(query.VisibleTo, ResourceKind.Experiment, "r.experiment_id", parameters);
        return ReadAsync<IReadOnlyList<Run>>(async connection =>
        {
            var ids = await QueryAsync(connection, null,
                $"SELECT r.id FROM runs r WHERE {where} AND {visible} ORDER BY {order} LIMIT {query.Limit} OFFSET {query.Offset}",
                parameters, r => r.GetString(0), cancellationToken).ConfigureAwait(false);
            if (ids.Count == 0)
            {
                return [];
            }

            var byId = ids.Select((id, i) => ($"@id{i}", (object?)id)).ToArray();
            var runs = (await LoadRunsAsync(connection, $"WHERE id IN ({string.Join(", ", byId.Select(p => p.Item1))})", byId, cancellationToken)
                .ConfigureAwait(false)).ToDictionary(r => r.Id);
            return [.. ids.Select(id => runs[id])];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Run>> ListRunsAsync(int limit, Visibility? visibleTo, CancellationToken cancellationToken)
    {
        var parameters = new List<(string, object?)> { ("@limit", limit) };
        var visible = Visible(visibleTo, ResourceKind.Experiment, "experiment_id", parameters);
        return ReadAsync<IReadOnlyList<Run>>(async connection =>
            await LoadRunsAsync(connection, $"WHERE lifecycle_stage = 'active' AND {visible} ORDER BY started_at DESC, id DESC LIMIT @limit", [.. parameters],
                cancellationToken).ConfigureAwait(false),
            cancellationToken);
    }

    private static async Task EndRunAsync(DbConnection connection, DbTransaction transaction, string runId, RunStatus status, string? error,
        DateTimeOffset endedAt, CancellationToken cancellationToken)
    {
        var changed = await ExecuteAsync(connection, transaction,
            "UPDATE runs SET status = @status, ended_at = @end, error = @error WHERE id = @id AND status = 'RUNNING'",
            [("@id", runId), ("@status", StatusName(status)), ("@end", endedAt.ToUnixTimeMilliseconds()), ("@error", error)], cancellationToken).ConfigureAwait(false);
        if (changed == 0)
        {
            throw new CairnException(ErrorCode.Conflict, $"Run {runId} does not exist or has already ended.");
        }
    }

    private static async Task<List<Run>> LoadRunsAsync(DbConnection connection, string where, (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        var runs = await QueryAsync(connection, null,
            $"SELECT id, name, status, started_at, ended_at, error, experiment_id, lifecycle_stage, user_id, parent_run_id FROM runs {where}", parameters,
            r => Run.Start(r.GetString(0), r.GetString(1), Time(r.GetInt64(3))) with
            {
                Status = ParseStatus(r.GetString(2)),
                EndedAt = r.IsDBNull(4) ? null : Time(r.GetInt64(4)),
                Error = r.IsDBNull(5) ? null : r.GetString(5),
                ExperimentId = r.GetInt64(6).ToString(CultureInfo.InvariantCulture),
                Lifecycle = ParseLifecycle(r.GetString(7)),
                User = r.IsDBNull(8) ? null : r.GetString(8),
                ParentRunId = r.IsDBNull(9) ? null : r.GetString(9),
            }, cancellationToken).ConfigureAwait(false);
        if (runs.Count == 0)
        {
            return runs;
        }

        // One query per detail table for the whole page of runs.
        var ids = runs.Select((run, i) => ($"@r{i}", (object?)run.Id)).ToArray();
        var inList = string.Join(", ", ids.Select(p => p.Item1));
        
        var paramsByRun = Group(await QueryAsync(connection, null, $"SELECT run_id, key, value FROM run_params WHERE run_id IN ({inList}) ORDER BY key",
            ids, r => (r.GetString(0), (r.GetString(1), r.GetString(2))), cancellationToken).ConfigureAwait(false));
        var tagsByRun = Group(await QueryAsync(connection, null, $"SELECT run_id, key, value FROM run_tags WHERE run_id IN ({inList}) ORDER BY key",
            ids, r => (r.GetString(0), (r.GetString(1), r.GetString(2))), cancellationToken).ConfigureAwait(false));
        var metricsByRun = Group(await QueryAsync(connection, null,
            $"SELECT run_id, key, value, step, timestamp FROM latest_metrics WHERE run_id IN ({inList}) ORDER BY key",
            ids, r => (r.GetString(0), new Metric(r.GetString(1), r.IsDBNull(2) ? double.NaN : r.GetDouble(2), r.GetInt64(3), Time(r.GetInt64(4)))),
            cancellationToken).ConfigureAwait(false));
        var inputsByRun = Group(await QueryAsync(connection, null, $"""
            SELECT run_id, name, dataset_version, context, digest, source_type, source, schema, profile
            FROM run_dataset_inputs WHERE run_id IN ({inList}) ORDER BY name, context
            """,
            ids, r => (r.GetString(0), new RunInput(r.GetString(1), r.IsDBNull(2) ? null : Int(r, 2), r.GetString(3))
            {
                Digest = r.GetString(4),
                SourceType = r.GetString(5),
                Source = r.GetString(6),
                Schema = r.IsDBNull(7) ? null : r.GetString(7),
                Profile = r.IsDBNull(8) ? null : r.GetString(8),
            }), cancellationToken).ConfigureAwait(false));
        var artifactsByRun = Group(await QueryAsync(connection, null,
            $"SELECT run_id, path, content_hash, size_bytes FROM run_artifacts WHERE run_id IN ({inList}) ORDER BY path",
            ids, r => (r.GetString(0), new RunArtifact(r.GetString(1), ContentHash.Parse(r.GetString(2)), r.GetInt64(3))), cancellationToken).ConfigureAwait(false));

        return [.. runs.Select(run => run with
        {
            Params = ToDictionary(paramsByRun, run.Id),
            Tags = ToDictionary(tagsByRun, run.Id),
            Metrics = metricsByRun.GetValueOrDefault(run.Id) ?? [],
            Inputs = inputsByRun.GetValueOrDefault(run.Id) ?? [],
            Artifacts = artifactsByRun.GetValueOrDefault(run.Id) ?? [],
        })];
    }

    private static Dictionary<string, List<T>> Group<T>(List<(string RunId, T Item)> rows)
    {
        var groups = new Dictionary<string, List<T>>(StringComparer.Ordinal);
        foreach (var (runId, item) in rows)
        {
            if (!groups.TryGetValue(runId, out var list))
            {
                groups[runId] = list = [];
            }

            list.Add(item);
        }

        return groups;
    }

    private static SortedDictionary<string, string> ToDictionary(Dictionary<string, List<(string Key, string Value)>> groups, string runId) =>
        new((groups.GetValueOrDefault(runId) ?? []).ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);

    private static string StatusName(RunStatus status) => status.ToString().ToUpperInvariant();

    private static RunStatus ParseStatus(string text) => Enum.Parse<RunStatus>(text, ignoreCase: true);

    private static string LifecycleName(LifecycleStage stage) => stage.ToString().ToLowerInvariant();

    private static LifecycleStage ParseLifecycle(string text) => Enum.Parse<LifecycleStage>(text, ignoreCase: true);

}
