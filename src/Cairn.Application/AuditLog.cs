using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>Reads the audit log: every change, sign-in and grant, with who made it and when.</summary>
public sealed class AuditLog(IAuditStore store, Actor actor)
{
    /// <summary>The most events one read returns.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>The newest events first; only one user's or service account's (through any of its tokens) when <paramref name="user"/> is given.</summary>
    public Task<IReadOnlyList<AuditEvent>> ListAsync(int limit, string? user, CancellationToken cancellationToken)
    {
        // The log names every resource and who touched it, so reading it takes a global role above plain viewing.
        actor.Demand(ResourceRef.Global, Role.Maintainer, "read the audit log");
        return limit is < 1 or > MaxLimit
            ? throw CairnException.Invalid($"limit must be between 1 and {MaxLimit}, not {limit}.")
            : store.ListEventsAsync(limit, user is null ? null : Names.Validate(user, "user"), cancellationToken);
    }
}
