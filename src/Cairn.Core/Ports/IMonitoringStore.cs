using Cairn.Core.Identity;
using Cairn.Core.Monitoring;

namespace Cairn.Core.Ports;

/// <summary>A prediction in the prediction log.</summary>
/// <param name="Id">The id the caller got (row i of a multi-row request: <c>ID/i</c>).</param>
/// <param name="Role"><c>model</c>, <c>canary</c> or <c>shadow</c> (a shadow's answer shares the id of the one returned).</param>
/// <param name="Deployment">The deployment.</param>
/// <param name="At">When it was answered.</param>
/// <param name="Model">The registered model.</param>
/// <param name="Version">Its version.</param>
/// <param name="Predicted">The predicted class, or the value in round-trip text.</param>
/// <param name="Score">The positive class's probability, the predicted class's, or the value.</param>
/// <param name="InputsJson">The row's inputs as a JSON object.</param>
public sealed record LoggedPrediction(string Id, string Role, string Deployment, DateTimeOffset At, string Model, int Version, string Predicted, double Score, string InputsJson)
{
    /// <summary>The true label, once feedback gave it.</summary>
    public string? Label { get; init; }
}

/// <summary>What trimming a prediction log removed and left.</summary>
/// <param name="Rows">Predictions deleted.</param>
/// <param name="Bytes">Stored bytes deleted.</param>
/// <param name="Segments">Segments deleted.</param>
/// <param name="BytesLeft">Stored bytes of the log left.</param>
public sealed record PredictionLogTrim(long Rows, long Bytes, int Segments, long BytesLeft);

/// <summary>A window's live profile as one server stored it.</summary>
/// <param name="Replica">The server that observed it.</param>
/// <param name="Start">The window's start.</param>
/// <param name="End">The window's end.</param>
/// <param name="Rows">Predictions in it.</param>
/// <param name="Content">The <see cref="LiveWindow"/>, compressed JSON.</param>
/// <param name="UpdatedAt">When it was last flushed.</param>
public sealed record StoredLiveWindow(string Replica, DateTimeOffset Start, DateTimeOffset End, long Rows, byte[] Content, DateTimeOffset UpdatedAt);

/// <summary>
/// Monitoring's storage: monitors, live window profiles, the prediction log with its labels, window results and
/// alerts. High-volume writes (profiles, predictions) arrive in batches from a background writer.
/// </summary>
public interface IMonitoringStore
{
    /// <summary>Creates (a taken deployment is <see cref="ErrorCode.AlreadyExists"/>) or replaces a deployment's monitor.</summary>
    Task<DeploymentMonitor> SaveMonitorAsync(string deployment, MonitorSpec spec, ContentHash baseline, bool create, string actor, CancellationToken cancellationToken);

    /// <summary>A deployment's monitor, or null.</summary>
    Task<DeploymentMonitor?> GetMonitorAsync(string deployment, CancellationToken cancellationToken);

    /// <summary>Every monitor, by deployment.</summary>
    Task<IReadOnlyList<DeploymentMonitor>> ListMonitorsAsync(Visibility? visibleTo, CancellationToken cancellationToken);

    /// <summary>Deletes a monitor with its results and alerts (profiles and the log stay, for the deployment).</summary>
    Task DeleteMonitorAsync(string deployment, string actor, CancellationToken cancellationToken);

    /// <summary>Stores live windows for a deployment, replacing what the same replica stored for the same windows.</summary>
    Task SaveLiveWindowsAsync(string deployment, IReadOnlyList<StoredLiveWindow> windows, CancellationToken cancellationToken);

    /// <summary>
    /// Every replica's live windows of a deployment that start in [<paramref name="from"/>, <paramref name="to"/>);
    /// without <paramref name="withContent"/>, their content is left empty (to see what changed cheaply).
    /// </summary>
    Task<IReadOnlyList<StoredLiveWindow>> ReadLiveWindowsAsync(string deployment, DateTimeOffset from, DateTimeOffset to, bool withContent,
        CancellationToken cancellationToken);

