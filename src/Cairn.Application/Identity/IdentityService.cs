using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Ports;
using Microsoft.AspNetCore.Identity;

namespace Cairn.Application.Identity;

/// <summary>
/// Users, service accounts, groups, API tokens and grants. There are no default credentials: the first administrator
/// is created by whoever holds the store (the CLI on its machine), and gets a token shown once.
/// </summary>
public sealed class IdentityService(IIdentityStore store, TimeProvider time, Actor actor)
{
    /// <summary>How long a token lives unless its creator says otherwise.</summary>
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromDays(90);

    /// <summary>The longest a token may live.</summary>
    public static readonly TimeSpan MaxTokenLifetime = TimeSpan.FromDays(3660);

    private const int MinPasswordLength = 12;
    private static readonly PasswordHasher<string> Hasher = new();

    /// <summary>
    /// Creates a user or service account, grants it <paramref name="globalRole"/> everywhere (unless none), and — unless
    /// <paramref name="withToken"/> is false — issues a first token, whose secret is returned once.
    /// </summary>
    public async Task<(Account Account, string? Secret)> CreateAccountAsync(string? name, PrincipalKind kind, string? displayName, bool isAdmin, Role globalRole,
        bool withToken, CancellationToken cancellationToken)
    {
        Names.Validate(name, kind == PrincipalKind.Service ? "service account" : "user");
        if (kind == PrincipalKind.Group)
        {
            throw CairnException.Invalid("Create groups with 'cairn groups create'.");
        }

        DemandAdmin("create users and service accounts");
        var account = await store.CreatePrincipalAsync(new NewPrincipal(name!, kind, displayName, isAdmin), actor.Name, cancellationToken).ConfigureAwait(false);
        if (globalRole != Role.None)
        {
            await store.SetGrantAsync(account.Name, ResourceRef.Global, globalRole, actor.Name, cancellationToken).ConfigureAwait(false);
        }

        string? secret = null;
        if (withToken)
        {
            (_, secret) = await CreateTokenAsync(account.Name, "initial", "all", DefaultTokenLifetime, cancellationToken).ConfigureAwait(false);
        }

        return (account, secret);
    }

