using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Pipelines;
using Cairn.Core.Runs;
using Cairn.Core.Training;
using Polly;
using Polly.Retry;

namespace Cairn.Application;

/// <summary>
/// Runs a pipeline in waves of independent steps (as many at once as there are cores, or a given limit). Each step is a run nested under the pipeline's run, tagged with a
/// cache key made of its kind, resolved settings, the content of its inputs and Cairn's version; a finished step run
/// with the same key is reused instead of running again (and says so). Failed attempts are retried with backoff; a
/// failed step fails the pipeline, and steps after it do not run.
/// </summary>
public sealed class PipelineRunner(RunService runs, RunArtifacts runArtifacts, DatasetService datasets, DatasetAnalysis analysis, TrainingService training,
    EvaluationService evaluation, SweepService sweeps, BatchScoring scoring, IStepHost? stepHost,
    ModelRegistry registry, ModelLoader loader, TimeProvider time)
{
    private const string CacheKeyTag = "cairn.step.cache_key";

    /// <summary>The tag on a pipeline run listing its graph's edges as <c>from&gt;to</c>, comma-separated.</summary>
    public const string PipelineEdgesTag = "cairn.pipeline.edges";

    private static readonly string CairnVersion =
        typeof(PipelineRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "dev";

    /// <summary>
    /// Runs <paramref name="spec"/> with parameter values (defaults filled in), relative paths resolved against
    /// <paramref name="directory"/>. <paramref name="force"/> runs every step; <paramref name="from"/> runs that step and
    /// every step after it (those that read what it writes, directly or not), the others still coming from the cache.
    /// </summary>
    public async Task<PipelineResult> RunAsync(PipelineSpec spec, IReadOnlyDictionary<string, string> overrides, string directory, bool force,
        IProgress<string>? progress, CancellationToken cancellationToken, string? from = null, int? parallelism = null,
        IReadOnlyList<KeyValuePair<string, string>>? tags = null)
    {
        var limit = parallelism ?? Environment.ProcessorCount;
        if (limit < 1)
        {
            throw CairnException.Invalid($"The parallelism limit is {limit}; it must be at least 1.");
        }

        using var slots = new SemaphoreSlim(limit);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(overrides);
        var values = ResolveParameters(spec, overrides);
        var forced = force ? [.. spec.Steps.Select(s => s.Name)] : from is null ? [] : Downstream(spec, from);
        await RecoverInterruptedAsync(cancellationToken).ConfigureAwait(false);
        var pipelineRun = await runs.CreateAsync(null, $"pipeline {spec.Name}", null, null,
            [new("cairn.kind", "pipeline"), new("cairn.pipeline", spec.Name), new(LocalProcess.Tag, LocalProcess.Current), .. tags ?? []], cancellationToken).ConfigureAwait(false);
        await runs.LogBatchAsync(pipelineRun.Id, [], [.. values.Select(v => KeyValuePair.Create($"param.{v.Key}", v.Value))], [], cancellationToken)
            .ConfigureAwait(false);

        var steps = spec.Steps.ToDictionary(s => s.Name);
        var dependencies = PipelineGraph.Dependencies(spec.Steps);
        // The graph's edges go on the pipeline run, so a page can draw the DAG from the run alone.
        var edges = string.Join(",", dependencies.SelectMany(d => d.Value.Select(from => $"{from}>{d.Key}")));
        if (edges.Length is > 0 and <= TrackingLimits.MaxTagValueLength)
        {
            await runs.LogBatchAsync(pipelineRun.Id, [], [], [new(PipelineEdgesTag, edges)], cancellationToken).ConfigureAwait(false);
        }

        var results = new List<StepResult>();
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var wave in PipelineGraph.Waves(spec.Steps))
        {
            // Independent steps of a wave run side by side, at most `limit` at a time.
            var finished = await Task.WhenAll(wave.Select(async name =>
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    return await RunStepAsync(steps[name], values, dependencies[name].ToDictionary(d => d, d => keys[d]), outputs, directory, pipelineRun.Id,
                        forced.Contains(name), progress, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    slots.Release();
                }
            })).ConfigureAwait(false);
            foreach (var result in finished)
            {
                keys[result.Step] = result.CacheKey;
                foreach (var (resource, value) in result.Outputs)
                {
                    outputs[resource] = value;
                }
            }

            results.AddRange(finished);
            if (finished.Any(r => r.Status == RunStatus.Failed))
            {
                break;
            }
        }

        var status = results.Count == spec.Steps.Count && results.All(r => r.Status == RunStatus.Finished) ? RunStatus.Finished : RunStatus.Failed;
        await runs.UpdateAsync(pipelineRun.Id, status, time.GetUtcNow(), null, CancellationToken.None).ConfigureAwait(false);
        return new PipelineResult(spec.Name, pipelineRun.Id, status, results);
    }

    /// <summary>Ends the runs dead processes left RUNNING (see <see cref="RunService.RecoverInterruptedAsync"/>); finished steps stay cached, so a re-run resumes.</summary>
    public Task<IReadOnlyList<Run>> RecoverInterruptedAsync(CancellationToken cancellationToken) => runs.RecoverInterruptedAsync(cancellationToken);

    /// <summary>
    /// Ends as FAILED the runs a schedule's previous firing left RUNNING, and their steps: called when Quartz recovers
    /// the schedule's job, which means the worker running it died (on any machine of a cluster).
    /// </summary>
    public Task<IReadOnlyList<Run>> InterruptScheduledAsync(string schedule, CancellationToken cancellationToken)
    {
        Names.Validate(schedule, "schedule");
        return InterruptTaggedAsync("cairn.schedule", schedule, "the worker running its schedule stopped", cancellationToken);
    }

    /// <summary>Ends the runs a submitted job's dead worker left RUNNING (those tagged with the job), with their steps.</summary>
    public Task<IReadOnlyList<Run>> InterruptJobRunsAsync(string jobId, CancellationToken cancellationToken) =>
        Ids.IsRunId(jobId) ? InterruptTaggedAsync("cairn.job", jobId, "the worker running its job stopped", cancellationToken)
            : throw CairnException.Invalid($"'{jobId}' is not a job id.");

    // The tag's value is a checked name or id, so it is safe inside the filter's quotes.
    private async Task<IReadOnlyList<Run>> InterruptTaggedAsync(string tag, string value, string reason, CancellationToken cancellationToken)
    {
        var (pipelines, _) = await runs.SearchAsync([Experiment.DefaultId], $"attributes.status = 'RUNNING' and tags.`{tag}` = '{value}'",
            LifecycleStage.Active, [], 1000, null, cancellationToken).ConfigureAwait(false);
        var interrupted = new List<Run>(pipelines);
        foreach (var pipeline in pipelines)
        {
            var (steps, _) = await runs.SearchAsync([Experiment.DefaultId], $"attributes.status = 'RUNNING' and attributes.parent_run_id = '{pipeline.Id}'",
                LifecycleStage.Active, [], 1000, null, cancellationToken).ConfigureAwait(false);
            interrupted.AddRange(steps);
        }

        await runs.EndInterruptedAsync(interrupted, reason, cancellationToken).ConfigureAwait(false);
        return interrupted;
    }


    private static HashSet<string> Downstream(PipelineSpec spec, string from)
    {
        if (spec.Steps.All(s => s.Name != from))
        {
            throw CairnException.Invalid($"--from names no step of {spec.Name}; its steps are {string.Join(", ", spec.Steps.Select(s => s.Name))}.");
        }

        var dependencies = PipelineGraph.Dependencies(spec.Steps);
        var downstream = new HashSet<string>(StringComparer.Ordinal) { from };
        foreach (var wave in PipelineGraph.Waves(spec.Steps))
        {
            downstream.UnionWith(wave.Where(step => dependencies[step].Any(downstream.Contains)));
        }

        return downstream;
    }

    private static Dictionary<string, string> ResolveParameters(PipelineSpec spec, IReadOnlyDictionary<string, string> overrides)
    {
        var problems = new List<string>();
        problems.AddRange(overrides.Keys.Where(k => spec.Parameters.All(p => p.Name != k)).Select(k => $"--param {k}: the pipeline declares no such parameter"));
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in spec.Parameters)
        {
            var value = overrides.GetValueOrDefault(parameter.Name) ?? parameter.Default;
            if (value is null)
            {
                problems.Add($"parameter '{parameter.Name}' has no default; give it with --param {parameter.Name}=VALUE");
            }
            else if (!PipelineSpec.IsValid(parameter.Type, value))
            {
                problems.Add($"parameter '{parameter.Name}' is '{value}', which is not a valid {parameter.Type.ToString().ToLowerInvariant()}");
            }
            else
            {
                values[parameter.Name] = value;
            }
        }

        return problems.Count > 0 ? throw CairnException.Invalid($"Cannot run {spec.Name}: {string.Join("; ", problems)}.") : values;
    }

    private async Task<StepResult> RunStepAsync(PipelineStep step, IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, string> upstreamKeys,
        IReadOnlyDictionary<string, string> upstreamOutputs, string directory, string parentRunId, bool force, IProgress<string>? progress,
        CancellationToken cancellationToken)
    {
        var with = step.With.ToDictionary(w => w.Key, w => PipelineSpec.Substitute(w.Value, values), StringComparer.Ordinal);
        var command = step.Run.Select(a => PipelineSpec.Substitute(a, values)).ToList();
        var key = await CacheKeyAsync(step, with, command, upstreamKeys, directory, cancellationToken).ConfigureAwait(false);
        var tags = new List<KeyValuePair<string, string>>
        {
            new("cairn.kind", "step"), new("cairn.step", step.Name), new("cairn.step.kind", step.Kind), new(CacheKeyTag, key), new(LocalProcess.Tag, LocalProcess.Current),
        };

        if (!force && await FindCachedAsync(key, cancellationToken).ConfigureAwait(false) is { } earlier &&
            await OutputsPresentAsync(step, earlier, directory, cancellationToken).ConfigureAwait(false))
        {
            var reused = await runs.CreateAsync(null, step.Name, null, null, [.. tags, new("cairn.step.cached_from", earlier.Id)], parentRunId, cancellationToken)
                .ConfigureAwait(false);
            await runs.UpdateAsync(reused.Id, RunStatus.Finished, time.GetUtcNow(), null, CancellationToken.None).ConfigureAwait(false);
            progress?.Report($"{step.Name}: cached (same inputs and settings as run {earlier.Id})");
            return new StepResult(step.Name, reused.Id, RunStatus.Finished, true, key, null, RecordedOutputs(earlier));
        }

        var run = await runs.CreateAsync(null, step.Name, null, null, tags, parentRunId, cancellationToken).ConfigureAwait(false);
        await runs.LogBatchAsync(run.Id, [], [.. with.Select(w => KeyValuePair.Create($"with.{w.Key}", w.Value)),
            .. command.Count > 0 ? [KeyValuePair.Create("run", string.Join(' ', command))] : Array.Empty<KeyValuePair<string, string>>()], [], cancellationToken).ConfigureAwait(false);
        var log = new StringBuilder();
        string? error = null;
        IReadOnlyDictionary<string, string> written = new Dictionary<string, string>();
        var attempt = 0;
        try
        {
            await StepRetries(step, log).ExecuteAsync(async ct =>
            {
                attempt++;
                try
                {
                    progress?.Report($"{step.Name}: running ({step.Kind}){(attempt > 1 ? $", attempt {attempt}" : "")}");
                    var outputs = await ExecuteAsync(step, with, command, upstreamOutputs, directory, log, ct).ConfigureAwait(false);
                    await runs.LogBatchAsync(run.Id, [], [], [.. outputs.Select(o => KeyValuePair.Create($"cairn.output.{o.Key}", o.Value))], ct)
                        .ConfigureAwait(false);
                    written = outputs;
                }
                catch (Exception e) when (IsStepFailure(e, ct))
                {
                    log.AppendLine(CultureInfo.InvariantCulture, $"-- failed: {e.Message}");
                    throw;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStepFailure(e, cancellationToken))
        {
            error = e.Message;
        }

        await runArtifacts.LogAsync(run.Id, "logs/step.log", new MemoryStream(Encoding.UTF8.GetBytes(log.ToString())), CancellationToken.None).ConfigureAwait(false);
        if (error is not null)
        {
            await runs.LogBatchAsync(run.Id, [], [], [new("cairn.step.error", error.Length > 8000 ? error[..8000] : error)], CancellationToken.None).ConfigureAwait(false);
        }

        var status = error is null ? RunStatus.Finished : RunStatus.Failed;
        await runs.UpdateAsync(run.Id, status, time.GetUtcNow(), null, CancellationToken.None).ConfigureAwait(false);
        progress?.Report(error is null ? $"{step.Name}: done" : $"{step.Name}: FAILED: {error}");
        return new StepResult(step.Name, run.Id, status, false, key, error, written);
    }

    // What a step's attempt can fail with and be tried again for; cancellation is not a failure.
    private static bool IsStepFailure(Exception e, CancellationToken cancellationToken) =>
        e is CairnException or IOException or System.ComponentModel.Win32Exception or TimeoutException && !cancellationToken.IsCancellationRequested;

    // A step's retries: step.Retries more attempts after the first, 250 ms apart and doubling, each noted in the step's log.
    private ResiliencePipeline StepRetries(PipelineStep step, StringBuilder log) => step.Retries < 1
        ? ResiliencePipeline.Empty
        : new ResiliencePipelineBuilder { TimeProvider = time }.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = step.Retries,
            Delay = TimeSpan.FromMilliseconds(250),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsStepFailure(e, args.Context.CancellationToken)),
            OnRetry = args =>
            {
                log.AppendLine(CultureInfo.InvariantCulture, $"-- attempt {args.AttemptNumber + 2} of {step.Retries + 1} after {args.RetryDelay.TotalSeconds:0.##} s");
                return default;
            },
        }).Build();

    private static Dictionary<string, string> RecordedOutputs(Run run) =>
        run.Tags.Where(t => t.Key.StartsWith("cairn.output.", StringComparison.Ordinal))
            .ToDictionary(t => t.Key["cairn.output.".Length..], t => t.Value, StringComparer.Ordinal);

    // The step's kind and resolved settings, what its inputs hold now, the cache keys of the steps it reads from, and Cairn's version.
    private async Task<string> CacheKeyAsync(PipelineStep step, Dictionary<string, string> with, List<string> command,
        IReadOnlyDictionary<string, string> upstreamKeys, string directory, CancellationToken cancellationToken)
    {
        var text = new StringBuilder().Append("cairn ").AppendLine(CairnVersion).Append("kind ").AppendLine(step.Kind);
        foreach (var (name, value) in with.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            text.Append("with ").Append(name).Append('=').AppendLine(value);
        }

        text.Append("run ").AppendLine(string.Join('\u001f', command));
        foreach (var input in step.Inputs.Order(StringComparer.Ordinal))
        {
            text.Append("input ").Append(input).Append(' ').AppendLine(await IdentifyAsync(input, directory, cancellationToken).ConfigureAwait(false));
        }

        foreach (var upstream in upstreamKeys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            text.Append("after ").Append(upstream.Key).Append(' ').AppendLine(upstream.Value);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    // What an input holds now: a file's SHA-256, a dataset's latest content hash; other resources are covered by upstream keys.
    private async Task<string> IdentifyAsync(string resource, string directory, CancellationToken cancellationToken)
    {
        var (kind, name) = (resource[..resource.IndexOf(':', StringComparison.Ordinal)], resource[(resource.IndexOf(':', StringComparison.Ordinal) + 1)..]);
        switch (kind)
        {
            case "file":
                var path = Path.GetFullPath(name, directory);
                if (!File.Exists(path))
                {
                    return "missing";
                }

                await using (var file = File.OpenRead(path))
                {
                    return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
                }

            case "dataset":
                try
                {
                    return (await datasets.GetAsync(DatasetRef.Parse(name), cancellationToken).ConfigureAwait(false)).ContentHash.Hex;
                }
                catch (CairnException e) when (e.Code == ErrorCode.NotFound)
                {
                    return "missing";
                }

            default:
                return "";
        }
    }

    private async Task<Run?> FindCachedAsync(string key, CancellationToken cancellationToken)
    {
        // Step runs live in the default experiment; the key is hex, so it is safe inside the filter's quotes.
        var (found, _) = await runs.SearchAsync([Experiment.DefaultId],
            $"tags.`{CacheKeyTag}` = '{key}' and attributes.status = 'FINISHED' and tags.`cairn.step.cached_from` IS NULL",
            LifecycleStage.Active, ["attributes.start_time DESC"], 1, null, cancellationToken).ConfigureAwait(false);
        return found.Count > 0 ? found[0] : null;
    }

    // A cached step is reused only if the files it wrote are still there as it wrote them.
    private static async Task<bool> OutputsPresentAsync(PipelineStep step, Run earlier, string directory, CancellationToken cancellationToken)
    {
        foreach (var output in step.Outputs.Where(o => o.StartsWith("file:", StringComparison.Ordinal)))
        {
            var path = Path.GetFullPath(output["file:".Length..], directory);
            if (!File.Exists(path) || !earlier.Tags.TryGetValue($"cairn.output.{output}", out var recorded))
            {
                return false;
            }

            await using var file = File.OpenRead(path);
            if (Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false)) != recorded)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The step kinds that run in a child process when a step host is configured: they load data and train.</summary>
    public static readonly IReadOnlySet<string> IsolatedKinds = new HashSet<string>(StringComparer.Ordinal) { "train", "sweep", "evaluate", "batch-score" };

    /// <summary>
    /// Runs one built-in step here, in this process: what a child process started by an <see cref="IStepHost"/> does.
    /// <paramref name="with"/> holds resolved settings (an evaluate step's model already names a run or a model).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> ExecuteStepAsync(string name, string kind, IReadOnlyDictionary<string, string> with, string directory,
        StringBuilder log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(with);
        if (!IsolatedKinds.Contains(kind))
        {
            throw CairnException.Invalid($"Step kind '{kind}' does not run on its own; only {string.Join(", ", IsolatedKinds)} do.");
        }

        return await ExecuteAsync(new PipelineStep(name, kind) { With = with }, new Dictionary<string, string>(with), [], new Dictionary<string, string>(), directory, log,
            cancellationToken, isolated: false).ConfigureAwait(false);
    }

    private async Task<Dictionary<string, string>> ExecuteAsync(PipelineStep step, Dictionary<string, string> with, List<string> command,
        IReadOnlyDictionary<string, string> upstreamOutputs, string directory, StringBuilder log, CancellationToken cancellationToken, bool isolated = true)
    {
        string Path(string key) => System.IO.Path.GetFullPath(with[key], directory);
        async Task<string> ReadAsync(string key) => File.Exists(Path(key))
            ? await File.ReadAllTextAsync(Path(key), cancellationToken).ConfigureAwait(false)
            : throw CairnException.NotFound($"Step '{step.Name}': {key} file '{with[key]}' does not exist.");
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (isolated && stepHost is not null && IsolatedKinds.Contains(step.Kind))
        {
            var resolved = new Dictionary<string, string>(with);
            if (step.Kind is "evaluate" or "batch-score")
            {
                resolved["model"] = upstreamOutputs.GetValueOrDefault($"run:{with["model"]}") ?? with["model"];
            }

            foreach (var (resource, value) in await stepHost.RunAsync(step.Name, step.Kind, resolved, directory, log, step.Timeout, cancellationToken).ConfigureAwait(false))
            {
                outputs[resource] = value;
            }

            return await RecordFileOutputsAsync(step, outputs, directory, cancellationToken).ConfigureAwait(false);
        }

        switch (step.Kind)
        {
            case "command":
                await RunCommandAsync(command, directory, step.Timeout, log, cancellationToken).ConfigureAwait(false);
                break;
            case "ingest":
            {
                var (version, created) = await datasets.AddAsync(Path("path"), with["dataset"], with.GetValueOrDefault("message"), new Dictionary<string, string>(),
                    cancellationToken).ConfigureAwait(false);
                log.AppendLine(CultureInfo.InvariantCulture, $"{(created ? "added" : "unchanged")} {version.Reference} ({version.RowCount} rows)");
                outputs[$"dataset:{with["dataset"]}"] = version.Reference;
                break;
            }

            case "validate":
            {
                var report = await analysis.ValidateAsync(DatasetRef.Parse(with["dataset"]), await ReadAsync("contract").ConfigureAwait(false),
                    cancellationToken).ConfigureAwait(false);
                foreach (var violation in report.Violations)
                {
                    log.AppendLine(CultureInfo.InvariantCulture, $"{violation.Column ?? "(table)"} {violation.Rule}: {violation.Message}");
                }

                if (!report.Passed)
                {
                    throw CairnException.Invalid($"{report.Dataset}@{report.Version} broke {report.Violations.Count} rule(s) of {with["contract"]}.");
                }

                break;
            }

            case "train":
            {
                var spec = TrainingSpec.Parse(await ReadAsync("config").ConfigureAwait(false));
                spec = spec with
                {
                    Dataset = with.TryGetValue("dataset", out var dataset) ? DatasetRef.Parse(dataset) : spec.Dataset,
                    Trainer = with.GetValueOrDefault("trainer") ?? spec.Trainer,
                    Seed = with.TryGetValue("seed", out var seed) ? int.Parse(seed, CultureInfo.InvariantCulture) : spec.Seed,
                };
                var outcome = await training.TrainAsync(spec, new Progress<string>(m => log.AppendLine(m)), cancellationToken).ConfigureAwait(false);
                var trained = await runs.GetAsync(outcome.Run.Id, cancellationToken).ConfigureAwait(false);
                if (trained.Status != RunStatus.Finished)
                {
                    throw CairnException.Invalid($"Training run {trained.Id} ended {trained.Status}.");
                }

                log.AppendLine(CultureInfo.InvariantCulture, $"trained run {trained.Id}: {string.Join(", ", trained.Metrics.Select(m => $"{m.Key}={m.Value:0.####}"))}");
                outputs[$"run:{step.Name}"] = trained.Id;
                break;
            }

            case "sweep":
            {
                // The step's output is the winning trial's run, so a register step after it registers the best model.
                var sweep = SweepSpec.Parse(await ReadAsync("config").ConfigureAwait(false));
                sweep = sweep with
                {
                    Base = with.TryGetValue("dataset", out var dataset) ? sweep.Base with { Dataset = DatasetRef.Parse(dataset) } : sweep.Base,
                    Trials = with.TryGetValue("trials", out var trials) ? int.Parse(trials, CultureInfo.InvariantCulture) : sweep.Trials,
                    Metric = with.GetValueOrDefault("metric") ?? sweep.Metric,
                };
                sweep = sweep with { Maximize = !ModelEvaluator.LowerIsBetter.Contains(sweep.Metric) };
                var outcome = await sweeps.RunAsync(sweep, new Progress<string>(m => { lock (log) { log.AppendLine(m); } }), cancellationToken).ConfigureAwait(false);
                log.AppendLine(CultureInfo.InvariantCulture, $"sweep run {outcome.Sweep.Id}: best trial {outcome.Best.Run.Id} ({outcome.SelectedOn} = {outcome.Best.Score:0.####})");
                outputs[$"run:{step.Name}"] = outcome.Best.Run.Id;
                break;
            }

            case "evaluate":
            {
                // 'model' names a train step of this pipeline (whose run it evaluates), a run id or a model reference.
                var model = upstreamOutputs.GetValueOrDefault($"run:{with["model"]}") ?? with["model"];
                var slices = with.TryGetValue("slices", out var list) ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
                var outcome = await evaluation.EvaluateAsync(model, DatasetRef.Parse(with["dataset"]), new EvaluationOptions(slices), cancellationToken).ConfigureAwait(false);
                log.AppendLine(CultureInfo.InvariantCulture,
                    $"evaluation run {outcome.Run.Id} on {outcome.Report.Rows} rows: {string.Join(", ", outcome.Report.Metrics.Select(m => $"{m.Key}={m.Value:0.####}"))}");
                outputs[$"run:{step.Name}"] = outcome.Run.Id;
                break;
            }

            case "batch-score":
            {
                // 'model' names a train or sweep step of this pipeline (whose run it uses), a run id or a model reference.
                var model = upstreamOutputs.GetValueOrDefault($"run:{with["model"]}") ?? with["model"];
                var scored = await scoring.ScoreAsync(model, DatasetRef.Parse(with["dataset"]), Path("output"), cancellationToken).ConfigureAwait(false);
                log.AppendLine(CultureInfo.InvariantCulture, $"scored {scored.Rows} rows of {scored.Input} with {scored.Model} into {with["output"]}");
                break;
            }

            case "register":
            {
                // 'run' names a train step of this pipeline (whose run it registers) or a run id.
                var trainedRun = upstreamOutputs.GetValueOrDefault($"run:{with["run"]}") ?? with["run"];
                var version = await registry.RegisterAsync(trainedRun, with["model"], with.GetValueOrDefault("alias"), cancellationToken).ConfigureAwait(false);
                version = await loader.RecordEngineAsync(version, cancellationToken).ConfigureAwait(false);
                log.AppendLine(CultureInfo.InvariantCulture, $"registered {version.Model} version {version.Version}, scored by {version.Tags.GetValueOrDefault(ModelLoader.EngineTag)}");
                outputs[$"model:{with["model"]}"] = version.Version.ToString(CultureInfo.InvariantCulture);
                break;
            }

            case "split":
            {
                var method = with.TryGetValue("method", out var m) && Enum.TryParse<SplitMethod>(m, ignoreCase: true, out var parsed) && !m.All(char.IsDigit)
                    ? parsed
                    : with.ContainsKey("method") ? throw CairnException.Invalid($"Step '{step.Name}': method '{m}' is not random, hash or time.") : SplitMethod.Random;
                var split = new DataSplit(method, Share(with, "test_fraction", 0.2), Share(with, "validation_fraction", 0), with.GetValueOrDefault("column"));
                var folder = with.ContainsKey("output") ? Path("output") : null;
                if (folder is not null && Directory.Exists(folder))
                {
                    // A step's output folder is its own: a re-run replaces the parts it wrote before.
                    foreach (var part in new[] { "train.csv", "validation.csv", "test.csv" }.Select(f => System.IO.Path.Combine(folder, f)).Where(File.Exists))
                    {
                        File.Delete(part);
                    }
                }

                var (version, counts, files) = await analysis.SplitAsync(DatasetRef.Parse(with["dataset"]), split,
                    with.TryGetValue("seed", out var seedText) ? int.Parse(seedText, CultureInfo.InvariantCulture) : 42, folder, cancellationToken).ConfigureAwait(false);
                log.AppendLine(CultureInfo.InvariantCulture, $"{version.Reference}: {string.Join(", ", counts.Select(c => $"{c.Key.ToString().ToLowerInvariant()} {c.Value}"))}");
                foreach (var file in files)
                {
                    log.AppendLine(CultureInfo.InvariantCulture, $"wrote {file}");
                }

                break;
            }

            default:
                throw new InvalidOperationException($"Step kind '{step.Kind}' has no implementation.");
        }

        return await RecordFileOutputsAsync(step, outputs, directory, cancellationToken).ConfigureAwait(false);
    }

    // Files a step says it writes must exist afterwards; their hashes let a later cache hit check they are unchanged.
    private static async Task<Dictionary<string, string>> RecordFileOutputsAsync(PipelineStep step, Dictionary<string, string> outputs, string directory,
        CancellationToken cancellationToken)
    {
        foreach (var output in step.Outputs.Where(o => o.StartsWith("file:", StringComparison.Ordinal)))
        {
            var path = System.IO.Path.GetFullPath(output["file:".Length..], directory);
            if (!File.Exists(path))
            {
                throw CairnException.Invalid($"Step '{step.Name}' declares output {output}, but it did not write it.");
            }

            await using var file = File.OpenRead(path);
            outputs[output] = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
        }

        return outputs;
    }

    private static double Share(Dictionary<string, string> with, string key, double fallback) =>
        !with.TryGetValue(key, out var text) ? fallback
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var share) ? share
        : throw CairnException.Invalid($"'{key}' is '{text}', not a number.");

    private static async Task RunCommandAsync(List<string> command, string directory, TimeSpan timeout, StringBuilder log, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(command[0]) { WorkingDirectory = directory };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        var exitCode = await ChildProcess.RunAsync(start, $"'{string.Join(' ', command)}'", timeout, l => log.AppendLine(l), cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw CairnException.Invalid($"'{string.Join(' ', command)}' exited with code {exitCode}.");
        }
    }
}
