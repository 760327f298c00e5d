using Cairn.Core.Identity;

namespace Cairn.Core.Ports;

/// <summary>A user, service account or group about to be created.</summary>
public sealed record NewPrincipal(string Name, PrincipalKind Kind, string? DisplayName, bool IsAdmin);

/// <summary>The grants that apply to one account: its groups' ids and every grant held by it or them.</summary>
public sealed record AccessGrants(IReadOnlyList<long> GroupIds, IReadOnlyList<(ResourceRef Resource, Role Role)> Grants);

/// <summary>
/// Identity and access: users, service accounts, groups and their members, API tokens (stored as hashes) and grants.
/// Every change is one transaction with its audit event and raises <see cref="GetRevisionAsync"/>, so servers that
/// cache credentials learn of revocations on their next look.
/// </summary>
public interface IIdentityStore
{
    /// <summary>Creates a principal; a taken name (of any kind) is <see cref="ErrorCode.AlreadyExists"/>.</summary>
    Task<Account> CreatePrincipalAsync(NewPrincipal principal, string actor, CancellationToken cancellationToken);

    /// <summary>A principal by name with its groups (for a group: its members).</summary>
    Task<Account?> GetPrincipalAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every principal of a kind (null: all), by name.</summary>
    Task<IReadOnlyList<Account>> ListPrincipalsAsync(PrincipalKind? kind, CancellationToken cancellationToken);

    /// <summary>Changes a principal's flags or display name; null leaves a field as it is.</summary>
    Task<Account> UpdatePrincipalAsync(string name, bool? disabled, bool? isAdmin, string? displayName, string actor, CancellationToken cancellationToken);

    /// <summary>Deletes a group with its memberships and grants (users and service accounts are disabled instead, to keep history).</summary>
    Task DeleteGroupAsync(string name, string actor, CancellationToken cancellationToken);

    /// <summary>Sets (a hash) or clears (null) a user's password.</summary>
    Task SetPasswordHashAsync(string user, string? passwordHash, string actor, CancellationToken cancellationToken);

    /// <summary>A user's password hash, or null when it has none (or is not a user).</summary>
    Task<string?> GetPasswordHashAsync(string user, CancellationToken cancellationToken);

    /// <summary>Adds (<paramref name="member"/> true) or removes a user or service account from a group.</summary>
    Task SetMembershipAsync(string group, string principal, bool member, string actor, CancellationToken cancellationToken);

    /// <summary>Stores a new token under its secret's hash; a live token of the owner with the same name is <see cref="ErrorCode.AlreadyExists"/>.</summary>
    Task CreateTokenAsync(ApiToken token, string secretHash, string actor, CancellationToken cancellationToken);

    /// <summary>The token with a secret's hash and its owner, live or not.</summary>
    Task<(ApiToken Token, Account Owner)?> FindTokenAsync(string secretHash, CancellationToken cancellationToken);

    /// <summary>An owner's tokens (null: everyone's), newest first, revoked ones included.</summary>
    Task<IReadOnlyList<ApiToken>> ListTokensAsync(string? owner, CancellationToken cancellationToken);

    /// <summary>Revokes a live token by id, or by name among <paramref name="owner"/>'s; returns it as revoked.</summary>
    Task<ApiToken> RevokeTokenAsync(string? owner, string idOrName, string actor, CancellationToken cancellationToken);

    /// <summary>Records that a token authenticated a call (no audit event: this is bookkeeping, not a change).</summary>
    Task TouchTokenAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Grants a role on a resource to a principal, replacing the role it held there; <see cref="Role.None"/> removes it.</summary>
    Task SetGrantAsync(string principal, ResourceRef resource, Role role, string actor, CancellationToken cancellationToken);

    /// <summary>Grants held by a principal (null: anyone) on a resource (null: anywhere).</summary>
    Task<IReadOnlyList<Grant>> ListGrantsAsync(string? principal, ResourceRef? resource, CancellationToken cancellationToken);

    /// <summary>The groups and grants that apply to an account.</summary>
    Task<AccessGrants> LoadAccessAsync(long accountId, CancellationToken cancellationToken);

    /// <summary>A number that grows with every identity change (principals, memberships, tokens, grants).</summary>
    Task<long> GetRevisionAsync(CancellationToken cancellationToken);

    /// <summary>Every stored key of the servers' key ring (session cookies are sealed with them), as XML.</summary>
    Task<IReadOnlyList<string>> ListProtectionKeysAsync(CancellationToken cancellationToken);

    /// <summary>Stores a new key of the servers' key ring under its name; a name already stored is left as it is.</summary>
    Task AddProtectionKeyAsync(string name, string xml, CancellationToken cancellationToken);

    /// <summary>Records an event that changes nothing else, such as a sign-in or a refused one.</summary>
    Task RecordEventAsync(string actor, string kind, string subject, IReadOnlyDictionary<string, string> detail, CancellationToken cancellationToken);
}
