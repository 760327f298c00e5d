using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Runs;

namespace Cairn.Core.Ports;

/// <summary>A dataset version about to be recorded; the store assigns its number.</summary>
public sealed record NewDatasetVersion(string Name, ContentHash ContentHash, long SizeBytes, long RowCount, string Source, TableSchema Schema);

/// <summary>A model version about to be registered; the store assigns its number.</summary>
public sealed record NewModelVersion(string Model, string RunId, ContentHash OnnxArtifact, ContentHash MlNetArtifact, ModelSignature Signature);

/// <summary>One entry of the audit log.</summary>
public sealed record AuditEvent(long Id, DateTimeOffset At, string Actor, string Kind, string Subject, string Detail);

/// <summary>
/// Cairn's metadata: datasets, runs, models and the audit log. Each write is one transaction and records its
/// audit event in it. Implemented on SQLite (embedded) and, later, PostgreSQL.
/// </summary>
public interface IMetadataStore
{
    /// <summary>Records a dataset version, or returns the existing one with the same content (then <c>Created</c> is false).</summary>
    Task<(DatasetVersion Version, bool Created)> AddDatasetVersionAsync(NewDatasetVersion version, string actor, CancellationToken cancellationToken);

    /// <summary>A dataset version; the latest when <paramref name="version"/> is null.</summary>
    Task<DatasetVersion?> GetDatasetVersionAsync(string name, int? version, CancellationToken cancellationToken);

    /// <summary>Every dataset, by name.</summary>
    Task<IReadOnlyList<DatasetSummary>> ListDatasetsAsync(CancellationToken cancellationToken);

    /// <summary>A dataset's versions, newest first.</summary>
    Task<IReadOnlyList<DatasetVersion>> ListDatasetVersionsAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates an experiment; a taken name is <see cref="ErrorCode.AlreadyExists"/>.</summary>
    Task<Experiment> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyDictionary<string, string> tags, string actor, CancellationToken cancellationToken);

    /// <summary>An experiment by id.</summary>
    Task<Experiment?> GetExperimentAsync(string id, CancellationToken cancellationToken);

    /// <summary>An experiment by name.</summary>
    Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken);

    /// <summary>Experiments by id, filtered by lifecycle (null: all), one page at a time.</summary>
    Task<IReadOnlyList<Experiment>> ListExperimentsAsync(LifecycleStage? lifecycle, int limit, int offset, CancellationToken cancellationToken);

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

    /// <summary>One metric's series cut into at most <paramref name="buckets"/> equal step ranges, each summarized; empty ranges are left out.</summary>
    Task<IReadOnlyList<MetricBucket>> GetMetricBucketsAsync(string runId, string key, int buckets, CancellationToken cancellationToken);

    /// <summary>Every value of one metric of a run, by step and time.</summary>
    Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string key, CancellationToken cancellationToken);

    /// <summary>Records a run that has just started.</summary>
    Task CreateRunAsync(Run run, string actor, CancellationToken cancellationToken);

    /// <summary>Ends a running run successfully, recording everything it logged at once.</summary>
    Task FinishRunAsync(string runId, RunCompletion completion, DateTimeOffset endedAt, string actor, CancellationToken cancellationToken);

    /// <summary>Ends a running run as failed, with the reason.</summary>
    Task FailRunAsync(string runId, string error, DateTimeOffset endedAt, string actor, CancellationToken cancellationToken);

    /// <summary>A run with everything it logged.</summary>
    Task<Run?> GetRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The newest runs first, with their params and metrics.</summary>
    Task<IReadOnlyList<Run>> ListRunsAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Registers a new version (creating the model on first use) and optionally points an alias at it.</summary>
    Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, string? alias, string actor, CancellationToken cancellationToken);

    /// <summary>Points an alias at an existing version.</summary>
    Task SetAliasAsync(string model, string alias, int version, string actor, CancellationToken cancellationToken);

    /// <summary>A registered model.</summary>
    Task<RegisteredModel?> GetModelAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every registered model, by name.</summary>
    Task<IReadOnlyList<RegisteredModel>> ListModelsAsync(CancellationToken cancellationToken);

    /// <summary>A model's versions, newest first.</summary>
    Task<IReadOnlyList<ModelVersion>> ListModelVersionsAsync(string model, CancellationToken cancellationToken);

    /// <summary>One model version.</summary>
    Task<ModelVersion?> GetModelVersionAsync(string model, int version, CancellationToken cancellationToken);

    /// <summary>The newest audit events first.</summary>
    Task<IReadOnlyList<AuditEvent>> ListEventsAsync(int limit, CancellationToken cancellationToken);
}