    /// <summary>A principal, with its groups (or a group's members); an account may read itself.</summary>
    public async Task<Account> GetAsync(string? name, CancellationToken cancellationToken)
    {
        if (name != actor.Principal.Name || actor.Principal.Id is null)
        {
            DemandAdmin("read other accounts");
        }

        return await store.GetPrincipalAsync(Names.Validate(name, "user"), cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no user, service account or group named '{name}'; 'cairn users list' shows them.");
    }

    /// <summary>Every principal of a kind (null: all).</summary>
    public Task<IReadOnlyList<Account>> ListAsync(PrincipalKind? kind, CancellationToken cancellationToken)
    {
        DemandAdmin("list accounts");
        return store.ListPrincipalsAsync(kind, cancellationToken);
    }

    /// <summary>Disables (or enables again) a user or service account: its tokens and password stop working at once.</summary>
    public Task<Account> SetDisabledAsync(string? name, bool disabled, CancellationToken cancellationToken)
    {
        DemandAdmin(disabled ? "disable accounts" : "enable accounts");
        if (disabled && name == actor.Principal.Name)
        {
            throw CairnException.Invalid("You cannot disable yourself; ask another administrator.");
        }

        return store.UpdatePrincipalAsync(Names.Validate(name, "user"), disabled, null, null, actor.Name, cancellationToken);
    }

    /// <summary>Makes a user an administrator, or not.</summary>
    public Task<Account> SetAdminAsync(string? name, bool isAdmin, CancellationToken cancellationToken)
    {
        DemandAdmin("change administrators");
        return store.UpdatePrincipalAsync(Names.Validate(name, "user"), null, isAdmin, null, actor.Name, cancellationToken);
    }

    /// <summary>Sets a user's password (for signing in to the web UI and HTTP Basic); a user may set their own.</summary>
    public async Task SetPasswordAsync(string? user, string? password, CancellationToken cancellationToken)
    {
        Names.Validate(user, "user");
        if (user != actor.Principal.Name || actor.Principal.Id is null)
        {
            DemandAdmin("set other users' passwords");
        }

        if (password is null || password.Length < MinPasswordLength)
        {
            throw CairnException.Invalid($"The password is too short: use at least {MinPasswordLength} characters.");
        }

        if (password.Length > 1024)
        {
            throw CairnException.Invalid("The password is longer than 1024 characters.");
        }

        await store.SetPasswordHashAsync(user!, Hasher.HashPassword(user!, password), actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a group.</summary>
    public Task<Account> CreateGroupAsync(string? name, string? displayName, CancellationToken cancellationToken)
    {
        Names.Validate(name, "group");
        DemandAdmin("create groups");
        return store.CreatePrincipalAsync(new NewPrincipal(name!, PrincipalKind.Group, displayName, false), actor.Name, cancellationToken);
    }

    /// <summary>Deletes a group with its memberships and grants.</summary>
    public Task DeleteGroupAsync(string? name, CancellationToken cancellationToken)
    {
        DemandAdmin("delete groups");
        return store.DeleteGroupAsync(Names.Validate(name, "group"), actor.Name, cancellationToken);
    }

    /// <summary>Adds a user or service account to a group, or removes it.</summary>
    public Task SetMembershipAsync(string? group, string? member, bool isMember, CancellationToken cancellationToken)
    {
        DemandAdmin("change group members");
        return store.SetMembershipAsync(Names.Validate(group, "group"), Names.Validate(member, "member"), isMember, actor.Name, cancellationToken);
    }

    /// <summary>
    /// Issues a token acting as <paramref name="owner"/> (the caller when null), capped by <paramref name="scope"/>,
    /// expiring after <paramref name="lifetime"/> (null: <see cref="DefaultTokenLifetime"/>). Returns its record and
    /// its secret, which is not stored and cannot be shown again.
    /// </summary>
    public async Task<(ApiToken Token, string Secret)> CreateTokenAsync(string? owner, string? name, string? scope, TimeSpan? lifetime,
        CancellationToken cancellationToken)
    {
        owner = OwnerOrSelf(owner, "create tokens for others");
        Names.Validate(name, "token");
        var cap = TokenScopes.Parse(scope ?? "all");
        var life = lifetime ?? DefaultTokenLifetime;
        if (life <= TimeSpan.Zero || life > MaxTokenLifetime)
        {
            throw CairnException.Invalid($"A token lives between 1 second and {MaxTokenLifetime.TotalDays:0} days.");
        }

        var now = time.GetUtcNow();
        var token = new ApiToken(TokenSecret.NewId(), owner, name!, cap, now, actor.Name, now + life);
        var secret = TokenSecret.Generate();
        await store.CreateTokenAsync(token, TokenSecret.Hash(secret), actor.Name, cancellationToken).ConfigureAwait(false);
        return (token, secret);
    }

    /// <summary>Tokens of <paramref name="owner"/> (the caller when null; everyone's for an administrator asking with <paramref name="all"/>).</summary>
    public Task<IReadOnlyList<ApiToken>> ListTokensAsync(string? owner, bool all, CancellationToken cancellationToken)
    {
        if (all)
        {
            DemandAdmin("list everyone's tokens");
            return store.ListTokensAsync(null, cancellationToken);
        }

        return store.ListTokensAsync(OwnerOrSelf(owner, "list others' tokens"), cancellationToken);
    }

    /// <summary>Revokes a token by id, or by name among <paramref name="owner"/>'s (the caller's when null).</summary>
    public async Task<ApiToken> RevokeTokenAsync(string? owner, string? idOrName, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(idOrName))
        {
            throw CairnException.Invalid("Name the token to revoke by its id or name.");
        }

        if (owner is null && actor.Principal.IsUnrestricted)
        {
            // An administrator (or the store's own machine) may revoke any token by id; an administrator's own, by name too.
            try
            {
                return await store.RevokeTokenAsync(null, idOrName, actor.Name, cancellationToken).ConfigureAwait(false);
            }
            catch (CairnException e) when (e.Code == ErrorCode.NotFound && actor.Principal.Id is not null)
            {
                owner = actor.Principal.Name;
            }
        }

        owner = OwnerOrSelf(owner, "revoke others' tokens");
        return await store.RevokeTokenAsync(owner, idOrName, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Grants <paramref name="role"/> on a resource to a principal (replacing what it held there; none removes it).
    /// Granting on a resource takes maintainer there; granting globally takes an administrator.
    /// </summary>
    public Task GrantAsync(string? principal, ResourceRef resource, Role role, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        Names.Validate(principal, "principal");
        // Grants are matched in SQL by id; an id that cannot name a resource of its kind is refused rather than stored.
        _ = ResourceRef.Parse(resource.ToString());
        if (resource.Kind == ResourceKind.Global || role == Role.Admin)
        {
            DemandAdmin("grant roles globally or grant admin");
        }
        else
        {
            actor.Demand(resource, Role.Maintainer, "grant roles");
        }

        return store.SetGrantAsync(principal!, resource, role, actor.Name, cancellationToken);
    }

    /// <summary>Grants held by a principal or on a resource: an administrator sees all, a maintainer a resource's, anyone their own.</summary>
    public Task<IReadOnlyList<Grant>> ListGrantsAsync(string? principal, ResourceRef? resource, CancellationToken cancellationToken)
    {
        if (resource is not null && resource.Kind != ResourceKind.Global && actor.Holds(resource, Role.Maintainer))
        {
            return store.ListGrantsAsync(principal, resource, cancellationToken);
        }

        if (principal is not null && principal == actor.Principal.Name && actor.Principal.Id is not null)
        {
            return store.ListGrantsAsync(principal, resource, cancellationToken);
        }

        DemandAdmin("list grants");
        return store.ListGrantsAsync(principal, resource, cancellationToken);
    }

    /// <summary>
    /// Makes an account signed in by an OpenID Connect provider exist and mirror the provider's groups: the user is
    /// created on first sign-in (with no role; grants come from groups or an administrator), and made a member of
    /// exactly those Cairn groups the provider names (groups Cairn does not have are ignored). Returns the account;
    /// a disabled one stays disabled, and the caller refuses it.
    /// </summary>
    public async Task<Account> ProvisionExternalAsync(string name, string? displayName, IReadOnlyCollection<string> groups, string provider,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(groups);
        Names.Validate(name, "user");
        var by = $"oidc:{provider}";
        var account = await store.GetPrincipalAsync(name, cancellationToken).ConfigureAwait(false)
            ?? await store.CreatePrincipalAsync(new NewPrincipal(name, PrincipalKind.User, displayName, false), by, cancellationToken).ConfigureAwait(false);
        if (account.Kind != PrincipalKind.User)
        {
            throw CairnException.Unauthenticated($"'{name}' is a {(account.Kind == PrincipalKind.Group ? "group" : "service account")} in Cairn and cannot sign in.");
        }

        var wanted = new HashSet<string>(groups, StringComparer.Ordinal);
        var known = (await store.ListPrincipalsAsync(PrincipalKind.Group, cancellationToken).ConfigureAwait(false)).Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        var current = (await store.GetPrincipalAsync(name, cancellationToken).ConfigureAwait(false))!.Groups.ToHashSet(StringComparer.Ordinal);
        foreach (var group in known.Where(g => wanted.Contains(g) != current.Contains(g)))
        {
            await store.SetMembershipAsync(group, name, wanted.Contains(group), by, cancellationToken).ConfigureAwait(false);
        }

        return account;
    }

    /// <summary>Whether <paramref name="password"/> is the user's; false for unknown users, users without one, and the disabled.</summary>
    internal async Task<Account?> VerifyPasswordAsync(string user, string password, CancellationToken cancellationToken)
    {
        var hash = await store.GetPasswordHashAsync(user, cancellationToken).ConfigureAwait(false);
        if (hash is null)
        {
            // Spend the same work as a real check, so timing does not tell which user names exist.
            Hasher.VerifyHashedPassword(user, DummyHash, password);
            return null;
        }

        if (Hasher.VerifyHashedPassword(user, hash, password) == PasswordVerificationResult.Failed)
        {
            return null;
        }

        return await store.GetPrincipalAsync(user, cancellationToken).ConfigureAwait(false) is { Disabled: false } account ? account : null;
    }

    private static readonly string DummyHash = Hasher.HashPassword("cairn", Guid.NewGuid().ToString());

    private string OwnerOrSelf(string? owner, string action)
    {
        var self = actor.Principal;
        if (owner is null)
        {
            return self.Id is not null
                ? self.Name
                : throw CairnException.Invalid("Name whose token this is with --user (this command runs as the machine holding the store, not as a user).");
        }

        Names.Validate(owner, "user");
        if (owner != self.Name || self.Id is null)
        {
            DemandAdmin(action);
        }

        return owner;
    }

    private void DemandAdmin(string action) => actor.Demand(ResourceRef.Global, Role.Admin, action);
}
