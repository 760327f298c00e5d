namespace Cairn.Core.Jobs;

/// <summary>What a job does: the same work as <c>cairn train</c>, <c>cairn sweep</c> or <c>cairn pipelines run</c>.</summary>
public enum JobKind
{
    /// <summary>Trains one model from a training spec.</summary>
    Train,

    /// <summary>Searches hyperparameters from a sweep spec.</summary>
    Sweep,

    /// <summary>Runs a pipeline.</summary>
    Pipeline,

    /// <summary>Evaluates a model on a dataset version (parameters <c>model</c>, <c>dataset</c>, <c>slices</c>).</summary>
    Evaluate,

    /// <summary>Trains a run again from its record and compares the two (parameter <c>run</c>).</summary>
    Reproduce,

    /// <summary>
    /// Scores a file (the job's one file) or a dataset version (parameter <c>dataset</c>) with a model (parameter
    /// <c>model</c>) into an output file (parameter <c>output</c>) the submitter downloads.
    /// </summary>
    Predict,

    /// <summary>Runs a monitored deployment's policy now (parameter <c>deployment</c>): retrain, gate, canary.</summary>
    Policy,
}

/// <summary>Where a job stands.</summary>
public enum JobStatus
{
    /// <summary>Waiting for a worker.</summary>
    Queued,

    /// <summary>A worker is running it.</summary>
    Running,

    /// <summary>It finished and its work succeeded.</summary>
    Succeeded,

    /// <summary>It finished and its work failed (a step or the training raised an error).</summary>
    Failed,

    /// <summary>Someone cancelled it.</summary>
    Cancelled,
}

/// <summary>A file a job was given, as the submitter's machine had it, stored as a blob.</summary>
/// <param name="Path">Its path relative to the spec's folder, with '/' separators.</param>
/// <param name="ContentHash">The blob holding its bytes.</param>
/// <param name="SizeBytes">Its size.</param>
public sealed record JobFile(string Path, ContentHash ContentHash, long SizeBytes);

/// <summary>One line of a job's log.</summary>
/// <param name="Sequence">Its position in the log, from 1.</param>
/// <param name="At">When it was written.</param>
/// <param name="Text">The line.</param>
public sealed record JobLogLine(long Sequence, DateTimeOffset At, string Text);

/// <summary>
/// Work submitted to a server and run by one of its workers (<c>cairn pipelines worker</c>) with the submitter's rights:
/// the spec and the local files it names travel with it, so the worker needs nothing from the submitter's machine.
/// </summary>
public sealed record Job
{
    /// <summary>Its id.</summary>
    public required string Id { get; init; }

    /// <summary>What it does.</summary>
    public required JobKind Kind { get; init; }

    /// <summary>The spec's path among <see cref="Files"/>; empty for the kinds that take only parameters.</summary>
    public required string Spec { get; init; }

    /// <summary>A pipeline's parameters (<c>--param NAME=VALUE</c>), or the arguments of the kinds that take no spec.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The spec and the files it reads.</summary>
    public IReadOnlyList<JobFile> Files { get; init; } = [];

    /// <summary>The schedule that started it, for a pipeline sent to run on a schedule.</summary>
    public string? Schedule { get; init; }

    /// <summary>The files it wrote for its submitter to download (a prediction's output).</summary>
    public IReadOnlyList<JobFile> Outputs { get; init; } = [];

    /// <summary>Where it stands.</summary>
    public JobStatus Status { get; init; } = JobStatus.Queued;

    /// <summary>Who submitted it: an account's name, or the process's for a server without authentication.</summary>
    public required string SubmittedBy { get; init; }

    /// <summary>Whether <see cref="SubmittedBy"/> is an account whose rights the job runs with (else it runs as the worker).</summary>
    public bool AsAccount { get; init; }

    /// <summary>The token it was submitted with: its name (for the audit log) and the role its scope caps the job at.</summary>
    public string? Token { get; init; }

    /// <summary>The highest role the job may use, from its token's scope.</summary>
    public Identity.Role Cap { get; init; } = Identity.Role.Admin;

    /// <summary>When it was submitted.</summary>
    public required DateTimeOffset SubmittedAt { get; init; }

    /// <summary>When a worker last started it.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it finished.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The worker running it, or that ran it last.</summary>
    public string? Worker { get; init; }

    /// <summary>How many times a worker started it: more than one when a worker died running it and another took it over.</summary>
    public int Attempts { get; init; }

    /// <summary>The run it made: the training run, the sweep's parent run or the pipeline run.</summary>
    public string? RunId { get; init; }

    /// <summary>What it came to, in one line.</summary>
    public string? Result { get; init; }

    /// <summary>Why it failed.</summary>
    public string? Error { get; init; }

    /// <summary>Whether someone asked to cancel it while it ran; the worker stops it within about a second.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>Raised by every change; an update names the revision it read, so two writers cannot both win.</summary>
    public int Revision { get; init; }

    /// <summary>Whether the kind's work comes as a spec with files (train, sweep, pipeline) rather than parameters alone.</summary>
    public static bool TakesSpec(JobKind kind) => kind is JobKind.Train or JobKind.Sweep or JobKind.Pipeline;

    /// <summary>Whether the kind comes with files: a spec's kinds, and a prediction of a file (its input).</summary>
    public static bool TakesFiles(JobKind kind) => TakesSpec(kind) || kind == JobKind.Predict;

    /// <summary>Whether it is over.</summary>
    public bool IsFinished => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}
