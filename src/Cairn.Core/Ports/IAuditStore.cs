namespace Cairn.Core.Ports;

/// <summary>One entry of the audit log.</summary>
public sealed record AuditEvent(long Id, DateTimeOffset At, string Actor, string Kind, string Subject, string Detail);


/// <summary>The audit log that every write appends to. Each write is one transaction that records its audit event.</summary>
public interface IAuditStore
{
    /// <summary>The newest audit events first; only those of one user or service account (with any of its tokens) when <paramref name="user"/> is given.</summary>
    Task<IReadOnlyList<AuditEvent>> ListEventsAsync(int limit, string? user, CancellationToken cancellationToken);
}
