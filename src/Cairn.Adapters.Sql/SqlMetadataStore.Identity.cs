using System.Data.Common;
using System.Globalization;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Ports;

namespace Cairn.Adapters.Sql;

public abstract partial class SqlMetadataStore : IIdentityStore
{
    private static readonly string PrincipalColumns = PrincipalColumnsOf("");
    private const string TokenColumns = "t.id, p.name, t.name, t.scope, t.created_at, t.created_by, t.expires_at, t.last_used_at, t.revoked_at";

    /// <inheritdoc />
    public Task<Account> CreatePrincipalAsync(NewPrincipal principal, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return WriteAsync(async (connection, transaction) =>
        {
            if (await FindPrincipalAsync(connection, transaction, principal.Name, cancellationToken).ConfigureAwait(false) is { } taken)
            {
                throw new CairnException(ErrorCode.AlreadyExists, $"The name '{principal.Name}' is already taken by a {KindName(taken.Kind)}.");
            }

            await ExecuteAsync(connection, transaction,
                "INSERT INTO principals (name, kind, display_name, is_admin, disabled, created_at, created_by) VALUES (@name, @kind, @display, @admin, 0, @now, @actor)",
                [("@name", principal.Name), ("@kind", KindName(principal.Kind)), ("@display", principal.DisplayName), ("@admin", principal.IsAdmin ? 1 : 0),
                 ("@now", Now()), ("@actor", actor)], cancellationToken).ConfigureAwait(false);
            await IdentityChangedAsync(connection, transaction, actor, $"{KindName(principal.Kind)}.created", principal.Name,
                new() { ["admin"] = principal.IsAdmin ? "true" : "false" }, cancellationToken).ConfigureAwait(false);
            return (await FindPrincipalAsync(connection, transaction, principal.Name, cancellationToken).ConfigureAwait(false))!;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Account?> GetPrincipalAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var account = await FindPrincipalAsync(connection, null, name, cancellationToken).ConfigureAwait(false);
            if (account is null)
            {
                return null;
            }

            // A group lists its members; a user or service account lists its groups.
            var related = account.Kind == PrincipalKind.Group
                ? "SELECT p.name FROM group_members m JOIN principals p ON p.id = m.member_id WHERE m.group_id = @id ORDER BY p.name"
                : "SELECT p.name FROM group_members m JOIN principals p ON p.id = m.group_id WHERE m.member_id = @id ORDER BY p.name";
            var names = await QueryAsync(connection, null, related, [("@id", account.Id)], r => r.GetString(0), cancellationToken).ConfigureAwait(false);
            return account with { Groups = names };
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Account>> ListPrincipalsAsync(PrincipalKind? kind, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<Account>>(async connection => await QueryAsync(connection, null,
            $"SELECT {PrincipalColumns} FROM principals WHERE CAST(@kind AS TEXT) IS NULL OR kind = @kind ORDER BY name",
            [("@kind", kind is { } k ? KindName(k) : null)], ReadPrincipal, cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task<Account> UpdatePrincipalAsync(string name, bool? disabled, bool? isAdmin, string? displayName, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var account = await RequirePrincipalAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            if (account.Kind == PrincipalKind.Group && (disabled is not null || isAdmin is not null))
            {
                throw CairnException.Invalid($"'{name}' is a group: grant roles to it instead of disabling it or making it an admin.");
            }

            await ExecuteAsync(connection, transaction,
                "UPDATE principals SET disabled = COALESCE(@disabled, disabled), is_admin = COALESCE(@admin, is_admin), display_name = COALESCE(@display, display_name) WHERE id = @id",
                [("@disabled", disabled is { } d ? (d ? 1 : 0) : null), ("@admin", isAdmin is { } a ? (a ? 1 : 0) : null), ("@display", displayName), ("@id", account.Id)],
                cancellationToken).ConfigureAwait(false);
            var detail = new Dictionary<string, string>();
            if (disabled is { } nowDisabled)
            {
                detail["disabled"] = nowDisabled ? "true" : "false";
            }

            if (isAdmin is { } nowAdmin)
            {
                detail["admin"] = nowAdmin ? "true" : "false";
            }

            if (displayName is not null)
            {
                detail["display_name"] = displayName;
            }

            await IdentityChangedAsync(connection, transaction, actor, $"{KindName(account.Kind)}.updated", name, detail, cancellationToken).ConfigureAwait(false);
            return (await FindPrincipalAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false))!;
        }, cancellationToken);

    /// <inheritdoc />
    public Task DeleteGroupAsync(string name, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var group = await RequirePrincipalAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            if (group.Kind != PrincipalKind.Group)
            {
                throw CairnException.Invalid($"'{name}' is a {KindName(group.Kind)}, not a group; disable it with 'cairn users disable {name}'.");
            }

            await ExecuteAsync(connection, transaction, "DELETE FROM group_members WHERE group_id = @id", [("@id", group.Id)], cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, "DELETE FROM grants WHERE principal_id = @id", [("@id", group.Id)], cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, "DELETE FROM principals WHERE id = @id", [("@id", group.Id)], cancellationToken).ConfigureAwait(false);
            await IdentityChangedAsync(connection, transaction, actor, "group.deleted", name, [], cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SetPasswordHashAsync(string user, string? passwordHash, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var account = await RequirePrincipalAsync(connection, transaction, user, cancellationToken).ConfigureAwait(false);
            if (account.Kind != PrincipalKind.User)
            {
                throw CairnException.Invalid($"'{user}' is a {KindName(account.Kind)}; only users have passwords (service accounts use tokens).");
            }

            await ExecuteAsync(connection, transaction, "UPDATE principals SET password_hash = @hash WHERE id = @id", [("@hash", passwordHash), ("@id", account.Id)],
                cancellationToken).ConfigureAwait(false);
            await IdentityChangedAsync(connection, transaction, actor, passwordHash is null ? "user.password_cleared" : "user.password_set", user, [],
                cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<string?> GetPasswordHashAsync(string user, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (string?)await ScalarAsync(connection, null, "SELECT password_hash FROM principals WHERE name = @name AND kind = 'user'",
            [("@name", user)], cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task SetMembershipAsync(string group, string principal, bool member, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var g = await RequirePrincipalAsync(connection, transaction, group, cancellationToken).ConfigureAwait(false);
            var p = await RequirePrincipalAsync(connection, transaction, principal, cancellationToken).ConfigureAwait(false);
            if (g.Kind != PrincipalKind.Group)
            {
                throw CairnException.Invalid($"'{group}' is a {KindName(g.Kind)}, not a group.");
            }

            if (p.Kind == PrincipalKind.Group)
            {
                throw CairnException.Invalid($"'{principal}' is a group; groups hold users and service accounts, not other groups.");
            }

            await ExecuteAsync(connection, transaction, "DELETE FROM group_members WHERE group_id = @g AND member_id = @p", [("@g", g.Id), ("@p", p.Id)],
                cancellationToken).ConfigureAwait(false);
            if (member)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO group_members (group_id, member_id) VALUES (@g, @p)", [("@g", g.Id), ("@p", p.Id)],
                    cancellationToken).ConfigureAwait(false);
            }

            await IdentityChangedAsync(connection, transaction, actor, member ? "group.member_added" : "group.member_removed", group,
                new() { ["member"] = principal }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task CreateTokenAsync(ApiToken token, string secretHash, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        return WriteAsync(async (connection, transaction) =>
        {
            var owner = await RequirePrincipalAsync(connection, transaction, token.Owner, cancellationToken).ConfigureAwait(false);
            if (owner.Kind == PrincipalKind.Group)
            {
                throw CairnException.Invalid($"'{token.Owner}' is a group; tokens act as a user or a service account.");
            }

            var taken = await ScalarAsync(connection, transaction, "SELECT id FROM api_tokens WHERE principal_id = @p AND name = @name AND revoked_at IS NULL",
                [("@p", owner.Id), ("@name", token.Name)], cancellationToken).ConfigureAwait(false);
            if (taken is not null)
            {
                throw new CairnException(ErrorCode.AlreadyExists, $"{token.Owner} already has a live token named '{token.Name}'; revoke it first or pick another name.");
            }

            await ExecuteAsync(connection, transaction, """
                INSERT INTO api_tokens (id, principal_id, name, secret_sha256, scope, created_at, created_by, expires_at)
                VALUES (@id, @p, @name, @hash, @scope, @now, @actor, @expires)
                """,
                [("@id", token.Id), ("@p", owner.Id), ("@name", token.Name), ("@hash", secretHash), ("@scope", (int)token.Scope), ("@now", token.CreatedAt.ToUnixTimeMilliseconds()),
                 ("@actor", actor), ("@expires", token.ExpiresAt?.ToUnixTimeMilliseconds())], cancellationToken).ConfigureAwait(false);
            await IdentityChangedAsync(connection, transaction, actor, "token.created", token.Owner, new()
            {
                ["token"] = token.Name,
                ["id"] = token.Id,
                ["scope"] = TokenScopes.Name(token.Scope),
                ["expires"] = token.ExpiresAt?.ToString("u", CultureInfo.InvariantCulture) ?? "never",
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<(ApiToken Token, Account Owner)?> FindTokenAsync(string secretHash, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var found = await QueryAsync(connection, null,
                $"SELECT {TokenColumns}, {PrincipalColumnsOf("p.")} FROM api_tokens t JOIN principals p ON p.id = t.principal_id WHERE t.secret_sha256 = @hash",
                [("@hash", secretHash)], r => (ReadToken(r), ReadPrincipal(r, 9)), cancellationToken).ConfigureAwait(false);
            return found is [var (token, owner)] ? ((ApiToken, Account)?)(token, owner) : null;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<ApiToken>> ListTokensAsync(string? owner, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ApiToken>>(async connection => await QueryAsync(connection, null,
            $"SELECT {TokenColumns} FROM api_tokens t JOIN principals p ON p.id = t.principal_id WHERE CAST(@owner AS TEXT) IS NULL OR p.name = @owner ORDER BY t.created_at DESC, t.id",
            [("@owner", owner)], ReadToken, cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task<ApiToken> RevokeTokenAsync(string? owner, string idOrName, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var live = await QueryAsync(connection, transaction, $"""
                SELECT {TokenColumns} FROM api_tokens t JOIN principals p ON p.id = t.principal_id
                WHERE t.revoked_at IS NULL AND (t.id = @key OR (t.name = @key AND p.name = @owner)) AND (CAST(@owner AS TEXT) IS NULL OR p.name = @owner)
                """, [("@key", idOrName), ("@owner", owner)], ReadToken, cancellationToken).ConfigureAwait(false);
            var token = live switch
            {
                [var one] => one,
                [] => throw CairnException.NotFound(owner is null
                    ? $"There is no live token with id '{idOrName}'; 'cairn tokens list' shows them."
                    : $"{owner} has no live token with id or name '{idOrName}'; 'cairn tokens list' shows them."),
                _ => throw CairnException.Invalid($"'{idOrName}' matches {live.Count} tokens; revoke by id."),
            };
            var now = Now();
            await ExecuteAsync(connection, transaction, "UPDATE api_tokens SET revoked_at = @now WHERE id = @id", [("@now", now), ("@id", token.Id)], cancellationToken)
                .ConfigureAwait(false);
            await IdentityChangedAsync(connection, transaction, actor, "token.revoked", token.Owner, new() { ["token"] = token.Name, ["id"] = token.Id },
                cancellationToken).ConfigureAwait(false);
            return token with { RevokedAt = Time(now) };
        }, cancellationToken);

    /// <inheritdoc />
    public Task TouchTokenAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction) => ExecuteAsync(connection, transaction, "UPDATE api_tokens SET last_used_at = @at WHERE id = @id",
            [("@at", at.ToUnixTimeMilliseconds()), ("@id", id)], cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task SetGrantAsync(string principal, ResourceRef resource, Role role, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return WriteAsync(async (connection, transaction) =>
        {
            var p = await RequirePrincipalAsync(connection, transaction, principal, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, "DELETE FROM grants WHERE principal_id = @p AND resource_kind = @kind AND resource_id = @id",
                [("@p", p.Id), ("@kind", Roles.Name(resource.Kind)), ("@id", resource.Id)], cancellationToken).ConfigureAwait(false);
            if (role != Role.None)
            {
                await ExecuteAsync(connection, transaction, """
                    INSERT INTO grants (principal_id, resource_kind, resource_id, role, granted_at, granted_by) VALUES (@p, @kind, @id, @role, @now, @actor)
                    """, [("@p", p.Id), ("@kind", Roles.Name(resource.Kind)), ("@id", resource.Id), ("@role", (int)role), ("@now", Now()), ("@actor", actor)],
                    cancellationToken).ConfigureAwait(false);
            }

            await IdentityChangedAsync(connection, transaction, actor, role == Role.None ? "grant.removed" : "grant.set", resource.ToString(),
                new() { ["principal"] = principal, ["role"] = Roles.Name(role) }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Grant>> ListGrantsAsync(string? principal, ResourceRef? resource, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<Grant>>(async connection => await QueryAsync(connection, null, """
            SELECT p.name, p.kind, g.resource_kind, g.resource_id, g.role, g.granted_at, g.granted_by
            FROM grants g JOIN principals p ON p.id = g.principal_id
            WHERE (CAST(@principal AS TEXT) IS NULL OR p.name = @principal) AND (CAST(@kind AS TEXT) IS NULL OR (g.resource_kind = @kind AND g.resource_id = @id))
            ORDER BY g.resource_kind, g.resource_id, p.name
            """, [("@principal", principal), ("@kind", resource is null ? null : Roles.Name(resource.Kind)), ("@id", resource?.Id)],
            r => new Grant(r.GetString(0), ParseKind(r.GetString(1)), new ResourceRef(Roles.ParseKind(r.GetString(2)), r.GetString(3)), (Role)Int(r, 4),
                Time(r.GetInt64(5)), r.GetString(6)), cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task<AccessGrants> LoadAccessAsync(long accountId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var groups = await QueryAsync(connection, null, "SELECT group_id FROM group_members WHERE member_id = @id", [("@id", accountId)],
                r => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
            var ids = new List<long>(groups) { accountId };
            var (inList, parameters) = InList("@principal", ids.Cast<object?>());
            var grants = await QueryAsync(connection, null, $"SELECT resource_kind, resource_id, role FROM grants WHERE principal_id IN ({inList})", parameters,
                r => (new ResourceRef(Roles.ParseKind(r.GetString(0)), r.GetString(1)), (Role)Int(r, 2)), cancellationToken).ConfigureAwait(false);
            return new AccessGrants(groups, grants);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<long> GetRevisionAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection => Convert.ToInt64(
            await ScalarAsync(connection, null, "SELECT revision FROM identity_revision WHERE id = 1", [], cancellationToken).ConfigureAwait(false),
            CultureInfo.InvariantCulture), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListProtectionKeysAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<string>>(async connection => await QueryAsync(connection, null, "SELECT xml FROM protection_keys ORDER BY created_at, name", [],
            r => r.GetString(0), cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task AddProtectionKeyAsync(string name, string xml, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction) => ExecuteAsync(connection, transaction,
            "INSERT INTO protection_keys (name, xml, created_at) VALUES (@name, @xml, @now) ON CONFLICT (name) DO NOTHING",
            [("@name", name), ("@xml", xml), ("@now", Now())], cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task RecordEventAsync(string actor, string kind, string subject, IReadOnlyDictionary<string, string> detail, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RecordEventAsync(connection, transaction, actor, kind, subject, new Dictionary<string, string>(detail), cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    // The SQL condition that keeps rows whose resource one of the visibility's principals holds a role on; empty for no restriction.
    // Experiment ids are numbers in their table and text in grants, hence the cast on that side only.
    private static string Visible(Visibility? visibility, ResourceKind kind, string column, List<(string, object?)> parameters)
    {
        if (visibility is null)
        {
            return "TRUE";
        }

        var (inList, principals) = InList("@visible_p", visibility.PrincipalIds.Cast<object?>());
        parameters.AddRange(principals);
        parameters.Add(("@visible_kind", Roles.Name(kind)));
        parameters.Add(("@visible_role", (int)visibility.Least));
        var id = kind == ResourceKind.Experiment ? "CAST(resource_id AS BIGINT)" : "resource_id";
        return $"{column} IN (SELECT {id} FROM grants WHERE resource_kind = @visible_kind AND role >= @visible_role AND principal_id IN ({inList}))";
    }

    private static (string Sql, List<(string, object?)> Parameters) InList(string prefix, IEnumerable<object?> values)
    {
        var parameters = values.Select((v, i) => ($"{prefix}{i}", v)).ToList();
        return (parameters.Count == 0 ? "NULL" : string.Join(", ", parameters.Select(p => p.Item1)), parameters);
    }

    // Grants follow a renamed resource and leave with a deleted one, in the same transaction as the change.
    private static Task MoveGrantsAsync(DbConnection connection, DbTransaction transaction, ResourceKind kind, string from, string? to,
        CancellationToken cancellationToken) =>
        to is null
            ? ExecuteAsync(connection, transaction, "DELETE FROM grants WHERE resource_kind = @kind AND resource_id = @from",
                [("@kind", Roles.Name(kind)), ("@from", from)], cancellationToken)
            : ExecuteAsync(connection, transaction, "UPDATE grants SET resource_id = @to WHERE resource_kind = @kind AND resource_id = @from",
                [("@kind", Roles.Name(kind)), ("@from", from), ("@to", to)], cancellationToken);

    // Whoever creates a resource maintains it, granted in the creating transaction: the principal the audit name
    // starts with ("alice" of "alice/ci"), when one by that name exists — the local process and unknown names get nothing.
    private async Task GrantOwnerAsync(DbConnection connection, DbTransaction transaction, string actor, ResourceRef resource,
        CancellationToken cancellationToken)
    {
        var owner = actor.Split('/')[0];
        var granted = await ExecuteAsync(connection, transaction, $"""
            INSERT INTO grants (principal_id, resource_kind, resource_id, role, granted_at, granted_by)
            SELECT id, @kind, @id, {(int)Role.Maintainer}, @now, @actor FROM principals WHERE name = @owner AND kind <> 'group'
            """, [("@kind", Roles.Name(resource.Kind)), ("@id", resource.Id), ("@now", Now()), ("@actor", actor), ("@owner", owner)], cancellationToken).ConfigureAwait(false);
        if (granted > 0)
        {
            await ExecuteAsync(connection, transaction, "UPDATE identity_revision SET revision = revision + 1 WHERE id = 1", [], cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task IdentityChangedAsync(DbConnection connection, DbTransaction transaction, string actor, string kind, string subject,
        Dictionary<string, string> detail, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, transaction, "UPDATE identity_revision SET revision = revision + 1 WHERE id = 1", [], cancellationToken).ConfigureAwait(false);
        await RecordEventAsync(connection, transaction, actor, kind, subject, detail, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Account?> FindPrincipalAsync(DbConnection connection, DbTransaction? transaction, string name, CancellationToken cancellationToken) =>
        (await QueryAsync(connection, transaction, $"SELECT {PrincipalColumns} FROM principals WHERE name = @name", [("@name", name)], ReadPrincipal, cancellationToken)
            .ConfigureAwait(false)).FirstOrDefault();

    private static async Task<Account> RequirePrincipalAsync(DbConnection connection, DbTransaction transaction, string name, CancellationToken cancellationToken) =>
        await FindPrincipalAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no user, service account or group named '{name}'; 'cairn users list' shows them.");

    private static Account ReadPrincipal(DbDataReader r) => ReadPrincipal(r, 0);

    private static Account ReadPrincipal(DbDataReader r, int o) =>
        new(r.GetInt64(o), r.GetString(o + 1), ParseKind(r.GetString(o + 2)), r.IsDBNull(o + 3) ? null : r.GetString(o + 3), r.GetInt64(o + 4) != 0,
            r.GetInt64(o + 5) != 0, Convert.ToBoolean(r.GetValue(o + 6), CultureInfo.InvariantCulture), Time(r.GetInt64(o + 7)), r.GetString(o + 8));

    private static ApiToken ReadToken(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), (Role)Int(r, 3), Time(r.GetInt64(4)), r.GetString(5), r.IsDBNull(6) ? null : Time(r.GetInt64(6)))
        {
            LastUsedAt = r.IsDBNull(7) ? null : Time(r.GetInt64(7)),
            RevokedAt = r.IsDBNull(8) ? null : Time(r.GetInt64(8)),
        };

    // The columns ReadPrincipal reads, of the principals table under an alias ("p.") or none.
    private static string PrincipalColumnsOf(string p) =>
        $"{p}id, {p}name, {p}kind, {p}display_name, {p}is_admin, {p}disabled, {p}password_hash IS NOT NULL, {p}created_at, {p}created_by";

    private static string KindName(PrincipalKind kind) => kind switch
    {
        PrincipalKind.User => "user",
        PrincipalKind.Service => "service",
        _ => "group",
    };

    private static PrincipalKind ParseKind(string text) => text switch
    {
        "user" => PrincipalKind.User,
        "service" => PrincipalKind.Service,
        _ => PrincipalKind.Group,
    };
}
