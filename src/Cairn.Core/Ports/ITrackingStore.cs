using Cairn.Core.Identity;
using Cairn.Core.Runs;
using Cairn.Core.Search;

namespace Cairn.Core.Ports;

/// <summary>Experiments and runs: params, metrics, tags, inputs and artifacts. Each write is one transaction that records its audit event.</summary>
public interface ITrackingStore
{
    /// <summary>Creates an experiment; a taken name is <see cref="ErrorCode.AlreadyExists"/>.</summary>
    Task<Experiment> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyDictionary<string, string> tags, string actor, CancellationToken cancellationToken);


    /// <summary>An experiment by id.</summary>
    Task<Experiment?> GetExperimentAsync(string id, CancellationToken cancellationToken);


    /// <summary>An experiment by name.</summary>
    Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken);


    /// <summary>One page of the experiments in a lifecycle stage (null: all) that a query matches, in its order, then by id.</summary>
    Task<IReadOnlyList<Experiment>> SearchExperimentsAsync(LifecycleStage? lifecycle, SearchQuery query, CancellationToken cancellationToken);


    /// <summary>Renames an experiment.</summary>
    Task RenameExperimentAsync(string id, string newName, string actor, CancellationToken cancellationToken);


    /// <summary>Deletes or restores an experiment, and its runs with it.</summary>
    Task SetExperimentLifecycleAsync(string id, LifecycleStage lifecycle, string actor, CancellationToken cancellationToken);


    /// <summary>Sets (value) or removes (null) an experiment tag.</summary>
    Task SetExperimentTagAsync(string id, string key, string? value, string actor, CancellationToken cancellationToken);


    /// <summary>
    /// Appends metrics, sets params (write-once: the same value again is accepted, a different one is an error) and
    /// sets tags on an active run, all in one transaction. A batch with a <paramref name="batchId"/> already applied to
    /// the run is acknowledged without being applied again, so a client may retry safely.
    /// </summary>
    Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags, string? batchId, string actor, CancellationToken cancellationToken);


    /// <summary>Removes a run tag.</summary>
    Task DeleteRunTagAsync(string runId, string key, string actor, CancellationToken cancellationToken);


    /// <summary>Changes a run's status, end time or name; null leaves a field as it is.</summary>
    Task UpdateRunAsync(string runId, RunStatus? status, DateTimeOffset? endedAt, string? name, string actor, CancellationToken cancellationToken);


    /// <summary>Deletes or restores a run.</summary>
    Task SetRunLifecycleAsync(string runId, LifecycleStage lifecycle, string actor, CancellationToken cancellationToken);


    /// <summary>One page of the runs a query matches, in its order, with params, tags and each metric's latest value.</summary>
    Task<IReadOnlyList<Run>> SearchRunsAsync(RunQuery query, CancellationToken cancellationToken);


    /// <summary>
    /// One metric's series — all of it, or the steps from <paramref name="fromStep"/> to <paramref name="toStep"/> (a chart's
    /// zoomed window) — cut into at most <paramref name="buckets"/> equal step ranges, each summarized; empty ranges are left out.
    /// </summary>
    Task<IReadOnlyList<MetricBucket>> GetMetricBucketsAsync(string runId, string key, int buckets, long? fromStep, long? toStep, CancellationToken cancellationToken);


    /// <summary>Every value of one metric of a run, by step and time.</summary>
    Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string key, CancellationToken cancellationToken);


    /// <summary>
    /// Records datasets a run read; an input already recorded (same name, digest and context) is kept as it is. An
    /// input without a version is linked to the Cairn dataset version its digest identifies, when there is one.
    /// </summary>
    Task LogInputsAsync(string runId, IReadOnlyList<RunInput> inputs, string actor, CancellationToken cancellationToken);


    /// <summary>Records a file stored for a run at a path, replacing what was there; the run must not be deleted.</summary>
    Task SetRunArtifactAsync(string runId, RunArtifact artifact, string actor, CancellationToken cancellationToken);


    /// <summary>Removes a run's file at a path, or every file under it when it is a directory; returns how many were removed.</summary>
    Task<int> DeleteRunArtifactsAsync(string runId, string path, string actor, CancellationToken cancellationToken);


    /// <summary>Records a run that has just started.</summary>
    Task CreateRunAsync(Run run, string actor, CancellationToken cancellationToken);


    /// <summary>Ends a running run successfully, recording everything it logged at once.</summary>
    Task FinishRunAsync(string runId, RunCompletion completion, DateTimeOffset endedAt, string actor, CancellationToken cancellationToken);


    /// <summary>Ends a running run as failed, with the reason.</summary>
    Task FailRunAsync(string runId, string error, DateTimeOffset endedAt, string actor, CancellationToken cancellationToken);


    /// <summary>The experiment a run belongs to, or null when there is no such run (one indexed read, for permission checks).</summary>
    Task<string?> GetRunExperimentIdAsync(string runId, CancellationToken cancellationToken);

    /// <summary>A run with everything it logged.</summary>
    Task<Run?> GetRunAsync(string runId, CancellationToken cancellationToken);


    /// <summary>The newest runs first, with their params and metrics.</summary>
    Task<IReadOnlyList<Run>> ListRunsAsync(int limit, Visibility? visibleTo, CancellationToken cancellationToken);

}
