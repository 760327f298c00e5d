namespace Cairn.Core.Ports;

/// <summary>One entry of the audit log.</summary>
public sealed record AuditEvent(long Id, DateTimeOffset At, string Actor, string Kind, string Subject, string Detail);

/// <summary>
/// Which audit events to read, newest first: those of one user or service account (through any of its tokens), whose kind
/// starts with a prefix ("model." or "model.alias_set"), at or after <see cref="Since"/> and before <see cref="Until"/>.
/// </summary>
public sealed record AuditQuery(int Limit, string? User = null, string? Kind = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null)
{
    /// <summary>
    /// Reads a bound of the time range as given by a person: an ISO 8601 date or timestamp (UTC unless it says otherwise).
    /// A bare date as the upper bound takes in that whole day, so "since 2026-12-01 until 2026-12-01" is one day.
    /// </summary>
    public static DateTimeOffset? ParseTime(string? text, string name, bool upper = false)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var trimmed = text.Trim();
        return !Data.SchemaInference.TryParseDateTime(trimmed, out var time)
            ? throw CairnException.Invalid($"'{trimmed}' is not a date or time ({name} takes YYYY-MM-DD or an ISO 8601 timestamp).")
            : upper && trimmed.Length == "yyyy-MM-dd".Length ? time.AddDays(1) : time;
    }
}

/// <summary>The audit log that every write appends to. Each write is one transaction that records its audit event.</summary>
public interface IAuditStore
{
    /// <summary>The newest audit events first that match the query.</summary>
    Task<IReadOnlyList<AuditEvent>> ListEventsAsync(AuditQuery query, CancellationToken cancellationToken);
}
