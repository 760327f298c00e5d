using System.Collections.Concurrent;

namespace Cairn.Core.Identity;

/// <summary>The kinds of principal: people, programs and the groups people belong to.</summary>
public enum PrincipalKind
{
    /// <summary>A person; may have a password and sign in to the web UI.</summary>
    User,

    /// <summary>A program (CI, a scoring client); authenticates with tokens only.</summary>
    Service,

    /// <summary>A named set of users and service accounts; roles granted to it apply to every member.</summary>
    Group,
}

/// <summary>A user, a service account or a group, as stored.</summary>
/// <param name="Id">The store's number for it.</param>
/// <param name="Name">Its unique name.</param>
/// <param name="Kind">What it is.</param>
/// <param name="DisplayName">A longer name for people.</param>
/// <param name="IsAdmin">Holds every right everywhere.</param>
/// <param name="Disabled">May not authenticate; its tokens stop working.</param>
/// <param name="HasPassword">Has a password set (users only).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="CreatedBy">Who created it.</param>
public sealed record Account(long Id, string Name, PrincipalKind Kind, string? DisplayName, bool IsAdmin, bool Disabled, bool HasPassword,
    DateTimeOffset CreatedAt, string CreatedBy)
{
    /// <summary>The groups it belongs to (for groups: its members), by name.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];
}

/// <summary>A role held by a principal on a resource.</summary>
/// <param name="Principal">Who holds it.</param>
/// <param name="PrincipalKind">Whether that is a user, a service account or a group.</param>
/// <param name="Resource">On what.</param>
/// <param name="Role">Which role.</param>
/// <param name="GrantedAt">When.</param>
/// <param name="GrantedBy">By whom.</param>
public sealed record Grant(string Principal, PrincipalKind PrincipalKind, ResourceRef Resource, Role Role, DateTimeOffset GrantedAt, string GrantedBy);

/// <summary>
/// The identity a call runs as, resolved once per request: who it is, which principals' grants apply (itself and its
/// groups), every grant it holds, and the most its credential allows (a token's scope).
/// </summary>
public sealed class Principal
{
    private readonly ConcurrentDictionary<ResourceRef, Role> _grants;
    private readonly bool _isAdmin;

    private Principal(string name, long? id, IReadOnlyList<long> principalIds, bool isAdmin, Role cap, string? token, ConcurrentDictionary<ResourceRef, Role> grants)
    {
        Name = name;
        Id = id;
        PrincipalIds = principalIds;
        _isAdmin = isAdmin;
        Cap = cap;
        Token = token;
        _grants = grants;
    }

    /// <summary>The user's or service account's name.</summary>
    public string Name { get; }

    /// <summary>Its number in the store; null for the local process.</summary>
    public long? Id { get; }

    /// <summary>Its own id and its groups' ids: whose grants apply.</summary>
    public IReadOnlyList<long> PrincipalIds { get; }

    /// <summary>The most any check may grant, whatever the grants say: a token's scope.</summary>
    public Role Cap { get; }

    /// <summary>The token's name when the call authenticated with one.</summary>
    public string? Token { get; }

    /// <summary>
    /// Holds every right without consulting grants: the process that holds the store itself (a CLI on the machine
    /// with the database file, a server without authentication, background loops), or an administrator whose
    /// credential is not scoped down.
    /// </summary>
    public bool IsUnrestricted => GlobalRole == Role.Admin;

    /// <summary>What the audit log records: the name, and the token used (<c>alice/ci</c>).</summary>
    public string AuditName => Token is null ? Name : $"{Name}/{Token}";

    /// <summary>The process itself, holding every right (named for the audit log).</summary>
    public static Principal Local(string name) => new(name, null, [], true, Role.Admin, null, new());

    /// <summary>An authenticated account with the grants that apply to it (its own and its groups').</summary>
    public static Principal For(Account account, IReadOnlyList<long> groupIds, IEnumerable<(ResourceRef Resource, Role Role)> grants, Role cap, string? token)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(grants);
        var merged = new ConcurrentDictionary<ResourceRef, Role>();
        foreach (var (resource, role) in grants)
        {
            merged[resource] = merged.TryGetValue(resource, out var held) && held > role ? held : role;
        }

        return new Principal(account.Name, account.Id, [account.Id, .. groupIds], account.IsAdmin, cap, token, merged);
    }

    /// <summary>The role held on every resource at once, within the cap.</summary>
    public Role GlobalRole => Min(_isAdmin ? Role.Admin : _grants.GetValueOrDefault(ResourceRef.Global), Cap);

    /// <summary>The role this principal holds on a resource: the higher of its global role and its role there, within its cap.</summary>
    public Role RoleOn(ResourceRef resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var global = GlobalRole;
        var own = Min(_grants.GetValueOrDefault(resource), Cap);
        return own > global ? own : global;
    }

    /// <summary>The ids of resources of a kind on which this principal holds at least <paramref name="least"/> by its own or its groups' grants.</summary>
    public IReadOnlyList<string> IdsWith(ResourceKind kind, Role least) =>
        [.. _grants.Where(g => g.Key.Kind == kind && Min(g.Value, Cap) >= least).Select(g => g.Key.Id)];

    /// <summary>
    /// Records that this principal now maintains a resource it just created (the store granted it in the same
    /// transaction), so its next calls see it without waiting for cached credentials to be reloaded.
    /// </summary>
    public void Claim(ResourceRef resource) => _grants.AddOrUpdate(resource, Role.Maintainer, (_, held) => held > Role.Maintainer ? held : Role.Maintainer);

    private static Role Min(Role a, Role b) => a < b ? a : b;
}
