using Cairn.Core;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>Reads the audit log: every change to datasets, runs, experiments and models, with who made it and when.</summary>
public sealed class AuditLog(IAuditStore store)
{
    /// <summary>The most events one read returns.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>The newest events first.</summary>
    public Task<IReadOnlyList<AuditEvent>> ListAsync(int limit, CancellationToken cancellationToken) =>
        limit is < 1 or > MaxLimit
            ? throw CairnException.Invalid($"limit must be between 1 and {MaxLimit}, not {limit}.")
            : store.ListEventsAsync(limit, cancellationToken);
}
