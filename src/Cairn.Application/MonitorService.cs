using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Models;
using Cairn.Core.Monitoring;
using Cairn.Core.Ports;
using Cairn.Core.Statistics;

namespace Cairn.Application;

/// <summary>A true label for a logged prediction, as feedback sends it.</summary>
/// <param name="Id">The prediction id the caller got.</param>
/// <param name="Label">The label: a class, or a number as text.</param>
/// <param name="IsNumber">Whether the caller sent a number (JSON) rather than text.</param>
public sealed record Feedback(string Id, string Label, bool IsNumber);

/// <summary>
/// Monitors: each compares a deployment's live windows with a reference dataset version. Creating one scores the
/// reference with the deployment's model to fix the baseline (profile of inputs and answers, contract, measured
/// performance, calibration). Evaluation turns closed windows into stored results and alerts, and evaluates a
/// window again when labels for it arrive.
/// </summary>
public sealed class MonitorService(
    IMonitoringStore store, IArtifactStore artifacts, DeploymentService deployments, DatasetService datasets, DatasetAnalysis analysis,
    ModelRegistry registry, IModelRuntimeFactory runtimes, ICronCalendar cron, TimeProvider time, Actor actor)
{
    /// <summary>Labels one feedback call may carry.</summary>
    public const int MaxFeedback = 10_000;

    private readonly ConcurrentDictionary<ContentHash, MonitorBaseline> _baselines = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _labelsSeen = new(StringComparer.Ordinal);

    /// <summary>Called for every alert that fires (the server logs them; policies start on them).</summary>
    public event Action<Alert>? AlertFired;

    /// <summary>Creates a deployment's monitor, scoring the reference with the model the deployment serves now.</summary>
    public Task<DeploymentMonitor> CreateAsync(string deployment, MonitorSpec spec, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Deployment(deployment), Role.Maintainer, "create monitors");
        return SaveAsync(deployment, spec, create: true, cancellationToken);
    }

    /// <summary>Replaces a monitor's settings and baseline (the reference is scored again by the model served now).</summary>
    public Task<DeploymentMonitor> UpdateAsync(string deployment, MonitorSpec spec, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Deployment(deployment), Role.Maintainer, "change monitors");
        return SaveAsync(deployment, spec, create: false, cancellationToken);
    }

    /// <summary>A deployment's monitor.</summary>
    public async Task<DeploymentMonitor> GetAsync(string deployment, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Deployment(deployment), Role.Viewer, "read monitors");
        return await store.GetMonitorAsync(Names.Validate(deployment, "deployment"), cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"Deployment '{deployment}' has no monitor; create one with 'cairn monitors create {deployment} --reference DATASET@N'.");
    }

    /// <summary>Every monitor the caller may see.</summary>
    public Task<IReadOnlyList<DeploymentMonitor>> ListAsync(CancellationToken cancellationToken) =>
        store.ListMonitorsAsync(actor.VisibleTo(ResourceKind.Deployment), cancellationToken);

    /// <summary>Deletes a monitor with its results and alerts.</summary>
    public Task DeleteAsync(string deployment, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Deployment(deployment), Role.Maintainer, "delete monitors");
        return store.DeleteMonitorAsync(Names.Validate(deployment, "deployment"), actor.Name, cancellationToken);
    }

    /// <summary>A monitor's baseline.</summary>
    public async Task<MonitorBaseline> BaselineAsync(DeploymentMonitor monitor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        if (_baselines.TryGetValue(monitor.Baseline, out var cached))
        {
            return cached;
        }

        await using var json = await artifacts.OpenReadAsync(monitor.Baseline, cancellationToken).ConfigureAwait(false);
        var baseline = await JsonSerializer.DeserializeAsync(json, CairnJson.Compact.MonitorBaseline, cancellationToken).ConfigureAwait(false)
            ?? throw new CairnException(ErrorCode.Corrupt, $"The baseline of {monitor.Deployment}'s monitor is empty.");
        return _baselines[monitor.Baseline] = baseline;
    }

    /// <summary>Throws unless the caller may send labels to a deployment (editor on it); hosts call it before reading a body.</summary>
    public void DemandFeedback(string deployment) => actor.Demand(ResourceRef.Deployment(deployment), Role.Editor, "send feedback");

    /// <summary>
    /// Records true labels for logged predictions. Everything is checked first — ids known and not labeled yet, no
    /// id twice, labels of the model's kind (a class it knows, or a number) — and then all are stored, or none.
    /// </summary>
    public async Task<int> FeedbackAsync(string deployment, IReadOnlyList<Feedback> labels, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(labels);
        DemandFeedback(deployment);
        var served = await deployments.GetAsync(deployment, cancellationToken).ConfigureAwait(false);
        if (labels.Count == 0)
        {
            throw CairnException.Invalid("The feedback has no labels: send {\"labels\": [{\"prediction_id\": ..., \"label\": ...}, ...]}.");
        }

        if (labels.Count > MaxFeedback)
        {
            throw CairnException.Invalid($"The feedback has {labels.Count} labels; send at most {MaxFeedback} per call.");
        }

        var problems = new List<string>();
        foreach (var group in labels.GroupBy(l => l.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"prediction '{group.Key}' is labeled {group.Count()} times");
        }

        var signature = (await deployments.ResolveAsync(served.Spec, cancellationToken).ConfigureAwait(false))[0].Package?.Signature
            ?? throw CairnException.Invalid($"Deployment '{deployment}' serves a model without a signature.");
        var classes = signature.Classes?.ToHashSet(StringComparer.Ordinal);
        foreach (var label in labels)
        {
            if (string.IsNullOrEmpty(label.Id) || label.Id.Length > 100)
            {
                problems.Add($"'{label.Id}' is not a prediction id");
            }
            else if (signature.Task == TaskKind.Regression
                ? !double.TryParse(label.Label, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number)
                : !classes!.Contains(label.Label))
            {
                problems.Add(signature.Task == TaskKind.Regression
                    ? $"prediction '{label.Id}': the label '{label.Label}' is not a number, and {served.Name} predicts numbers"
                    : $"prediction '{label.Id}': the label '{label.Label}' is not one of the classes ({string.Join(", ", signature.Classes!)})");
            }
        }

        if (problems.Count > 0)
        {
            throw CairnException.Invalid($"The feedback was not recorded: {string.Join("; ", problems.Take(20))}{(problems.Count > 20 ? $"; and {problems.Count - 20} more" : "")}.");
        }

        await store.AddLabelsAsync(served.Name, [.. labels.Select(l => (l.Id, l.Label))], actor.Name, cancellationToken).ConfigureAwait(false);
        return labels.Count;
    }

    /// <summary>
    /// Evaluates a deployment's windows that need it: closed windows not evaluated yet, windows that got more traffic
    /// or labels since they were, and with <paramref name="includeOpen"/> the current one. Fires the alerts they break.
    /// </summary>
    public async Task<IReadOnlyList<WindowResult>> EvaluateAsync(string deployment, bool includeOpen, CancellationToken cancellationToken)
    {
        var monitor = await GetAsync(deployment, cancellationToken).ConfigureAwait(false);
        var baseline = await BaselineAsync(monitor, cancellationToken).ConfigureAwait(false);
        var spec = monitor.Spec;
        var now = time.GetUtcNow();
        var from = MonitorSpec.WindowOf(now - spec.Retention, spec.Window).Start;
        var to = now + spec.Window;
        var live = await store.ReadLiveWindowsAsync(monitor.Deployment, from, to, withContent: false, cancellationToken).ConfigureAwait(false);
        var results = (await store.ListWindowResultsAsync(monitor.Deployment, from, to, cancellationToken).ConfigureAwait(false)).ToDictionary(r => r.Start);
        var since = _labelsSeen.GetValueOrDefault(monitor.Deployment, DateTimeOffset.UnixEpoch);
        var labels = await store.LabelArrivalsAsync(monitor.Deployment, spec.Window, since, cancellationToken).ConfigureAwait(false);
        var due = live.GroupBy(w => spec.WindowOf(w.Start).Start)
            .Where(g => includeOpen || g.Key + spec.Window <= now)
            .Where(g => !results.TryGetValue(g.Key, out var done) || done.EvaluatedAt < g.Max(w => w.UpdatedAt)
                || (labels.TryGetValue(g.Key, out var labeled) && labeled >= done.EvaluatedAt))
            .Select(g => g.Key)
            .Order()
            .ToList();
        var evaluated = new List<WindowResult>();
        foreach (var start in due)
        {
            var result = await EvaluateWindowAsync(monitor, baseline, start, cancellationToken).ConfigureAwait(false);
            await store.SaveWindowResultAsync(result, cancellationToken).ConfigureAwait(false);
            evaluated.Add(result);
            if (result.End <= now)
            {
                await AlertAsync(monitor, result, cancellationToken).ConfigureAwait(false);
            }
        }

        if (labels.Count > 0)
        {
            _labelsSeen[monitor.Deployment] = labels.Values.Max();
        }

        return evaluated;
    }

    /// <summary>A deployment's stored window results, oldest first.</summary>
    public async Task<IReadOnlyList<WindowResult>> ResultsAsync(string deployment, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var monitor = await GetAsync(deployment, cancellationToken).ConfigureAwait(false);
        return await store.ListWindowResultsAsync(monitor.Deployment, from ?? DateTimeOffset.UnixEpoch, to ?? DateTimeOffset.MaxValue.AddYears(-1), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>A deployment's monitoring history as one report (JSON, or HTML through <see cref="MonitorReport.ToHtml"/>).</summary>
    public async Task<MonitorReport> ReportAsync(string deployment, CancellationToken cancellationToken)
    {
        var monitor = await GetAsync(deployment, cancellationToken).ConfigureAwait(false);
        var baseline = await BaselineAsync(monitor, cancellationToken).ConfigureAwait(false);
        var windows = await ResultsAsync(deployment, null, null, cancellationToken).ConfigureAwait(false);
        var alerts = await store.ListAlertsAsync(monitor.Deployment, 500, null, cancellationToken).ConfigureAwait(false);
        var latest = windows.Count == 0 ? null : await ProfileOfAsync(monitor.Deployment, windows[^1].Start, windows[^1].End, cancellationToken).ConfigureAwait(false);
        return new MonitorReport(monitor, baseline, windows, alerts, latest);
    }

    /// <summary>What the deployment's requests looked like in one window (every server's share merged), to set beside the reference; null when none were logged.</summary>
    public async Task<DatasetProfile?> WindowProfileAsync(string deployment, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var monitor = await GetAsync(deployment, cancellationToken).ConfigureAwait(false);
        return await ProfileOfAsync(monitor.Deployment, start, end, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DatasetProfile?> ProfileOfAsync(string deployment, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var stored = await store.ReadLiveWindowsAsync(deployment, start, end, withContent: true, cancellationToken).ConfigureAwait(false);
        return stored.Count == 0 ? null : stored.Select(PredictionRecorder.Read).Aggregate(LiveWindow.Merge).Profile;
    }

    /// <summary>Alerts, newest first, of one deployment or all.</summary>
    public Task<IReadOnlyList<Alert>> AlertsAsync(string? deployment, int limit, CancellationToken cancellationToken) =>
        store.ListAlertsAsync(deployment is null ? null : Names.Validate(deployment, "deployment"), limit, actor.VisibleTo(ResourceKind.Deployment), cancellationToken);

    /// <summary>Evaluates every monitor and applies retention to the prediction log; one monitor's failure does not stop the others.</summary>
    public async Task<IReadOnlyList<string>> EvaluateAllAsync(CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var monitor in await store.ListMonitorsAsync(null, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await EvaluateAsync(monitor.Deployment, includeOpen: false, cancellationToken).ConfigureAwait(false);
                await store.TrimPredictionLogAsync(monitor.Deployment, time.GetUtcNow() - monitor.Spec.Retention, monitor.Spec.LogLimit, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CairnException or IOException or JsonException)
            {
                failures.Add($"{monitor.Deployment}: {e.Message}");
            }
        }

        return failures;
    }

    private async Task<WindowResult> EvaluateWindowAsync(DeploymentMonitor monitor, MonitorBaseline baseline, DateTimeOffset start, CancellationToken cancellationToken)
    {
        var spec = monitor.Spec;
        var end = start + spec.Window;
        var stored = await store.ReadLiveWindowsAsync(monitor.Deployment, start, end, withContent: true, cancellationToken).ConfigureAwait(false);
        var window = stored.Select(PredictionRecorder.Read).Aggregate(LiveWindow.Merge) with { Start = start, End = end };
        var labeled = await store.ListPredictionsAsync(monitor.Deployment, start, end, labeledOnly: true, int.MaxValue, cancellationToken).ConfigureAwait(false);
        return MonitorEvaluator.Evaluate(spec, baseline, window,
            [.. labeled.Select(p => new LabeledPrediction(p.Predicted, p.Score, p.Label!, p.Version))], time.GetUtcNow());
    }

    private async Task AlertAsync(DeploymentMonitor monitor, WindowResult result, CancellationToken cancellationToken)
    {
        var history = await store.ListAlertsAsync(monitor.Deployment, 200, null, cancellationToken).ConfigureAwait(false);
        foreach (var alert in Alert.Check(monitor.Spec, result, time.GetUtcNow()))
        {
            // A rule that fired on a nearby window stays quiet for the cooldown.
            if (history.Any(h => h.Rule == alert.Rule && h.WindowStart != alert.WindowStart && (h.WindowStart - alert.WindowStart).Duration() < monitor.Spec.Cooldown))
            {
                continue;
            }

            if (await store.AddAlertAsync(alert, cancellationToken).ConfigureAwait(false) is { } fired)
            {
                AlertFired?.Invoke(fired);
            }
        }
    }

    private async Task<DeploymentMonitor> SaveAsync(string deployment, MonitorSpec spec, bool create, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var served = await deployments.GetAsync(deployment, cancellationToken).ConfigureAwait(false);
        if (!create)
        {
            await GetAsync(deployment, cancellationToken).ConfigureAwait(false);
        }

        var baseline = await BuildBaselineAsync(served, spec, cancellationToken).ConfigureAwait(false);
        var saved = await artifacts.PutAsync(new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(baseline, CairnJson.Compact.MonitorBaseline)), cancellationToken)
            .ConfigureAwait(false);
        _baselines[saved.ContentHash] = baseline;
        return await store.SaveMonitorAsync(served.Name, spec, saved.ContentHash, create, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    private async Task<MonitorBaseline> BuildBaselineAsync(Deployment served, MonitorSpec spec, CancellationToken cancellationToken)
    {
        var version = (await deployments.ResolveAsync(served.Spec, cancellationToken).ConfigureAwait(false))[0];
        var signature = version.Package?.Signature ?? throw CairnException.Invalid($"{version.Model} version {version.Version} has no model Cairn can serve.");
        var reference = await datasets.GetAsync(DatasetRef.Parse(spec.Reference), cancellationToken).ConfigureAwait(false);
        var table = await datasets.LoadAsync(reference, cancellationToken).ConfigureAwait(false);
        EvaluationService.CheckColumns(signature, table.Columns.ToDictionary(c => c.Name, c => c is NumericColumn), reference.Reference, [], requireLabel: true);
        var schema = MonitoredColumns.Schema(signature);
        var problems = new List<string>();
        if (spec.Segment is { } segment && signature.FindInput(segment) is null)
        {
            problems.Add($"the segment column '{segment}' is not one of the model's inputs");
        }

        problems.AddRange(spec.Columns.Keys.Where(c => schema.Find(c) is null).Select(c => $"column '{c}' has drift settings but is not monitored (inputs: {string.Join(", ", signature.Inputs.Select(i => i.Name))})"));
        if (spec.Policy is { } policy)
        {
            problems.AddRange(await PolicyProblemsAsync(policy, version, cancellationToken).ConfigureAwait(false));
        }

        if (problems.Count > 0)
        {
            throw CairnException.Invalid($"The monitor is not valid: {string.Join("; ", problems)}.");
        }

        var onnx = await registry.ReadOnnxAsync(version.Package!, cancellationToken).ConfigureAwait(false);
        var (_, datasetProfile) = await analysis.ProfileAsync(new DatasetRef(reference.Name, reference.Version), cancellationToken).ConfigureAwait(false);
        return await Task.Run(() =>
        {
            IReadOnlyList<OutputTensor> outputs;
            using (var runtime = runtimes.Load(onnx, signature))
            {
                outputs = runtime.Predict(table);
            }

            var rows = MonitoredColumns.WithOutputs(new Table([.. signature.Inputs.Select(i => table[i.Name])], table.RowCount), signature.Task, outputs);
            var profile = Profiler.Profile(rows, schema, cancellationToken);
            var inputs = signature.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
            var contract = DataContract.Infer(reference, datasetProfile).Columns.Where(c => inputs.Contains(c.Name)).ToList();
            var (labels, scores) = MonitoredColumns.Outputs(signature.Task, outputs);
            var truth = signature.Task == TaskKind.Regression
                ? ((NumericColumn)table[signature.Label]).Values.Select(v => float.IsNaN(v) ? null : v.ToString("R", CultureInfo.InvariantCulture)).ToArray()
                : ModelEvaluator.LabelText(table[signature.Label], signature.Classes!);
            var labeled = Enumerable.Range(0, table.RowCount).Where(i => truth[i] is not null)
                .Select(i => new LabeledPrediction(labels?[i] ?? scores[i].ToString("R", CultureInfo.InvariantCulture), scores[i], truth[i]!, version.Version))
                .ToList();
            var partial = new MonitorBaseline(reference.Reference, version.Model, version.Version, signature.Task, signature.Label, signature.Classes,
                profile, contract, new Dictionary<string, double>(), null);
            var metrics = labeled.Count == 0 ? new Dictionary<string, double>() : MonitorEvaluator.Performance(partial, labeled);
            return partial with { Metrics = metrics, Calibration = Calibrate(signature, labeled) };
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<string>> PolicyProblemsAsync(RetrainPolicy policy, ModelVersion served, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (policy.Schedule is { } schedule && cron.Problem(schedule) is { } wrong)
        {
            problems.Add($"policy: schedule: {wrong}");
        }

        if (!File.Exists(policy.Pipeline))
        {
            problems.Add($"policy: the pipeline file '{policy.Pipeline}' does not exist");
        }

        if (policy.Model != served.Model)
        {
            problems.Add($"policy: it retrains '{policy.Model}', but the deployment serves '{served.Model}'");
        }

        try
        {
            await datasets.GetAsync(DatasetRef.Parse(policy.Holdout), cancellationToken).ConfigureAwait(false);
        }
        catch (CairnException e) when (e.Code == ErrorCode.NotFound)
        {
            problems.Add($"policy: holdout: {e.Message}");
        }

        return problems;
    }

    // Binary: the chance of the positive class given its probability; multiclass: the chance the answer is right given its confidence.
    private static Calibration? Calibrate(ModelSignature signature, List<LabeledPrediction> labeled)
    {
        if (signature.Task == TaskKind.Regression || labeled.Count == 0)
        {
            return null;
        }

        var scores = labeled.Select(l => (float)l.Score).ToArray();
        if (signature.Task == TaskKind.Multiclass)
        {
            return Calibration.Fit(scores, [.. labeled.Select(l => l.Predicted == l.Label)], 0);
        }

        var positive = signature.Classes![1];
        var threshold = labeled.Where(l => l.Predicted == positive).Select(l => l.Score).DefaultIfEmpty(0.5).Min();
        return Calibration.Fit(scores, [.. labeled.Select(l => l.Label == positive)], threshold);
    }
}
