using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Runs;
using Cairn.Core.Search;

namespace Cairn.Core.Ports;

/// <summary>A dataset version about to be recorded; the store assigns its number and its parent (the latest version before it).</summary>
public sealed record NewDatasetVersion(string Name, ContentHash ContentHash, long SizeBytes, long RowCount, string Source, TableSchema Schema)
{
    /// <summary>What changed.</summary>
    public string? Message { get; init; }

    /// <summary>Its first tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>One file or a folder.</summary>
    public DatasetFormat Format { get; init; }
}

/// <summary>A model version about to be registered; the store assigns its number.</summary>
/// <param name="Model">The registered model it joins.</param>
/// <param name="Source">Where its artifacts are, such as <c>runs:/RUN_ID/model</c>.</param>
/// <param name="RunId">The run that produced it, when known.</param>
/// <param name="Package">What Cairn serves, when the source holds a model Cairn can serve.</param>
public sealed record NewModelVersion(string Model, string Source, string? RunId, ModelPackage? Package)
{
    /// <summary>Free text about the version.</summary>
    public string? Description { get; init; }

    /// <summary>A link to the run, possibly on another server.</summary>
    public string? RunLink { get; init; }

    /// <summary>Its first tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}

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

    /// <summary>The version of a dataset with the given content, if it has one.</summary>
    Task<DatasetVersion?> FindDatasetVersionAsync(string name, ContentHash contentHash, CancellationToken cancellationToken);

    /// <summary>A dataset version; the latest when <paramref name="version"/> is null.</summary>
    Task<DatasetVersion?> GetDatasetVersionAsync(string name, int? version, CancellationToken cancellationToken);

    /// <summary>Every dataset, by name.</summary>
    Task<IReadOnlyList<DatasetSummary>> ListDatasetsAsync(CancellationToken cancellationToken);

    /// <summary>A dataset's versions, newest first.</summary>
    Task<IReadOnlyList<DatasetVersion>> ListDatasetVersionsAsync(string name, CancellationToken cancellationToken);

    /// <summary>Records the artifact holding a version's profile.</summary>
    Task SetDatasetProfileAsync(string name, int version, ContentHash profile, string actor, CancellationToken cancellationToken);

    /// <summary>Records the result of validating a version against a contract; returns it as stored (with its time and author).</summary>
    Task<ValidationReport> AddDatasetValidationAsync(ValidationReport report, string actor, CancellationToken cancellationToken);

    /// <summary>A version's validations, newest first.</summary>
    Task<IReadOnlyList<ValidationReport>> ListDatasetValidationsAsync(string name, int version, CancellationToken cancellationToken);

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

    /// <summary>One metric's series cut into at most <paramref name="buckets"/> equal step ranges, each summarized; empty ranges are left out.</summary>
    Task<IReadOnlyList<MetricBucket>> GetMetricBucketsAsync(string runId, string key, int buckets, CancellationToken cancellationToken);

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

    /// <summary>A run with everything it logged.</summary>
    Task<Run?> GetRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The newest runs first, with their params and metrics.</summary>
    Task<IReadOnlyList<Run>> ListRunsAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Creates a registered model with no versions; a taken name is <see cref="ErrorCode.AlreadyExists"/>.</summary>
    Task<RegisteredModel> CreateModelAsync(string name, string? description, IReadOnlyDictionary<string, string> tags, string actor,
        CancellationToken cancellationToken);

    /// <summary>
    /// Registers the next version of a model and optionally points an alias at it. The model is created on first use
    /// when <paramref name="createModel"/> is set; otherwise a missing model is <see cref="ErrorCode.NotFound"/>.
    /// </summary>
    Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, bool createModel, string? alias, string actor, CancellationToken cancellationToken);

    /// <summary>Replaces a model's description.</summary>
    Task UpdateModelAsync(string name, string? description, string actor, CancellationToken cancellationToken);

    /// <summary>Renames a model, carrying its versions, aliases and tags; a taken name is <see cref="ErrorCode.AlreadyExists"/>.</summary>
    Task RenameModelAsync(string name, string newName, string actor, CancellationToken cancellationToken);

    /// <summary>Deletes a model with all its versions, aliases and tags.</summary>
    Task DeleteModelAsync(string name, string actor, CancellationToken cancellationToken);

    /// <summary>Replaces a version's description.</summary>
    Task UpdateModelVersionAsync(string name, int version, string? description, string actor, CancellationToken cancellationToken);

    /// <summary>Moves a version to an MLflow stage, optionally archiving the other versions in that stage.</summary>
    Task<ModelVersion> TransitionModelVersionStageAsync(string name, int version, ModelStage stage, bool archiveExisting, string actor,
        CancellationToken cancellationToken);

    /// <summary>Deletes one version and the aliases and tags on it; its number is not reused.</summary>
    Task DeleteModelVersionAsync(string name, int version, string actor, CancellationToken cancellationToken);

    /// <summary>Sets (value) or removes (null) a tag on a model, or on one of its versions when <paramref name="version"/> is given.</summary>
    Task SetModelTagAsync(string name, int? version, string key, string? value, string actor, CancellationToken cancellationToken);

    /// <summary>Points an alias at an existing version, or removes it when <paramref name="version"/> is null.</summary>
    Task SetAliasAsync(string model, string alias, int? version, string actor, CancellationToken cancellationToken);

    /// <summary>A registered model with its aliases, tags and latest version per stage.</summary>
    Task<RegisteredModel?> GetModelAsync(string name, CancellationToken cancellationToken);

    /// <summary>One page of the registered models a query matches, in its order, then by name.</summary>
    Task<IReadOnlyList<RegisteredModel>> SearchModelsAsync(SearchQuery query, CancellationToken cancellationToken);

    /// <summary>One page of the model versions a query matches, in its order, then by name and newest version first.</summary>
    Task<IReadOnlyList<ModelVersion>> SearchModelVersionsAsync(SearchQuery query, CancellationToken cancellationToken);

    /// <summary>A model's versions, newest first.</summary>
    Task<IReadOnlyList<ModelVersion>> ListModelVersionsAsync(string model, CancellationToken cancellationToken);

    /// <summary>One model version.</summary>
    Task<ModelVersion?> GetModelVersionAsync(string model, int version, CancellationToken cancellationToken);

    /// <summary>
    /// Creates a deployment (<paramref name="create"/>; a taken name is <see cref="ErrorCode.AlreadyExists"/>) or
    /// replaces an existing one's spec and raises its revision (a missing one is <see cref="ErrorCode.NotFound"/>).
    /// </summary>
    Task<Deployment> SaveDeploymentAsync(string name, DeploymentSpec spec, bool create, string actor, CancellationToken cancellationToken);

    /// <summary>A deployment by name.</summary>
    Task<Deployment?> GetDeploymentAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every deployment, by name.</summary>
    Task<IReadOnlyList<Deployment>> ListDeploymentsAsync(CancellationToken cancellationToken);

    /// <summary>Deletes a deployment; a missing one is <see cref="ErrorCode.NotFound"/>.</summary>
    Task DeleteDeploymentAsync(string name, string actor, CancellationToken cancellationToken);

    /// <summary>The newest audit events first.</summary>
    Task<IReadOnlyList<AuditEvent>> ListEventsAsync(int limit, CancellationToken cancellationToken);
}
