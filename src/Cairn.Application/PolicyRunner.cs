using System.Collections.Concurrent;
using System.Globalization;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Models;
using Cairn.Core.Monitoring;
using Cairn.Core.Pipelines;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>
/// The closed loop of a monitor's <see cref="RetrainPolicy"/>: a trigger (the policy's alert, its cron schedule, a
/// new version of its dataset, or a person) runs the retraining pipeline; the version it registers (the challenger)
/// and the version serving now (the champion) are evaluated on the latest version of the holdout dataset; a
/// challenger that passes the gate serves a share of traffic as a canary, and once it has answered enough requests
/// within the error-rate and latency bounds it becomes the champion — otherwise it is taken out of serving. Every
/// step is stored with the run and as an audit event; runs are moved on with compare-and-set, so servers sharing a
/// store never both act on one.
/// </summary>
public sealed class PolicyRunner(
    IMonitoringStore store, MonitorService monitors, DeploymentService deployments, DatasetService datasets, ModelRegistry registry,
    PipelineRunner pipelines, EvaluationService evaluation, ICronCalendar cron, TimeProvider time, Actor actor)
{
    /// <summary>The tag on the retraining pipeline's run naming the policy run that started it.</summary>
    public const string PolicyRunTag = "cairn.policy_run";

    // Runs this process is retraining now: one of its own runs in training but not in here was cut short.
    private readonly ConcurrentDictionary<string, bool> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Starts a run of a deployment's policy and carries it through retraining and the gate to the canary (or a verdict).</summary>
    public async Task<PolicyRun> StartAsync(string deployment, string trigger, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Deployment(deployment), Role.Maintainer, "start policy runs");
        var monitor = await monitors.GetAsync(deployment, cancellationToken).ConfigureAwait(false);
        var policy = monitor.Spec.Policy
            ?? throw CairnException.Invalid($"The monitor of '{deployment}' has no policy; add a 'policy:' section to its settings ('cairn monitors update {deployment} --config FILE').");
        var served = await deployments.GetAsync(deployment, cancellationToken).ConfigureAwait(false);
        if (served.Spec.Model.Name != policy.Model)
        {
            throw CairnException.Invalid($"The policy retrains '{policy.Model}', but deployment '{deployment}' serves '{served.Spec.Model.Name}'.");
        }

        if (served.Spec.Canary is { } canary)
        {
            throw new CairnException(ErrorCode.Conflict, $"Deployment '{deployment}' already has a canary ({canary}); remove it ('cairn deployments update {deployment} --no-canary') before the policy runs.");
        }

        var champion = await registry.ResolveAsync(served.Spec.Model, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var run = new PolicyRun
        {
            Id = Ids.NewRunId(),
            Deployment = monitor.Deployment,
            Trigger = trigger,
            StartedAt = now,
            UpdatedAt = now,
            Model = policy.Model,
            Process = LocalProcess.Current,
            Champion = champion.Version,
            DataVersion = policy.OnNewVersion is { } watched ? await LatestVersionAsync(watched, cancellationToken).ConfigureAwait(false) : null,
        }.Then(now, "triggered", $"{Describe(trigger)}; champion is {policy.Model} version {champion.Version}");
        _inFlight[run.Id] = true;
        try
        {
            await store.AddPolicyRunAsync(run, cancellationToken).ConfigureAwait(false);
            progress?.Report(run.Events[^1].Message);
            return await TrainAndGateAsync(run, policy, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever went wrong ends the run (if it was recorded), so the deployment's next trigger can start another.
            if (await store.GetPolicyRunAsync(run.Id, CancellationToken.None).ConfigureAwait(false) is not { } latest)
            {
                throw;
            }

            return await MoveAsync(latest, "failed", e.Message, PolicyRunState.Failed, progress, CancellationToken.None).ConfigureAwait(false) ?? latest;
        }
        finally
        {
            _inFlight.TryRemove(run.Id, out _);
        }
    }

    /// <summary>
    /// What the server does on its timer: starts a run for every policy whose trigger fired (one at a time per
    /// deployment), and moves every canary on. Returns the runs it started or moved.
    /// </summary>
    public async Task<IReadOnlyList<PolicyRun>> TickAsync(IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var moved = new List<PolicyRun>();
        foreach (var run in await store.ListPolicyRunsAsync(null, activeOnly: true, 1000, null, cancellationToken).ConfigureAwait(false))
        {
            var canaryServing = run.State == PolicyRunState.Canary || run is { State: PolicyRunState.AwaitingApproval, Awaiting: "promotion" };
            var next = canaryServing ? await WatchCanaryAsync(run, progress, cancellationToken).ConfigureAwait(false)
                : run.State == PolicyRunState.AwaitingApproval ? null
                : Interrupted(run) ? await MoveAsync(run, "failed", $"interrupted: process {run.Process} stopped before retraining finished",
                    PolicyRunState.Failed, progress, cancellationToken).ConfigureAwait(false)
                : null;
            if (next is not null)
            {
                moved.Add(next);
            }
        }

        foreach (var monitor in await monitors.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (monitor.Spec.Policy is { } policy && await DueTriggerAsync(monitor, policy, cancellationToken).ConfigureAwait(false) is { } trigger)
            {
                try
                {
                    moved.Add(await StartAsync(monitor.Deployment, trigger, progress, cancellationToken).ConfigureAwait(false));
                }
                catch (CairnException e) when (e.Code == ErrorCode.Conflict)
                {
                    // Another server started it first, or a person is holding a canary on the deployment.
                    progress?.Report($"{monitor.Deployment}: {e.Message}");
                }
            }
        }

        return moved;
    }

    /// <summary>
    /// Ends a run that is still going, by hand: a canary it started is taken out of serving (the champion keeps
    /// serving), and a run stuck in training — its process gone on another machine — stops holding the deployment's loop.
    /// </summary>
    public async Task<PolicyRun> CancelAsync(string id, CancellationToken cancellationToken)
    {
        var run = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        actor.Demand(ResourceRef.Deployment(run.Deployment), Role.Maintainer, "cancel policy runs");
        if (!run.Active)
        {
            throw new CairnException(ErrorCode.Conflict, $"Policy run {id} has already ended ({run.State.ToString().ToLowerInvariant()}).");
        }

        var canaryServing = run.State == PolicyRunState.Canary || run.Awaiting == "promotion";
        if (canaryServing)
        {
            await deployments.UpdateAsync(run.Deployment, s => s.Canary is { } canary && canary.Name == run.Model && canary.Version == run.Challenger
                ? s with { Canary = null, CanaryPercent = 0 }
                : s, cancellationToken).ConfigureAwait(false);
        }

        return await MoveAsync(run, "cancelled", $"cancelled by {actor.Name}{(canaryServing ? $"; {run.Model} version {run.Challenger} was taken out of serving" : "")}",
            PolicyRunState.Failed, null, cancellationToken).ConfigureAwait(false)
            ?? throw new CairnException(ErrorCode.Conflict, $"Policy run {id} moved on while it was being cancelled; look at it again with 'cairn policies show {id}'.");
    }

    /// <summary>A policy run by id.</summary>
    public async Task<PolicyRun> GetAsync(string id, CancellationToken cancellationToken)
    {
        var run = await store.GetPolicyRunAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no policy run '{id}'; 'cairn policies runs' lists them.");
        actor.Demand(ResourceRef.Deployment(run.Deployment), Role.Viewer, "read policy runs");
        return run;
    }

    /// <summary>Policy runs, newest first, of one deployment or all.</summary>
    public Task<IReadOnlyList<PolicyRun>> ListAsync(string? deployment, int limit, CancellationToken cancellationToken) =>
        store.ListPolicyRunsAsync(deployment is null ? null : Names.Validate(deployment, "deployment"), activeOnly: false, limit,
            actor.VisibleTo(ResourceKind.Deployment), cancellationToken);

    private async Task<PolicyRun> TrainAndGateAsync(PolicyRun run, RetrainPolicy policy, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        // Retrain: the pipeline runs as any pipeline does (cached steps reused), tagged with this run.
        if (!File.Exists(policy.Pipeline))
        {
            throw CairnException.NotFound($"The policy's pipeline file '{policy.Pipeline}' does not exist.");
        }

        var spec = PipelineSpec.Parse(await File.ReadAllTextAsync(policy.Pipeline, cancellationToken).ConfigureAwait(false));
        progress?.Report($"retraining with pipeline '{spec.Name}'");
        var result = await pipelines.RunAsync(spec, policy.Params, Path.GetDirectoryName(Path.GetFullPath(policy.Pipeline))!, force: false, null, cancellationToken,
            tags: [new(PolicyRunTag, run.Id)]).ConfigureAwait(false);
        if (result.Status != RunStatus.Finished)
        {
            var failed = result.Steps.FirstOrDefault(s => s.Status == RunStatus.Failed);
            throw CairnException.Invalid($"The retraining pipeline '{spec.Name}' failed{(failed is null ? "" : $" at step '{failed.Step}': {failed.Error}")} (run {result.RunId}).");
        }

        var registered = result.Steps.Select(s => s.Outputs.GetValueOrDefault($"model:{policy.Model}")).LastOrDefault(v => v is not null)
            ?? throw CairnException.Invalid($"The retraining pipeline '{spec.Name}' registered no version of '{policy.Model}'; give it a register step with model: {policy.Model}.");
        var challenger = int.Parse(registered, CultureInfo.InvariantCulture);
        run = await MoveAsync(run with { PipelineRun = result.RunId, Challenger = challenger }, "retrained",
            $"pipeline '{spec.Name}' (run {result.RunId}) registered {policy.Model} version {challenger}", null, progress, cancellationToken).ConfigureAwait(false) ?? run;
        if (challenger == run.Champion)
        {
            return await MoveAsync(run, "gate", $"the pipeline's model is the champion itself (version {challenger}): there was nothing new to learn from",
                PolicyRunState.Rejected, progress, cancellationToken).ConfigureAwait(false) ?? run;
        }

        // Evaluate both on the same, newest holdout.
        var holdout = await datasets.GetAsync(DatasetRef.Parse(policy.Holdout), cancellationToken).ConfigureAwait(false);
        var options = new EvaluationOptions(policy.Slices, PermutationImportance: false);
        var championReport = (await evaluation.EvaluateAsync($"{policy.Model}@{run.Champion}", new DatasetRef(holdout.Name, holdout.Version), options, cancellationToken).ConfigureAwait(false)).Report;
        var challengerReport = (await evaluation.EvaluateAsync($"{policy.Model}@{challenger}", new DatasetRef(holdout.Name, holdout.Version), options, cancellationToken).ConfigureAwait(false)).Report;
        var gate = PolicyGate.Decide(policy, championReport, challengerReport);
        run = await MoveAsync(run with { Holdout = holdout.Reference, Gate = gate }, "evaluated",
            $"on {holdout.Reference} ({championReport.Rows} rows): {gate.Metric} champion {Show(gate.Champion)}, challenger {Show(gate.Challenger)}",
            null, progress, cancellationToken).ConfigureAwait(false) ?? run;
        if (!gate.Passed)
        {
            return await MoveAsync(run, "gate", $"rejected: {string.Join("; ", gate.Reasons)}", PolicyRunState.Rejected, progress, cancellationToken).ConfigureAwait(false) ?? run;
        }

        run = await MoveAsync(run, "gate", $"passed: {gate.Metric} {PolicyGate.Percent(gate.Improvement)} better than the champion" +
            (policy.Slices.Count > 0 ? $", no slice of {string.Join(", ", policy.Slices)} worse by more than {PolicyGate.Percent(policy.MaxSliceRegression)}" : ""),
            null, progress, cancellationToken).ConfigureAwait(false) ?? run;

        if (policy.ApproveBefore.Contains("canary"))
        {
            return await AwaitApprovalAsync(run, "canary", $"{policy.Model} version {challenger} goes to canary once a maintainer of '{policy.Model}' approves",
                progress, cancellationToken).ConfigureAwait(false);
        }

        return await StartCanaryAsync(run, policy, progress, cancellationToken).ConfigureAwait(false);
    }

    // Canary: the challenger answers a share of the deployment's traffic beside the champion.
    private async Task<PolicyRun> StartCanaryAsync(PolicyRun run, RetrainPolicy policy, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var challenger = run.Challenger!.Value;
        await deployments.UpdateAsync(run.Deployment, s => s with { Canary = new ModelRef(policy.Model, null, challenger), CanaryPercent = policy.CanaryPercent },
            cancellationToken).ConfigureAwait(false);
        return await MoveAsync(run with { CanaryStartedAt = time.GetUtcNow(), Awaiting = null }, "canary",
            $"{policy.Model} version {challenger} answers {policy.CanaryPercent}% of '{run.Deployment}' until it has served {policy.CanaryRequests} requests",
            PolicyRunState.Canary, progress, cancellationToken).ConfigureAwait(false) ?? run;
    }

    private async Task<PolicyRun> AwaitApprovalAsync(PolicyRun run, string step, string message, IProgress<string>? progress, CancellationToken cancellationToken) =>
        await MoveAsync(run with { Awaiting = step }, "awaiting_approval", message, PolicyRunState.AwaitingApproval, progress, cancellationToken).ConfigureAwait(false) ?? run;

    /// <summary>
    /// Approves the step a run waits for (the canary, or the promotion of a healthy canary) and carries it out. Takes
    /// maintainer on the run's model; the approver and the comment are recorded in the run and the audit log.
    /// </summary>
    public Task<PolicyRun> ApproveAsync(string id, string? comment, CancellationToken cancellationToken) => DecideAsync(id, approve: true, comment, cancellationToken);

    /// <summary>Rejects the step a run waits for: nothing goes to canary, or the canary is taken out of serving and the champion stays.</summary>
    public Task<PolicyRun> RejectAsync(string id, string? comment, CancellationToken cancellationToken) => DecideAsync(id, approve: false, comment, cancellationToken);

    private async Task<PolicyRun> DecideAsync(string id, bool approve, string? comment, CancellationToken cancellationToken)
    {
        if (comment is { Length: > 2000 })
        {
            throw CairnException.Invalid($"The comment has {comment.Length} characters; the limit is 2000.");
        }

        var run = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        actor.Demand(ResourceRef.Model(run.Model), Role.Maintainer, approve ? "approve policy runs" : "reject policy runs");
        if (run is not { State: PolicyRunState.AwaitingApproval, Awaiting: { } step })
        {
            throw new CairnException(ErrorCode.Conflict, $"Policy run {id} is not waiting for approval ({run.State.ToString().ToLowerInvariant()}).");
        }

        var who = actor.Name;
        var said = string.IsNullOrWhiteSpace(comment) ? "" : $": {comment.Trim()}";
        var decided = await MoveAsync(run, approve ? "approved" : "rejected", $"{step} {(approve ? "approved" : "rejected")} by {who}{said}", null, null, cancellationToken)
            .ConfigureAwait(false) ?? throw new CairnException(ErrorCode.Conflict, $"Policy run {id} moved on meanwhile; look at it again with 'cairn policies show {id}'.");

        // What follows is the policy's own work, sanctioned by the approval: it changes the deployment as the server would.
        actor.BecomeProcess();
        var monitor = await store.GetMonitorAsync(run.Deployment, cancellationToken).ConfigureAwait(false);
        if (monitor?.Spec.Policy is not { } policy)
        {
            return await MoveAsync(decided, "failed", "the deployment's policy was removed while the run waited", PolicyRunState.Failed, null, cancellationToken)
                .ConfigureAwait(false) ?? decided;
        }

        return (step, approve) switch
        {
            ("canary", true) => await StartCanaryAsync(decided, policy, null, cancellationToken).ConfigureAwait(false),
            ("canary", false) => await MoveAsync(decided with { Awaiting = null }, "gate", $"{run.Model} version {run.Challenger} does not go to canary",
                PolicyRunState.Rejected, null, cancellationToken).ConfigureAwait(false) ?? decided,
            (_, true) => await PromoteAsync(decided with { Awaiting = null }, monitor, "on approval", null, cancellationToken).ConfigureAwait(false) ?? decided,
            _ => await RollBackAsync(decided with { Awaiting = null }, "its promotion was rejected", null, cancellationToken).ConfigureAwait(false) ?? decided,
        };
    }

    private async Task<PolicyRun?> WatchCanaryAsync(PolicyRun run, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var monitor = await store.GetMonitorAsync(run.Deployment, cancellationToken).ConfigureAwait(false);
        var served = (await deployments.ListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(d => d.Name == run.Deployment);
        if (monitor?.Spec.Policy is not { } policy || served is null || served.Spec.Canary is not { } canary
            || canary.Name != run.Model || canary.Version != run.Challenger)
        {
            return await MoveAsync(run, "failed", "the canary, the deployment or its policy was changed or removed by hand while the canary ran",
                PolicyRunState.Failed, progress, cancellationToken).ConfigureAwait(false);
        }

        var started = run.CanaryStartedAt ?? run.UpdatedAt;
        var windows = await store.ReadLiveWindowsAsync(run.Deployment, monitor.Spec.WindowOf(started).Start, time.GetUtcNow() + monitor.Spec.Window,
            withContent: true, cancellationToken).ConfigureAwait(false);
        var traffic = windows.Select(PredictionRecorder.Read)
            .SelectMany(w => w.Traffic)
            .Where(t => t.Model == run.Model && t.Version == run.Challenger && t.Role == "canary")
            .DefaultIfEmpty()
            .Aggregate((a, b) => a is null ? b : b is null ? a : VersionTraffic.Merge(a, b));
        var (requests, failures) = (traffic?.Requests ?? 0, traffic?.Failures ?? 0);
        var seen = requests + failures;
        var latency = traffic?.LatencyP99Ms ?? double.NaN;
        var observed = $"{requests} answered, {failures} failed ({PolicyGate.Percent(seen == 0 ? 0 : (double)failures / seen)}), p99 {(double.IsNaN(latency) ? "-" : $"{latency.ToString("0.#", CultureInfo.InvariantCulture)} ms")}";

        // Too many failures already: no number of good requests can bring the rate back within bounds.
        if (failures > policy.MaxErrorRate * Math.Max(seen, policy.CanaryRequests))
        {
            return await RollBackAsync(run, $"error rate above {PolicyGate.Percent(policy.MaxErrorRate)}: {observed}", progress, cancellationToken).ConfigureAwait(false);
        }

        if (seen < policy.CanaryRequests)
        {
            return null;
        }

        if (latency > policy.MaxLatencyMs)
        {
            return await RollBackAsync(run, $"p99 latency above {policy.MaxLatencyMs} ms: {observed}", progress, cancellationToken).ConfigureAwait(false);
        }

        if (run.State == PolicyRunState.AwaitingApproval)
        {
            return null;
        }

        if (policy.ApproveBefore.Contains("promotion"))
        {
            return await AwaitApprovalAsync(run, "promotion",
                $"the canary is healthy ({observed}); {run.Model} version {run.Challenger} is promoted once a maintainer of '{run.Model}' approves (it keeps its share meanwhile)",
                progress, cancellationToken).ConfigureAwait(false);
        }

        return await PromoteAsync(run, monitor, $"after {observed}", progress, cancellationToken).ConfigureAwait(false);
    }

    // Promote: the deployment's alias (or pinned version) moves to the challenger, and the canary goes.
    private async Task<PolicyRun?> PromoteAsync(PolicyRun run, DeploymentMonitor monitor, string why, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var served = await deployments.GetAsync(run.Deployment, cancellationToken).ConfigureAwait(false);
        var main = served.Spec.Model;
        if (main.Alias is { } alias)
        {
            await registry.SetAliasAsync(main.Name, alias, run.Challenger!.Value, cancellationToken).ConfigureAwait(false);
        }

        await deployments.UpdateAsync(run.Deployment, s => s with
        {
            Model = main.Alias is null ? new ModelRef(main.Name, null, run.Challenger) : s.Model,
            Canary = null,
            CanaryPercent = 0,
        }, cancellationToken).ConfigureAwait(false);
        var promoted = await MoveAsync(run, "promoted",
            $"{run.Model} version {run.Challenger} is the champion{(main.Alias is null ? "" : $" (@{main.Alias})")} {why}",
            PolicyRunState.Promoted, progress, cancellationToken).ConfigureAwait(false);

        // The monitor now compares traffic with the data the new champion was checked on, scored by it.
        if (promoted is not null && run.Holdout is { } holdout)
        {
            await monitors.UpdateAsync(run.Deployment, monitor.Spec with { Reference = holdout }, cancellationToken).ConfigureAwait(false);
            progress?.Report($"the monitor of '{run.Deployment}' now compares traffic with {holdout}");
        }

        return promoted;
    }

    private bool Interrupted(PolicyRun run) =>
        run.Process is { } process && (process == LocalProcess.Current ? !_inFlight.ContainsKey(run.Id) : LocalProcess.IsDead(process));

    private async Task<PolicyRun?> RollBackAsync(PolicyRun run, string reason, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        await deployments.UpdateAsync(run.Deployment, s => s with { Canary = null, CanaryPercent = 0 }, cancellationToken).ConfigureAwait(false);
        return await MoveAsync(run, "rolled_back", $"{run.Model} version {run.Challenger} was taken out of serving: {reason}", PolicyRunState.RolledBack,
            progress, cancellationToken).ConfigureAwait(false);
    }

    // Null when another server moved the run on first.
    private async Task<PolicyRun?> MoveAsync(PolicyRun run, string step, string message, PolicyRunState? state, IProgress<string>? progress,
        CancellationToken cancellationToken)
    {
        var next = run.Then(time.GetUtcNow(), step, message, state);
        if (!await store.UpdatePolicyRunAsync(next, run.Revision, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        progress?.Report(message);
        return next with { Revision = run.Revision + 1 };
    }

    private async Task<string?> DueTriggerAsync(DeploymentMonitor monitor, RetrainPolicy policy, CancellationToken cancellationToken)
    {
        var last = (await store.ListPolicyRunsAsync(monitor.Deployment, activeOnly: false, 1, null, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        if (last?.Active == true)
        {
            return null;
        }

        // Only what happened since the policy was set, or since its last run ended, triggers it.
        var since = last is null || last.UpdatedAt < monitor.UpdatedAt ? monitor.UpdatedAt : last.UpdatedAt;
        if (policy.OnAlert is { } rule
            && (await store.ListAlertsAsync(monitor.Deployment, 50, null, cancellationToken).ConfigureAwait(false)).FirstOrDefault(a => a.Rule == rule && a.FiredAt > since) is { } alert)
        {
            return $"alert:{rule}:{alert.WindowStart:yyyy-MM-ddTHH:mm:ssZ}";
        }

        if (policy.OnNewVersion is { } dataset && await LatestVersionAsync(dataset, cancellationToken).ConfigureAwait(false) is { } version
            && (last?.DataVersion is { } seen ? version > seen : (await datasets.GetAsync(new DatasetRef(dataset, version), cancellationToken).ConfigureAwait(false)).CreatedAt > since))
        {
            return $"dataset:{dataset}@{version}";
        }

        if (policy.Schedule is { } schedule && cron.NextAfter(schedule, since) is { } due && due <= time.GetUtcNow())
        {
            return $"schedule:{due:yyyy-MM-ddTHH:mm:ssZ}";
        }

        return null;
    }

    private async Task<int?> LatestVersionAsync(string dataset, CancellationToken cancellationToken)
    {
        try
        {
            return (await datasets.GetAsync(new DatasetRef(dataset, null), cancellationToken).ConfigureAwait(false)).Version;
        }
        catch (CairnException e) when (e.Code == ErrorCode.NotFound)
        {
            return null;
        }
    }

    private static string Describe(string trigger) => trigger.Split(':', 2) switch
    {
        ["alert", var rest] => $"alert '{rest.Split(':', 2)[0]}' fired (window {rest.Split(':', 2).ElementAtOrDefault(1)})",
        ["dataset", var version] => $"new data: {version}",
        ["schedule", var at] => $"scheduled run due {at}",
        _ => $"started by {trigger}",
    };

    private static string Show(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
