using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>Reads the audit log: every change, sign-in and grant, with who made it and when.</summary>
public sealed class AuditLog(IAuditStore store, Actor actor)
{
    /// <summary>The most events one read returns.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>The newest events first that match the query (its user, kind prefix and time range).</summary>
    public Task<IReadOnlyList<AuditEvent>> ListAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        // The log names every resource and who touched it, so reading it takes a global role above plain viewing.
        actor.Demand(ResourceRef.Global, Role.Maintainer, "read the audit log");
        if (query.Limit is < 1 or > MaxLimit)
        {
            throw CairnException.Invalid($"limit must be between 1 and {MaxLimit}, not {query.Limit}.");
        }

        if (query is { Since: { } since, Until: { } until } && until <= since)
        {
            throw CairnException.Invalid($"until ({until:u}) must be after since ({since:u}).");
        }

        return store.ListEventsAsync(query with
        {
            User = query.User is null ? null : Names.Validate(query.User, "user"),
            Kind = string.IsNullOrWhiteSpace(query.Kind) ? null : query.Kind.Trim(),
        }, cancellationToken);
    }
}
