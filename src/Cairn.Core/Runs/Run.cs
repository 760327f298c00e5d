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

/// <summary>A dataset version a run read, and what for (training, validation...).</summary>
public sealed record RunInput(string Dataset, int Version, string Context);

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