    /// <summary>
    /// Appends a batch of predictions to a deployment's log as one compressed segment, indexed by request id; a
    /// prediction id and role already logged is read back once.
    /// </summary>
    Task AppendPredictionsAsync(PredictionLogBatch batch, CancellationToken cancellationToken);

    /// <summary>The logged predictions (model or canary, not shadow) of a deployment with these ids, with labels where given.</summary>
    Task<IReadOnlyList<LoggedPrediction>> FindPredictionsAsync(string deployment, IReadOnlyList<string> ids, CancellationToken cancellationToken);

    /// <summary>A deployment's logged predictions answered in [<paramref name="from"/>, <paramref name="to"/>), oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<LoggedPrediction>> ListPredictionsAsync(string deployment, DateTimeOffset from, DateTimeOffset to, bool labeledOnly, int limit,
        CancellationToken cancellationToken);

    /// <summary>
    /// Records true labels in one transaction: every id must be logged for the deployment and not labeled yet, or
    /// nothing is recorded and the error names each offending id.
    /// </summary>
    Task AddLabelsAsync(string deployment, IReadOnlyList<(string Id, string Label)> labels, string actor, CancellationToken cancellationToken);

    /// <summary>
    /// For labels received after <paramref name="since"/>: per window of length <paramref name="window"/> their
    /// predictions fall in (by window start), when the newest of them arrived.
    /// </summary>
    Task<IReadOnlyDictionary<DateTimeOffset, DateTimeOffset>> LabelArrivalsAsync(string deployment, TimeSpan window, DateTimeOffset since,
        CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the oldest segments of a deployment's prediction log (with their labels) whose every prediction was
    /// answered before <paramref name="before"/>, and further oldest ones while the log is over <paramref name="maxBytes"/>.
    /// </summary>
    Task<PredictionLogTrim> TrimPredictionLogAsync(string deployment, DateTimeOffset before, long maxBytes, CancellationToken cancellationToken);

    /// <summary>Stores a window's results, replacing earlier results for the same window.</summary>
    Task SaveWindowResultAsync(WindowResult result, CancellationToken cancellationToken);

    /// <summary>A deployment's window results in [<paramref name="from"/>, <paramref name="to"/>), oldest first.</summary>
    Task<IReadOnlyList<WindowResult>> ListWindowResultsAsync(string deployment, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Records an alert unless its rule already fired on that window; returns it with its id, or null for a duplicate.</summary>
    Task<Alert?> AddAlertAsync(Alert alert, CancellationToken cancellationToken);

    /// <summary>The newest alerts first, of one deployment or all.</summary>
    Task<IReadOnlyList<Alert>> ListAlertsAsync(string? deployment, int limit, Visibility? visibleTo, CancellationToken cancellationToken);

    /// <summary>Pending alerts whose next attempt is due.</summary>
    Task<IReadOnlyList<Alert>> DueAlertsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Records the outcome of a delivery attempt.</summary>
    Task UpdateAlertAsync(long id, AlertStatus status, int attempts, DateTimeOffset? nextAttemptAt, string? lastError, CancellationToken cancellationToken);

    /// <summary>Records a new policy run; a deployment with a run still going is <see cref="ErrorCode.Conflict"/>.</summary>
    Task AddPolicyRunAsync(PolicyRun run, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a policy run's next state if it is still at <paramref name="expectedRevision"/> (its revision then
    /// being one more); false when another server moved it on first.
    /// </summary>
    Task<bool> UpdatePolicyRunAsync(PolicyRun run, int expectedRevision, CancellationToken cancellationToken);

    /// <summary>A policy run, or null.</summary>
    Task<PolicyRun?> GetPolicyRunAsync(string id, CancellationToken cancellationToken);

    /// <summary>Policy runs, newest first, of one deployment or all; only those still going with <paramref name="activeOnly"/>.</summary>
    Task<IReadOnlyList<PolicyRun>> ListPolicyRunsAsync(string? deployment, bool activeOnly, int limit, Visibility? visibleTo, CancellationToken cancellationToken);
}
