using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Cairn.Core.Search;

namespace Cairn.Application;

/// <summary>Starts, logs to, updates, deletes, restores and reads runs.</summary>
public sealed class RunService(ITrackingStore store, IDatasetStore datasets, TimeProvider time, Actor actor)
{
    /// <summary>Starts a run in an experiment (the default one when none is named).</summary>
    public Task<Run> CreateAsync(string? experimentId, string? name, string? user, DateTimeOffset? startedAt,
        IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken) =>
        CreateAsync(experimentId, name, user, startedAt, tags, null, cancellationToken);

    /// <summary>Starts a run nested under <paramref name="parentRunId"/> (or under the run its mlflow.parentRunId tag names).</summary>
    public async Task<Run> CreateAsync(string? experimentId, string? name, string? user, DateTimeOffset? startedAt,
        IReadOnlyList<KeyValuePair<string, string>> tags, string? parentRunId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        TrackingLimits.Validate([], [], tags);
        var byKey = tags.GroupBy(t => t.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        var parent = string.IsNullOrEmpty(parentRunId) ? byKey.GetValueOrDefault(Run.ParentRunTag) : parentRunId;
        if (parent is not null)
        {
            ValidateId(parent);
            byKey[Run.ParentRunTag] = parent;
        }

        experimentId = string.IsNullOrEmpty(experimentId) ? Experiment.DefaultId : experimentId;
        actor.Demand(ResourceRef.Experiment(experimentId), Role.Editor, "start runs");
        var run = Run.Start(Ids.NewRunId(), string.IsNullOrEmpty(name) ? DefaultName(tags) : name, startedAt ?? time.GetUtcNow()) with
        {
            ExperimentId = experimentId,
            User = user ?? actor.Name,
            Tags = byKey,
            ParentRunId = parent,
        };
        await store.CreateRunAsync(run, actor.Name, cancellationToken).ConfigureAwait(false);
        return await GetAsync(run.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The tag that says why a run was ended for its process.</summary>
    public const string InterruptedTag = "cairn.interrupted";

    /// <summary>
    /// Ends as FAILED, in every experiment, each run whose process on this machine died while the run was RUNNING
    /// (killed, out of memory, the machine restarted), tagging it with the reason. Another machine's processes are never
    /// judged, and a run ended meanwhile by someone else is left as it is. Cheap enough to call as every command starts.
    /// </summary>
    public async Task<IReadOnlyList<Run>> RecoverInterruptedAsync(CancellationToken cancellationToken)
    {
        var found = await SearchEveryExperimentAsync($"attributes.status = 'RUNNING' and tags.`{LocalProcess.Tag}` IS NOT NULL", 10_000, cancellationToken)
            .ConfigureAwait(false);
        var dead = found.Where(r => LocalProcess.IsDead(r.Tags[LocalProcess.Tag])).ToList();
        return await EndInterruptedAsync(dead, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends runs whose work stopped with their process, recording why; returns those it ended (not those already ended).</summary>
    public async Task<IReadOnlyList<Run>> EndInterruptedAsync(IEnumerable<Run> interrupted, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(interrupted);
        var ended = new List<Run>();
        foreach (var run in interrupted)
        {
            var why = reason ?? $"process {run.Tags.GetValueOrDefault(LocalProcess.Tag) ?? "unknown"} ended before the run finished";
            try
            {
                await store.LogBatchAsync(run.Id, [], [], [new(InterruptedTag, why)], null, actor.Name, cancellationToken).ConfigureAwait(false);
                await UpdateAsync(run.Id, RunStatus.Failed, time.GetUtcNow(), null, cancellationToken).ConfigureAwait(false);
                ended.Add(run);
            }
            catch (CairnException e) when (e.Code is ErrorCode.Conflict or ErrorCode.NotFound)
            {
                // Another process ended or deleted it first.
            }
        }

        return ended;
    }

    /// <summary>
    /// The full id of the one run whose id starts with <paramref name="text"/> (at least 4 of its hex characters, as git
    /// takes commit prefixes); a full id is returned as it is. Ambiguous prefixes are refused, naming the runs they match.
    /// </summary>
    public async Task<string> ResolveIdAsync(string? text, CancellationToken cancellationToken)
    {
        if (text is not null && Ids.IsRunId(text))
        {
            return text;
        }

        if (text is null || text.Length is < 4 or > 32 || !text.All(char.IsAsciiHexDigitLower))
        {
            throw CairnException.Invalid($"'{text}' is not a run id, nor the start of one (at least 4 of its 32 lowercase hex characters).");
        }

        var found = await SearchEveryExperimentAsync($"attributes.run_id LIKE '{text}%'", 11, cancellationToken).ConfigureAwait(false);
        return found switch
        {
            [] => throw CairnException.NotFound($"No run id starts with '{text}'."),
            [var only] => only.Id,
            _ => throw CairnException.Invalid(
                $"'{text}' starts {(found.Count > 10 ? "more than 10" : found.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))} run ids " +
                $"({string.Join(", ", found.Take(10).Select(r => r.Id))}); give more of the id."),
        };
    }

    /// <summary>Runs matching a filter of Cairn's own making, in every experiment the caller may see, active or deleted.</summary>
    public async Task<IReadOnlyList<Run>> SearchEveryExperimentAsync(string filter, int limit, CancellationToken cancellationToken)
    {
        var visible = actor.VisibleTo(ResourceKind.Experiment);
        var experiments = await store.SearchExperimentsAsync(null, new SearchQuery(null, [], int.MaxValue, 0) { VisibleTo = visible }, cancellationToken)
            .ConfigureAwait(false);
        var query = SearchQuery.Parse(filter, [], FilterVocabulary.Runs, limit, 0);
        return await store.SearchRunsAsync(new RunQuery([.. experiments.Select(e => e.Id)], query.Filter, null, [], limit, 0) { VisibleTo = visible }, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>A run by id.</summary>
    public async Task<Run> GetAsync(string? runId, CancellationToken cancellationToken)
    {
        ValidateId(runId);
        var run = await store.GetRunAsync(runId!, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no run '{runId}'.");
        actor.Demand(ResourceRef.Experiment(run.ExperimentId), Role.Viewer, "read runs");
        return run;
    }

    /// <summary>
    /// Runs by id or id prefix, in the order asked, read in one query (the compare page names up to hundreds). A run the
    /// caller may not see is reported missing, as a search would leave it out.
    /// </summary>
    public async Task<IReadOnlyList<Run>> GetManyAsync(IReadOnlyList<string> idsOrPrefixes, CancellationToken cancellationToken)
    {
        var ids = new List<string>(idsOrPrefixes.Count);
        foreach (var text in idsOrPrefixes)
        {
            ids.Add(await ResolveIdAsync(text, cancellationToken).ConfigureAwait(false));
        }

        if (ids.Count == 0)
        {
            return [];
        }

        // Resolved ids are 32 lowercase hex characters, so they are safe inside the filter's quotes.
        var found = (await SearchEveryExperimentAsync($"attributes.run_id IN ({string.Join(", ", ids.Distinct(StringComparer.Ordinal).Select(id => $"'{id}'"))})",
            ids.Count, cancellationToken).ConfigureAwait(false)).ToDictionary(r => r.Id, StringComparer.Ordinal);
        return [.. ids.Select(id => found.GetValueOrDefault(id) ?? throw CairnException.NotFound($"There is no run '{id}'."))];
    }

    /// <summary>
    /// Throws unless the current principal holds <paramref name="role"/> on the run's experiment. A global role settles
    /// it without a read; otherwise one indexed lookup finds the experiment.
    /// </summary>
    public async Task DemandAsync(string runId, Role role, string action, CancellationToken cancellationToken)
    {
        if (actor.Principal.GlobalRole >= role)
        {
            return;
        }

        var experiment = await store.GetRunExperimentIdAsync(runId, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no run '{runId}'.");
        actor.Demand(ResourceRef.Experiment(experiment), role, action);
    }

    /// <summary>The newest active runs first.</summary>
    public Task<IReadOnlyList<Run>> ListAsync(int limit, CancellationToken cancellationToken) =>
        limit is > 0 and <= 10_000
            ? store.ListRunsAsync(limit, actor.VisibleTo(ResourceKind.Experiment), cancellationToken)
            : throw CairnException.Invalid($"The run limit must be between 1 and 10000, not {limit}.");

    /// <summary>The most runs one search page returns.</summary>
    public const int MaxPageSize = 50_000;

    /// <summary>One page of the runs in some experiments that match a filter, in the requested order.</summary>
    public async Task<(IReadOnlyList<Run> Runs, string? NextPageToken)> SearchAsync(IReadOnlyList<string> experimentIds, string? filter,
        LifecycleStage? lifecycle, IReadOnlyList<string> orderBy, int maxResults, string? pageToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(experimentIds);
        ArgumentNullException.ThrowIfNull(orderBy);
        if (experimentIds.Count == 0)
        {
            throw CairnException.Invalid("Name at least one experiment id to search.");
        }

        foreach (var id in experimentIds)
        {
            if (await store.GetExperimentAsync(id, cancellationToken).ConfigureAwait(false) is null)
            {
                throw CairnException.NotFound($"There is no experiment with id '{id}'.");
            }
        }

        // The experiments searched are named, so the permission filter is the list itself: only those the caller may
        // read stay in the query's IN list (the principal holds its grants), and the query is the same as unfiltered.
        if (actor.VisibleTo(ResourceKind.Experiment) is not null)
        {
            var readable = actor.Principal.IdsWith(ResourceKind.Experiment, Role.Viewer).ToHashSet(StringComparer.Ordinal);
            experimentIds = [.. experimentIds.Where(readable.Contains)];
        }

        return await Paging.SearchAsync(filter, orderBy, FilterVocabulary.Runs, maxResults, MaxPageSize, pageToken, q => experimentIds.Count == 0
            ? Task.FromResult<IReadOnlyList<Run>>([])
            : store.SearchRunsAsync(new RunQuery(experimentIds, q.Filter, lifecycle, q.OrderBy, q.Limit, q.Offset), cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Logs metrics, params and tags in one transaction, within MLflow's limits.</summary>
    public Task LogBatchAsync(string? runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken) =>
        LogBatchAsync(runId, metrics, parameters, tags, null, cancellationToken);

    /// <summary>Logs a batch once: a retry with the same <paramref name="batchId"/> is acknowledged without writing again.</summary>
    public async Task LogBatchAsync(string? runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags, string? batchId, CancellationToken cancellationToken)
    {
        ValidateId(runId);
        TrackingLimits.Validate(metrics, parameters, tags);
        if (batchId is { Length: 0 or > 64 })
        {
            throw CairnException.Invalid("batch_id must be 1 to 64 characters.");
        }

        await DemandAsync(runId!, Role.Editor, "log to runs", cancellationToken).ConfigureAwait(false);
        await store.LogBatchAsync(runId!, metrics, parameters, tags, batchId, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records datasets the run read, within MLflow's limits; a named Cairn dataset version must exist.</summary>
    public async Task LogInputsAsync(string? runId, IReadOnlyList<RunInput> inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ValidateId(runId);
        if (inputs.Count > TrackingLimits.MaxEntitiesPerBatch)
        {
            throw CairnException.Invalid($"{inputs.Count} dataset inputs in one request; the limit is {TrackingLimits.MaxEntitiesPerBatch}.");
        }

        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            Limit($"datasets[{i}].name", input.Dataset, 500, required: true);
            Limit($"datasets[{i}].digest", input.Digest, 64, required: input.Version is null);
            Limit($"datasets[{i}].source_type", input.SourceType, 36, required: true);
            Limit($"datasets[{i}].source", input.Source, 65_535, required: input.Version is null);
            Limit($"datasets[{i}].schema", input.Schema, 1_048_575, required: false);
            Limit($"datasets[{i}].profile", input.Profile, 16_384, required: false);
            Limit($"datasets[{i}] context", input.Context, TrackingLimits.MaxTagValueLength, required: false);
            if (input.Version is { } version && await datasets.GetDatasetVersionAsync(input.Dataset, version, cancellationToken).ConfigureAwait(false) is null)
            {
                throw CairnException.NotFound($"datasets[{i}] names {input.Dataset}@{version}, which does not exist.");
            }
        }

        await DemandAsync(runId!, Role.Editor, "log to runs", cancellationToken).ConfigureAwait(false);
        await store.LogInputsAsync(runId!, inputs, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    private static void Limit(string field, string? value, int maxLength, bool required)
    {
        if (required && string.IsNullOrEmpty(value))
        {
            throw CairnException.Invalid($"{field} is missing.");
        }

        if (value is { Length: var length } && length > maxLength)
        {
            throw CairnException.Invalid($"{field} has {length} characters; the limit is {maxLength}.");
        }
    }

    /// <summary>Removes a tag.</summary>
    public async Task DeleteTagAsync(string? runId, string? key, CancellationToken cancellationToken)
    {
        ValidateId(runId);
        TrackingLimits.ValidateKey(key, "tag");
        await DemandAsync(runId!, Role.Editor, "tag runs", cancellationToken).ConfigureAwait(false);
        await store.DeleteRunTagAsync(runId!, key!, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Changes status, end time or name; a terminal status without an end time ends the run now.</summary>
    public async Task<Run> UpdateAsync(string? runId, RunStatus? status, DateTimeOffset? endedAt, string? name, CancellationToken cancellationToken)
    {
        ValidateId(runId);
        if (endedAt is null && status is RunStatus.Finished or RunStatus.Failed or RunStatus.Killed)
        {
            endedAt = time.GetUtcNow();
        }

        await DemandAsync(runId!, Role.Editor, "update runs", cancellationToken).ConfigureAwait(false);

        await store.UpdateRunAsync(runId!, status, endedAt, string.IsNullOrEmpty(name) ? null : name, actor.Name, cancellationToken).ConfigureAwait(false);
        return await GetAsync(runId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a run (restorable).</summary>
    public async Task DeleteAsync(string? runId, CancellationToken cancellationToken)
    {
        ValidateId(runId);
        await DemandAsync(runId!, Role.Editor, "delete runs", cancellationToken).ConfigureAwait(false);
        await store.SetRunLifecycleAsync(runId!, LifecycleStage.Deleted, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Restores a deleted run.</summary>
    public async Task RestoreAsync(string? runId, CancellationToken cancellationToken)
    {
        ValidateId(runId);
        await DemandAsync(runId!, Role.Editor, "restore runs", cancellationToken).ConfigureAwait(false);
        await store.SetRunLifecycleAsync(runId!, LifecycleStage.Active, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every value logged for one metric of a run.</summary>
    public async Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string? runId, string? key, CancellationToken cancellationToken)
    {
        TrackingLimits.ValidateKey(key, "metric");
        await GetAsync(runId, cancellationToken).ConfigureAwait(false);
        return await store.GetMetricHistoryAsync(runId!, key!, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The most buckets a summarized history may ask for.</summary>
    public const int MaxBuckets = 100_000;

    /// <summary>One metric's history kept to at most <paramref name="maxPoints"/> buckets (min, max and last of each), for charts of long series.</summary>
    public Task<IReadOnlyList<MetricBucket>> GetMetricSummaryAsync(string? runId, string? key, int maxPoints, CancellationToken cancellationToken) =>
        GetMetricSummaryAsync(runId, key, maxPoints, null, null, cancellationToken);

    /// <summary>The steps from <paramref name="fromStep"/> to <paramref name="toStep"/> of one metric's history in at most <paramref name="maxPoints"/> buckets: a chart's zoomed window.</summary>
    public async Task<IReadOnlyList<MetricBucket>> GetMetricSummaryAsync(string? runId, string? key, int maxPoints, long? fromStep, long? toStep,
        CancellationToken cancellationToken)
    {
        if (fromStep > toStep)
        {
            throw CairnException.Invalid($"from_step ({fromStep}) is after to_step ({toStep}).");
        }

        TrackingLimits.ValidateKey(key, "metric");
        if (maxPoints is < 1 or > MaxBuckets)
        {
            throw CairnException.Invalid($"max_points must be between 1 and {MaxBuckets}, not {maxPoints}.");
        }

        await GetAsync(runId, cancellationToken).ConfigureAwait(false);
        return await store.GetMetricBucketsAsync(runId!, key!, maxPoints, fromStep, toStep, cancellationToken).ConfigureAwait(false);
    }

    private static void ValidateId(string? runId)
    {
        if (string.IsNullOrEmpty(runId) || !Ids.IsRunId(runId))
        {
            throw CairnException.Invalid($"'{runId}' is not a run id (32 lowercase hex characters).");
        }
    }

    // MLflow clients name runs through the mlflow.runName tag.
    private static string DefaultName(IReadOnlyList<KeyValuePair<string, string>> tags) =>
        tags.LastOrDefault(t => t.Key == "mlflow.runName").Value is { Length: > 0 } tagged ? tagged : "run";
}
