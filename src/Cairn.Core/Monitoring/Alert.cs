using System.Globalization;

namespace Cairn.Core.Monitoring;

/// <summary>Where an alert's notification stands.</summary>
public enum AlertStatus
{
    /// <summary>Waiting to be sent (again, after a failed attempt).</summary>
    Pending,

    /// <summary>Every webhook took it.</summary>
    Delivered,

    /// <summary>Gave up after the last attempt; the alert stays in the history.</summary>
    Failed,

    /// <summary>The monitor has no webhooks: the server's log and the history are its only record.</summary>
    Logged,
}

/// <summary>An alert rule that fired on a window, with its notification state.</summary>
/// <param name="Id">The store's number for it.</param>
/// <param name="Deployment">The deployment.</param>
/// <param name="Rule">The rule's name.</param>
/// <param name="Metric">The metric it watched.</param>
/// <param name="WindowStart">The window it fired on; a rule fires at most once per window.</param>
/// <param name="FiredAt">When it fired.</param>
/// <param name="Value">The metric's value.</param>
/// <param name="Threshold">The rule's threshold.</param>
/// <param name="Message">A sentence saying what happened.</param>
public sealed record Alert(long Id, string Deployment, string Rule, string Metric, DateTimeOffset WindowStart, DateTimeOffset FiredAt, double Value, double Threshold, string Message)
{
    /// <summary>Where its notification stands.</summary>
    public AlertStatus Status { get; init; }

    /// <summary>Delivery attempts made.</summary>
    public int Attempts { get; init; }

    /// <summary>When the next attempt is due, while pending.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>Why the last attempt failed.</summary>
    public string? LastError { get; init; }

    /// <summary>The rules that fire on a window's results (before cooldown, which the caller applies).</summary>
    public static IEnumerable<Alert> Check(MonitorSpec spec, WindowResult result, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(result);
        foreach (var rule in spec.Alerts)
        {
            if (result.Metrics.TryGetValue(rule.Metric, out var value) && double.IsFinite(value) && rule.Fires(value))
            {
                var message = string.Create(CultureInfo.InvariantCulture,
                    $"{result.Deployment}: {rule.Metric} is {value:G4}, {(rule.Direction == AlertDirection.Above ? "above" : "below")} {rule.Threshold:G4} in the window from {result.Start:u} ({result.Rows} predictions)");
                yield return new Alert(0, result.Deployment, rule.Name, rule.Metric, result.Start, now, value, rule.Threshold, message)
                {
                    Status = spec.Webhooks.Count == 0 ? AlertStatus.Logged : AlertStatus.Pending,
                    NextAttemptAt = spec.Webhooks.Count == 0 ? null : now,
                };
            }
        }
    }
}
