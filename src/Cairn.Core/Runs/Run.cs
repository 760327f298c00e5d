namespace Cairn.Core.Runs;

/// <summary>Where a run is in its life.</summary>
public enum RunStatus
{
    /// <summary>Started and not yet ended.</summary>
    Running,

    /// <summary>Ended successfully.</summary>
    Finished,

    /// <summary>Ended with an error.</summary>
    Failed,

    /// <summary>Queued, not started yet.</summary>
    Scheduled,

    /// <summary>Stopped from outside before it ended.</summary>
    Killed,
}

/// <summary>Whether an experiment or run is in use or in the bin (restorable until purged).</summary>
public enum LifecycleStage
{
    /// <summary>In use.</summary>
    Active,

    /// <summary>Deleted; hidden from listings, restorable.</summary>
    Deleted,
}

/// <summary>One measurement of a run.</summary>
public sealed record Metric(string Key, double Value, long Step, DateTimeOffset Timestamp);

/// <summary>A run of consecutive points of one metric, summarized for a chart: steps covered, extremes, the last value and the count.</summary>
public sealed record MetricBucket(long FirstStep, long LastStep, double Min, double Max, double Last, long Count);

/// <summary>A file a run produced, stored by content.</summary>
public sealed record RunArtifact(string Path, ContentHash ContentHash, long SizeBytes);

/// <summary>
/// A dataset a run read, and what for (training, validation...). A Cairn dataset version is named by dataset and
/// version; MLflow clients log datasets from any source by name and digest, and such an input is linked to a
/// Cairn dataset version when its digest is a prefix (8 characters or more) of that version's content hash.
/// </summary>
/// <param name="Dataset">The dataset's name.</param>
/// <param name="Version">The Cairn dataset version, when the input is one.</param>
/// <param name="Context">What the run used it for, such as training; empty when not said.</param>
public sealed record RunInput(string Dataset, int? Version, string Context)
{
    /// <summary>The source type Cairn's own dataset versions have.</summary>
    public const string CairnSourceType = "cairn";

    /// <summary>A short fingerprint of the content (for Cairn versions, the SHA-256 hex).</summary>
    public string Digest { get; init; } = "";

    /// <summary>What kind of place the data came from, such as cairn, local, s3 or delta_table.</summary>
    public string SourceType { get; init; } = CairnSourceType;

    /// <summary>Where the data came from, as its source type describes it (JSON for MLflow sources).</summary>
    public string Source { get; init; } = "";

    /// <summary>The dataset's schema as its client described it, when given.</summary>
    public string? Schema { get; init; }

    /// <summary>Summary statistics as its client described them, when given.</summary>
    public string? Profile { get; init; }

    /// <summary>An input of a Cairn dataset version; the store fills in its digest from the version's content hash.</summary>
    public static RunInput OfDatasetVersion(string dataset, int version, string context) =>
        new(dataset, version, context) { Source = $"cairn:datasets/{dataset}@{version}" };

    /// <summary>The reference people type: <c>name@version</c> for Cairn versions, otherwise <c>name (digest)</c>.</summary>
    public string Reference => Version is { } v ? $"{Dataset}@{v}" : $"{Dataset} ({Digest})";
}

/// <summary>
/// A run: one execution that records params, metrics, tags, inputs and artifacts. <see cref="Metrics"/> holds the
/// latest value of each metric (highest step, then newest); the whole series is the metric's history.
/// </summary>
public sealed record Run(
    string Id,
    string Name,
    RunStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyList<Metric> Metrics,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<RunInput> Inputs,
    IReadOnlyList<RunArtifact> Artifacts,
    string? Error)
{
    /// <summary>The experiment the run belongs to; "0" is the default experiment.</summary>
    public string ExperimentId { get; init; } = Experiment.DefaultId;

    /// <summary>Whether the run is active or deleted.</summary>
    public LifecycleStage Lifecycle { get; init; } = LifecycleStage.Active;

    /// <summary>Who started the run.</summary>
    public string? User { get; init; }

    /// <summary>The run this one is nested under (a sweep's trial under the sweep, say); null for a top-level run.</summary>
    public string? ParentRunId { get; init; }

    /// <summary>The tag MLflow clients use to nest runs; Cairn keeps it equal to <see cref="ParentRunId"/>.</summary>
    public const string ParentRunTag = "mlflow.parentRunId";

    /// <summary>A new running run with nothing logged yet.</summary>
    public static Run Start(string id, string name, DateTimeOffset startedAt) =>
        new(id, name, RunStatus.Running, startedAt, null, new Dictionary<string, string>(), [], new Dictionary<string, string>(), [], [], null);

    /// <summary>The artifact at <paramref name="path"/>, if the run has one.</summary>
    public RunArtifact? Artifact(string path) => Artifacts.FirstOrDefault(a => a.Path == path);
}

/// <summary>What finishing a run records, all at once.</summary>
public sealed record RunCompletion(
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyList<Metric> Metrics,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<RunInput> Inputs,
    IReadOnlyList<RunArtifact> Artifacts);
