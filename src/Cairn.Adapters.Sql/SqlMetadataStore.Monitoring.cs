using System.Data.Common;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Monitoring;
using Cairn.Core.Ports;

namespace Cairn.Adapters.Sql;

public abstract partial class SqlMetadataStore : IMonitoringStore
{
    private const string MonitorColumns = "deployment, spec_json, baseline_hash, revision, created_at, created_by, updated_at";
    private const string AlertColumns = "id, deployment, rule, metric, window_start, fired_at, value, threshold, message, status, attempts, next_attempt_at, last_error";

    /// <inheritdoc />
    public Task<DeploymentMonitor> SaveMonitorAsync(string deployment, MonitorSpec spec, ContentHash baseline, bool create, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var json = JsonSerializer.Serialize(spec, CairnJson.Compact.MonitorSpec);
        return WriteAsync(async (connection, transaction) =>
        {
            var now = Now();
            var exists = await ScalarAsync(connection, transaction, "SELECT revision FROM monitors WHERE deployment = @d", [("@d", deployment)], cancellationToken)
                .ConfigureAwait(false) is not null;
            if (create && exists)
            {
                throw new CairnException(ErrorCode.AlreadyExists, $"Deployment '{deployment}' already has a monitor; change it with 'cairn monitors update'.");
            }

            if (!create && !exists)
            {
                throw NoSuchMonitor(deployment);
            }

            if (await ScalarAsync(connection, transaction, "SELECT 1 FROM deployments WHERE name = @d", [("@d", deployment)], cancellationToken).ConfigureAwait(false) is null)
            {
                throw NoSuchDeployment(deployment);
            }

            await ExecuteAsync(connection, transaction, create
                    ? $"INSERT INTO monitors ({MonitorColumns}, updated_by) VALUES (@d, @spec, @baseline, 1, @now, @actor, @now, @actor)"
                    : "UPDATE monitors SET spec_json = @spec, baseline_hash = @baseline, revision = revision + 1, updated_at = @now, updated_by = @actor WHERE deployment = @d",
                [("@d", deployment), ("@spec", json), ("@baseline", baseline.Hex), ("@now", now), ("@actor", actor)], cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, create ? "monitor.created" : "monitor.updated", deployment,
                new() { ["spec"] = json, ["baseline"] = baseline.Hex }, cancellationToken).ConfigureAwait(false);
            return (await QueryMonitorsAsync(connection, transaction, "WHERE deployment = @d", [("@d", deployment)], cancellationToken).ConfigureAwait(false))[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<DeploymentMonitor?> GetMonitorAsync(string deployment, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
            (await QueryMonitorsAsync(connection, null, "WHERE deployment = @d", [("@d", deployment)], cancellationToken).ConfigureAwait(false)).FirstOrDefault(),
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<DeploymentMonitor>> ListMonitorsAsync(Visibility? visibleTo, CancellationToken cancellationToken)
    {
        var parameters = new List<(string, object?)>();
        var visible = Visible(visibleTo, ResourceKind.Deployment, "deployment", parameters);
        return ReadAsync<IReadOnlyList<DeploymentMonitor>>(async connection =>
            await QueryMonitorsAsync(connection, null, $"WHERE {visible} ORDER BY deployment", [.. parameters], cancellationToken).ConfigureAwait(false), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteMonitorAsync(string deployment, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (await ExecuteAsync(connection, transaction, "DELETE FROM monitors WHERE deployment = @d", [("@d", deployment)], cancellationToken).ConfigureAwait(false) == 0)
            {
                throw NoSuchMonitor(deployment);
            }

            await ExecuteAsync(connection, transaction, "DELETE FROM monitor_windows WHERE deployment = @d", [("@d", deployment)], cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, "DELETE FROM alerts WHERE deployment = @d", [("@d", deployment)], cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "monitor.deleted", deployment, [], cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SaveLiveWindowsAsync(string deployment, IReadOnlyList<StoredLiveWindow> windows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(windows);
        return WriteAsync(MonitoringScope(deployment), async (connection, transaction) =>
        {
            foreach (var window in windows)
            {
                await ExecuteAsync(connection, transaction, """
                    INSERT INTO live_windows (deployment, window_start, replica, window_end, rows_seen, content, updated_at)
                    VALUES (@d, @start, @replica, @end, @rows, @content, @updated)
                    ON CONFLICT (deployment, window_start, replica) DO UPDATE SET
                        window_end = excluded.window_end, rows_seen = excluded.rows_seen, content = excluded.content, updated_at = excluded.updated_at
                    """,
                    [("@d", deployment), ("@start", window.Start.ToUnixTimeMilliseconds()), ("@replica", window.Replica), ("@end", window.End.ToUnixTimeMilliseconds()),
                     ("@rows", window.Rows), ("@content", window.Content), ("@updated", window.UpdatedAt.ToUnixTimeMilliseconds())], cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredLiveWindow>> ReadLiveWindowsAsync(string deployment, DateTimeOffset from, DateTimeOffset to, bool withContent,
        CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<StoredLiveWindow>>(async connection => await QueryAsync(connection, null,
            $"SELECT replica, window_start, window_end, rows_seen, {(withContent ? "content" : "NULL")}, updated_at FROM live_windows WHERE deployment = @d AND window_start >= @from AND window_start < @to ORDER BY window_start, replica",
            [("@d", deployment), ("@from", from.ToUnixTimeMilliseconds()), ("@to", to.ToUnixTimeMilliseconds())],
            r => new StoredLiveWindow(r.GetString(0), Time(r.GetInt64(1)), Time(r.GetInt64(2)), r.GetInt64(3), r.IsDBNull(4) ? [] : (byte[])r.GetValue(4), Time(r.GetInt64(5))),
            cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task SaveWindowResultAsync(WindowResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        return WriteAsync(MonitoringScope(result.Deployment), async (connection, transaction) => await ExecuteAsync(connection, transaction, """
            INSERT INTO monitor_windows (deployment, window_start, window_end, rows_seen, result_json, evaluated_at)
            VALUES (@d, @start, @end, @rows, @json, @at)
            ON CONFLICT (deployment, window_start) DO UPDATE SET
                window_end = excluded.window_end, rows_seen = excluded.rows_seen, result_json = excluded.result_json, evaluated_at = excluded.evaluated_at
            """,
            [("@d", result.Deployment), ("@start", result.Start.ToUnixTimeMilliseconds()), ("@end", result.End.ToUnixTimeMilliseconds()), ("@rows", result.Rows),
             ("@json", JsonSerializer.Serialize(result, CairnJson.Compact.WindowResult)), ("@at", result.EvaluatedAt.ToUnixTimeMilliseconds())],
            cancellationToken).ConfigureAwait(false), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WindowResult>> ListWindowResultsAsync(string deployment, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<WindowResult>>(async connection => await QueryAsync(connection, null,
            "SELECT result_json FROM monitor_windows WHERE deployment = @d AND window_start >= @from AND window_start < @to ORDER BY window_start",
            [("@d", deployment), ("@from", from.ToUnixTimeMilliseconds()), ("@to", to.ToUnixTimeMilliseconds())],
            r => JsonSerializer.Deserialize(r.GetString(0), CairnJson.Compact.WindowResult)!, cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task<Alert?> AddAlertAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return WriteAsync(async (connection, transaction) =>
        {
            var where = new (string, object?)[] { ("@d", alert.Deployment), ("@rule", alert.Rule), ("@start", alert.WindowStart.ToUnixTimeMilliseconds()) };
            if (await ScalarAsync(connection, transaction, "SELECT id FROM alerts WHERE deployment = @d AND rule = @rule AND window_start = @start", where, cancellationToken)
                .ConfigureAwait(false) is not null)
            {
                return null;
            }

            await ExecuteAsync(connection, transaction, $"""
                INSERT INTO alerts ({AlertColumns[4..]})
                VALUES (@d, @rule, @metric, @start, @fired, @value, @threshold, @message, @status, 0, @next, NULL)
                """,
                [.. where, ("@metric", alert.Metric), ("@fired", alert.FiredAt.ToUnixTimeMilliseconds()), ("@value", alert.Value), ("@threshold", alert.Threshold),
                 ("@message", alert.Message), ("@status", StatusName(alert.Status)), ("@next", alert.NextAttemptAt?.ToUnixTimeMilliseconds())], cancellationToken)
                .ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, "cairn-monitor", "alert.fired", alert.Deployment,
                new() { ["rule"] = alert.Rule, ["message"] = alert.Message }, cancellationToken).ConfigureAwait(false);
            return (await QueryAlertsAsync(connection, transaction, "WHERE deployment = @d AND rule = @rule AND window_start = @start", where, cancellationToken)
                .ConfigureAwait(false))[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Alert>> ListAlertsAsync(string? deployment, int limit, Visibility? visibleTo, CancellationToken cancellationToken)
    {
        var parameters = new List<(string, object?)> { ("@d", deployment), ("@limit", (long)limit) };
        var visible = Visible(visibleTo, ResourceKind.Deployment, "deployment", parameters);
        return ReadAsync<IReadOnlyList<Alert>>(async connection => await QueryAlertsAsync(connection, null,
            $"WHERE {(deployment is null ? "" : "deployment = @d AND ")}{visible} ORDER BY id DESC LIMIT @limit", [.. parameters], cancellationToken)
            .ConfigureAwait(false), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Alert>> DueAlertsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<Alert>>(async connection => await QueryAlertsAsync(connection, null,
            "WHERE status = 'pending' AND next_attempt_at <= @now ORDER BY next_attempt_at, id LIMIT @limit",
            [("@now", now.ToUnixTimeMilliseconds()), ("@limit", (long)limit)], cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task UpdateAlertAsync(long id, AlertStatus status, int attempts, DateTimeOffset? nextAttemptAt, string? lastError, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) => await ExecuteAsync(connection, transaction,
            "UPDATE alerts SET status = @status, attempts = @attempts, next_attempt_at = @next, last_error = @error WHERE id = @id",
            [("@id", id), ("@status", StatusName(status)), ("@attempts", (long)attempts), ("@next", nextAttemptAt?.ToUnixTimeMilliseconds()), ("@error", lastError)],
            cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task AddPolicyRunAsync(PolicyRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return WriteAsync(async (connection, transaction) =>
        {
            if (await ScalarAsync(connection, transaction, "SELECT id FROM policy_runs WHERE deployment = @d AND active = 1", [("@d", run.Deployment)], cancellationToken)
                .ConfigureAwait(false) is string active)
            {
                throw new CairnException(ErrorCode.Conflict, $"Deployment '{run.Deployment}' already has a policy run going ({active}); 'cairn policies show {active}' follows it.");
            }

            await ExecuteAsync(connection, transaction, """
                INSERT INTO policy_runs (id, deployment, state, active, started_at, updated_at, revision, run_json)
                VALUES (@id, @d, @state, @active, @started, @updated, @revision, @json)
                """, PolicyRunParameters(run), cancellationToken).ConfigureAwait(false);
            await RecordPolicyEventAsync(connection, transaction, run, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> UpdatePolicyRunAsync(PolicyRun run, int expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        run = run with { Revision = expectedRevision + 1 };
        return WriteAsync(async (connection, transaction) =>
        {
            if (await ExecuteAsync(connection, transaction, """
                UPDATE policy_runs SET state = @state, active = @active, updated_at = @updated, revision = @revision, run_json = @json
                WHERE id = @id AND revision = @expected
                """, [.. PolicyRunParameters(run), ("@expected", (long)expectedRevision)], cancellationToken).ConfigureAwait(false) == 0)
            {
                return false;
            }

            await RecordPolicyEventAsync(connection, transaction, run, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<PolicyRun?> GetPolicyRunAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await QueryPolicyRunsAsync(connection, "WHERE id = @id", [("@id", id)], cancellationToken).ConfigureAwait(false)).FirstOrDefault(),
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<PolicyRun>> ListPolicyRunsAsync(string? deployment, bool activeOnly, int limit, Visibility? visibleTo, CancellationToken cancellationToken)
    {
        var parameters = new List<(string, object?)> { ("@d", deployment), ("@limit", (long)limit) };
        var conditions = new[] { deployment is null ? null : "deployment = @d", activeOnly ? "active = 1" : null,
            Visible(visibleTo, ResourceKind.Deployment, "deployment", parameters) }.OfType<string>().ToList();
        return ReadAsync<IReadOnlyList<PolicyRun>>(async connection => await QueryPolicyRunsAsync(connection,
            $"WHERE {string.Join(" AND ", conditions)} ORDER BY started_at DESC, id DESC LIMIT @limit",
            [.. parameters], cancellationToken).ConfigureAwait(false), cancellationToken);
    }

    private static (string, object?)[] PolicyRunParameters(PolicyRun run) =>
    [
        ("@id", run.Id), ("@d", run.Deployment), ("@state", JsonNamingPolicy.SnakeCaseLower.ConvertName(run.State.ToString())), ("@active", run.Active ? 1L : 0L),
        ("@started", run.StartedAt.ToUnixTimeMilliseconds()), ("@updated", run.UpdatedAt.ToUnixTimeMilliseconds()), ("@revision", (long)run.Revision),
        ("@json", JsonSerializer.Serialize(run, CairnJson.Compact.PolicyRun)),
    ];

    // Each step of a policy run is also an audit event, so 'cairn events' tells the whole story of a deployment.
    private Task RecordPolicyEventAsync(DbConnection connection, DbTransaction transaction, PolicyRun run, CancellationToken cancellationToken)
    {
        var step = run.Events[^1];
        return RecordEventAsync(connection, transaction, "cairn-policy", $"policy.{step.Step}", run.Deployment,
            new() { ["policy_run"] = run.Id, ["message"] = step.Message }, cancellationToken);
    }

    private static Task<List<PolicyRun>> QueryPolicyRunsAsync(DbConnection connection, string where, IEnumerable<(string Name, object? Value)> parameters,
        CancellationToken cancellationToken) =>
        QueryAsync(connection, null, $"SELECT run_json FROM policy_runs {where}", parameters,
            r => JsonSerializer.Deserialize(r.GetString(0), CairnJson.Compact.PolicyRun)!, cancellationToken);

    // Monitoring's frequent writes touch only one deployment's rows, so on PostgreSQL they do not queue behind other deployments'.
    private static string MonitoringScope(string deployment) => $"monitoring/{deployment}";

    private static string StatusName(AlertStatus status) => status.ToString().ToLowerInvariant();

    private static Task<List<DeploymentMonitor>> QueryMonitorsAsync(DbConnection connection, DbTransaction? transaction, string where,
        IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken) =>
        QueryAsync(connection, transaction, $"SELECT {MonitorColumns} FROM monitors {where}", parameters,
            r => new DeploymentMonitor(r.GetString(0), JsonSerializer.Deserialize(r.GetString(1), CairnJson.Compact.MonitorSpec)!, ContentHash.Parse(r.GetString(2)), Int(r, 3),
                Time(r.GetInt64(4)), r.GetString(5), Time(r.GetInt64(6))),
            cancellationToken);

    private static Task<List<Alert>> QueryAlertsAsync(DbConnection connection, DbTransaction? transaction, string where,
        IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken) =>
        QueryAsync(connection, transaction, $"SELECT {AlertColumns} FROM alerts {where}", parameters,
            r => new Alert(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), Time(r.GetInt64(4)), Time(r.GetInt64(5)), r.GetDouble(6), r.GetDouble(7), r.GetString(8))
            {
                Status = Enum.Parse<AlertStatus>(r.GetString(9), ignoreCase: true),
                Attempts = Int(r, 10),
                NextAttemptAt = r.IsDBNull(11) ? null : Time(r.GetInt64(11)),
                LastError = r.IsDBNull(12) ? null : r.GetString(12),
            },
            cancellationToken);

    private static CairnException NoSuchMonitor(string deployment) =>
        CairnException.NotFound($"Deployment '{deployment}' has no monitor; create one with 'cairn monitors create {deployment} --reference DATASET@N'.");
}
