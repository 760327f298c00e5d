using System.CommandLine;
using Cairn.Application.Identity;
using Cairn.Core;
using Cairn.Core.Identity;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn users</c>, <c>cairn groups</c>, <c>cairn tokens</c> and <c>cairn grants</c>: who may use a server, and for what.</summary>
internal static class IdentityCommands
{
    /// <summary><c>cairn users create | list | show | disable | enable | passwd</c>.</summary>
    public static Command CreateUsers(CliApp app)
    {
        var command = new Command("users", "Users and service accounts of a server (there are no default accounts: create the first admin here)");

        var name = new Argument<string>("name") { Description = "The user's or service account's name" };
        var admin = new Option<bool>("--admin") { Description = "An administrator: every right everywhere, users and tokens included" };
        var service = new Option<bool>("--service") { Description = "A service account (a program: tokens only, no password)" };
        var display = new Option<string?>("--display-name") { Description = "A longer name for people" };
        var role = new Option<string>("--role")
        {
            Description = "The role granted everywhere: none, predict, viewer, editor, maintainer (grant more per resource with 'cairn grants set')",
            DefaultValueFactory = _ => "viewer",
        };
        var noToken = new Option<bool>("--no-token") { Description = "Do not issue a first token" };
        var create = new Command("create", "Create a user or service account and print its first token (shown once)") { name, admin, service, display, role, noToken };
        create.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (account, secret) = await context.Get<IdentityService>().CreateAccountAsync(context.Parse.GetValue(name),
                    context.Parse.GetValue(service) ? PrincipalKind.Service : PrincipalKind.User, context.Parse.GetValue(display), context.Parse.GetValue(admin),
                    Roles.Parse(context.Parse.GetValue(role)!), !context.Parse.GetValue(noToken), ct);
                return CreatedAccount(context, account, secret);
            },
            async (context, ct) =>
            {
                var body = new Server.Api.CreateAccountBody(context.Parse.GetValue(name), context.Parse.GetValue(service), context.Parse.GetValue(display),
                    context.Parse.GetValue(admin), context.Parse.GetValue(role), !context.Parse.GetValue(noToken));
                var created = await context.Remote.SendAsync(HttpMethod.Post, "api/users", Json(body, Server.Api.ApiJson.Default.CreateAccountBody),
                    CairnJson.Default.CreatedAccount, ct);
                return CreatedAccount(context, created.Account, created.Secret);
            }));
        command.Subcommands.Add(create);

        static int CreatedAccount(CommandContext context, Account account, string? secret)
        {
            if (context.Json)
            {
                context.Console.WriteJson(account, CairnJson.Readable.Account);
                if (secret is not null)
                {
                    context.Console.RawOut.WriteLine(secret);
                }

                return 0;
            }

            context.Console.Out.MarkupLineInterpolated($"Created {Kind(account.Kind)} [bold]{account.Name}[/]{(account.IsAdmin ? " (administrator)" : "")}.");
            if (secret is not null)
            {
                PrintSecret(context, secret, "initial", IdentityService.DefaultTokenLifetime);
            }

            return 0;
        }

        var list = new Command("list", "List users, service accounts and groups");
        list.SetAction(app.Handler(
            async (context, ct) => ListedAccounts(context, await context.Get<IdentityService>().ListAsync(null, ct)),
            async (context, ct) => ListedAccounts(context, await context.Remote.GetAsync("api/users", CairnJson.Default.IReadOnlyListAccount, ct))));
        command.Subcommands.Add(list);

        static int ListedAccounts(CommandContext context, IReadOnlyList<Account> accounts)
        {
            if (context.Json)
            {
                context.Console.WriteJson(accounts, CairnJson.Readable.IReadOnlyListAccount);
                return 0;
            }

            if (accounts.Count == 0)
            {
                context.Console.Out.MarkupLine("No users yet. Create the first administrator with: cairn users create NAME --admin");
                return 0;
            }

            var table = new Table().AddColumns("name", "kind", "display name", "admin", "state", "created", "by");
            foreach (var a in accounts)
            {
                table.AddRow(Markup.Escape(a.Name), Kind(a.Kind), Markup.Escape(a.DisplayName ?? ""), a.IsAdmin ? "yes" : "", a.Disabled ? "[red]disabled[/]" : "",
                    Format.Time(a.CreatedAt), Markup.Escape(a.CreatedBy));
            }

            context.Console.Out.Write(table);
            return 0;
        }

        var shown = new Argument<string>("name") { Description = "A user, service account or group" };
        var show = new Command("show", "Show an account with its groups and grants") { shown };
        show.SetAction(app.Handler(
            async (context, ct) =>
            {
                var service = context.Get<IdentityService>();
                var account = await service.GetAsync(context.Parse.GetValue(shown), ct);
                return ShownAccount(context, account, context.Json ? [] : await service.ListGrantsAsync(account.Name, null, ct));
            },
            async (context, ct) =>
            {
                var account = await context.Remote.GetAsync($"api/users/{Uri.EscapeDataString(context.Parse.GetValue(shown)!)}", CairnJson.Default.Account, ct);
                return ShownAccount(context, account, context.Json ? []
                    : await context.Remote.GetAsync($"api/grants?principal={Uri.EscapeDataString(account.Name)}", CairnJson.Default.IReadOnlyListGrant, ct));
            }));
        command.Subcommands.Add(show);

        static int ShownAccount(CommandContext context, Account account, IReadOnlyList<Grant> grants)
        {
            if (context.Json)
            {
                context.Console.WriteJson(account, CairnJson.Readable.Account);
                return 0;
            }

            var console = context.Console.Out;
            console.MarkupLineInterpolated($"[bold]{account.Name}[/]  {Kind(account.Kind)}{(account.IsAdmin ? ", administrator" : "")}{(account.Disabled ? ", [red]disabled[/]" : "")}");
            console.MarkupLineInterpolated($"  created {Format.Time(account.CreatedAt)} by {account.CreatedBy}{(account.HasPassword ? "; has a password" : "")}");
            console.MarkupLineInterpolated($"  {(account.Kind == PrincipalKind.Group ? "members" : "groups")}: {(account.Groups.Count == 0 ? "none" : string.Join(", ", account.Groups))}");
            WriteGrants(context, grants);
            return 0;
        }

        foreach (var (verb, disabled) in new[] { ("disable", true), ("enable", false) })
        {
            var target = new Argument<string>("name") { Description = "The user or service account" };
            var change = new Command(verb, disabled ? "Disable an account: its tokens and password stop working at once" : "Enable a disabled account again") { target };
            int Changed(CommandContext context, Account account)
            {
                context.Console.Out.MarkupLineInterpolated($"{(disabled ? "Disabled" : "Enabled")} {Kind(account.Kind)} [bold]{account.Name}[/].");
                return 0;
            }

            change.SetAction(app.Handler(
                async (context, ct) => Changed(context, await context.Get<IdentityService>().SetDisabledAsync(context.Parse.GetValue(target), disabled, ct)),
                async (context, ct) => Changed(context, await context.Remote.SendAsync(HttpMethod.Post,
                    $"api/users/{Uri.EscapeDataString(context.Parse.GetValue(target)!)}/{verb}", null, CairnJson.Default.Account, ct))));
            command.Subcommands.Add(change);
        }

        var user = new Argument<string>("name") { Description = "The user" };
        var passwd = new Command("passwd", "Set a user's password (for the web UI and HTTP Basic), read as one line from standard input") { user };
        static string ReadPassword() =>
            System.Console.In.ReadLine() ?? throw CairnException.Invalid("No password on standard input: pipe it in, as in 'cairn users passwd alice < file'.");
        passwd.SetAction(app.Handler(
            async (context, ct) =>
            {
                await context.Get<IdentityService>().SetPasswordAsync(context.Parse.GetValue(user), ReadPassword(), ct);
                context.Console.Out.MarkupLineInterpolated($"Set the password of [bold]{context.Parse.GetValue(user)}[/].");
                return 0;
            },
            async (context, ct) =>
            {
                await context.Remote.SendAsync(HttpMethod.Put, $"api/users/{Uri.EscapeDataString(context.Parse.GetValue(user)!)}/password",
                    Json(new Server.Api.PasswordBody(ReadPassword()), Server.Api.ApiJson.Default.PasswordBody), ct);
                context.Console.Out.MarkupLineInterpolated($"Set the password of [bold]{context.Parse.GetValue(user)}[/].");
                return 0;
            }));
        command.Subcommands.Add(passwd);
        return command;
    }

    /// <summary><c>cairn groups create | delete | list | show | add | remove</c>.</summary>
    public static Command CreateGroups(CliApp app)
    {
        var command = new Command("groups", "Groups of users and service accounts; a role granted to a group applies to every member");

        var name = new Argument<string>("group") { Description = "The group" };
        var display = new Option<string?>("--display-name") { Description = "A longer name for people" };
        var create = new Command("create", "Create a group") { name, display };
        static int CreatedGroup(CommandContext context, Account group)
        {
            context.Console.Out.MarkupLineInterpolated($"Created group [bold]{group.Name}[/].");
            return 0;
        }

        create.SetAction(app.Handler(
            async (context, ct) => CreatedGroup(context, await context.Get<IdentityService>().CreateGroupAsync(context.Parse.GetValue(name), context.Parse.GetValue(display), ct)),
            async (context, ct) => CreatedGroup(context, await context.Remote.SendAsync(HttpMethod.Post, "api/groups",
                Json(new Server.Api.CreateGroupBody(context.Parse.GetValue(name), context.Parse.GetValue(display)), Server.Api.ApiJson.Default.CreateGroupBody),
                CairnJson.Default.Account, ct))));
        command.Subcommands.Add(create);

        var deleted = new Argument<string>("group") { Description = "The group" };
        var delete = new Command("delete", "Delete a group with its memberships and grants") { deleted };
        delete.SetAction(app.Handler(
            async (context, ct) =>
            {
                await context.Get<IdentityService>().DeleteGroupAsync(context.Parse.GetValue(deleted), ct);
                context.Console.Out.MarkupLineInterpolated($"Deleted group [bold]{context.Parse.GetValue(deleted)}[/].");
                return 0;
            },
            async (context, ct) =>
            {
                await context.Remote.SendAsync(HttpMethod.Delete, $"api/groups/{Uri.EscapeDataString(context.Parse.GetValue(deleted)!)}", null, ct);
                context.Console.Out.MarkupLineInterpolated($"Deleted group [bold]{context.Parse.GetValue(deleted)}[/].");
                return 0;
            }));
        command.Subcommands.Add(delete);

        var list = new Command("list", "List groups");
        list.SetAction(app.Handler(
            async (context, ct) => ListedGroups(context, await context.Get<IdentityService>().ListAsync(PrincipalKind.Group, ct)),
            async (context, ct) => ListedGroups(context, await context.Remote.GetAsync("api/groups", CairnJson.Default.IReadOnlyListAccount, ct))));
        command.Subcommands.Add(list);

        static int ListedGroups(CommandContext context, IReadOnlyList<Account> groups)
        {
            if (context.Json)
            {
                context.Console.WriteJson(groups, CairnJson.Readable.IReadOnlyListAccount);
                return 0;
            }

            var table = new Table().AddColumns("group", "display name", "created", "by");
            foreach (var g in groups)
            {
                table.AddRow(Markup.Escape(g.Name), Markup.Escape(g.DisplayName ?? ""), Format.Time(g.CreatedAt), Markup.Escape(g.CreatedBy));
            }

            context.Console.Out.Write(table);
            return 0;
        }

        foreach (var (verb, member) in new[] { ("add", true), ("remove", false) })
        {
            var group = new Argument<string>("group") { Description = "The group" };
            var principal = new Argument<string>("member") { Description = "A user or service account" };
            var change = new Command(verb, member ? "Add a user or service account to a group" : "Remove a member from a group") { group, principal };
            int Changed(CommandContext context)
            {
                context.Console.Out.MarkupLineInterpolated($"{(member ? "Added" : "Removed")} {context.Parse.GetValue(principal)} {(member ? "to" : "from")} {context.Parse.GetValue(group)}.");
                return 0;
            }

            change.SetAction(app.Handler(
                async (context, ct) =>
                {
                    await context.Get<IdentityService>().SetMembershipAsync(context.Parse.GetValue(group), context.Parse.GetValue(principal), member, ct);
                    return Changed(context);
                },
                async (context, ct) =>
                {
                    await context.Remote.SendAsync(member ? HttpMethod.Put : HttpMethod.Delete,
                        $"api/groups/{Uri.EscapeDataString(context.Parse.GetValue(group)!)}/members/{Uri.EscapeDataString(context.Parse.GetValue(principal)!)}", null, ct);
                    return Changed(context);
                }));
            command.Subcommands.Add(change);
        }

        return command;
    }

    /// <summary><c>cairn tokens create | list | revoke</c>.</summary>
    public static Command CreateTokens(CliApp app)
    {
        var command = new Command("tokens", "API tokens: 'Authorization: Bearer TOKEN' for scripts, CI and MLflow clients (MLFLOW_TRACKING_TOKEN)");

        var name = new Option<string>("--name") { Description = "What the token is for, such as ci (unique among the owner's live tokens)", Required = true };
        var user = new Option<string?>("--user") { Description = "Whose token (an administrator may make tokens for any account)" };
        var scope = new Option<string>("--scope")
        {
            Description = "The most it may do: predict (scoring only), read, write, all, or a role name",
            DefaultValueFactory = _ => "all",
        };
        var expires = new Option<string>("--expires") { Description = "How long it lives, such as 30d or 12h", DefaultValueFactory = _ => "90d" };
        var create = new Command("create", "Create a token; its secret is shown once and only its hash is kept") { name, user, scope, expires };
        create.SetAction(app.Handler(
            async (context, ct) =>
            {
                var lifetime = Durations.Parse(context.Parse.GetValue(expires)!, "--expires");
                var (token, secret) = await context.Get<IdentityService>().CreateTokenAsync(context.Parse.GetValue(user), context.Parse.GetValue(name),
                    context.Parse.GetValue(scope), lifetime, ct);
                return Issued(context, new IssuedToken(token, secret), lifetime);
            },
            async (context, ct) =>
            {
                var lifetime = Durations.Parse(context.Parse.GetValue(expires)!, "--expires");
                var body = new Server.Api.CreateTokenBody(context.Parse.GetValue(user), context.Parse.GetValue(name), context.Parse.GetValue(scope), context.Parse.GetValue(expires));
                return Issued(context, await context.Remote.SendAsync(HttpMethod.Post, "api/tokens",
                    System.Net.Http.Json.JsonContent.Create(body, Server.Api.ApiJson.Default.CreateTokenBody), CairnJson.Default.IssuedToken, ct), lifetime);
            }));
        command.Subcommands.Add(create);

        var listUser = new Option<string?>("--user") { Description = "Whose tokens (default: yours)" };
        var all = new Option<bool>("--all") { Description = "Everyone's tokens (administrators)" };
        var list = new Command("list", "List tokens, revoked and expired ones included") { listUser, all };
        list.SetAction(app.Handler(
            async (context, ct) => WriteTokens(context, await context.Get<IdentityService>().ListTokensAsync(context.Parse.GetValue(listUser), context.Parse.GetValue(all), ct),
                context.Get<TimeProvider>().GetUtcNow()),
            async (context, ct) => WriteTokens(context, await context.Remote.GetAsync(
                $"api/tokens?all={(context.Parse.GetValue(all) ? "true" : "false")}" + (context.Parse.GetValue(listUser) is { } u ? $"&user={Uri.EscapeDataString(u)}" : ""),
                CairnJson.Default.IReadOnlyListApiToken, ct), TimeProvider.System.GetUtcNow())));
        command.Subcommands.Add(list);

        var key = new Argument<string>("token") { Description = "The token's id, or its name among the owner's" };
        var revokeUser = new Option<string?>("--user") { Description = "Whose token, when naming it by name (default: yours)" };
        var revoke = new Command("revoke", "Revoke a token: every server refuses it within a second") { key, revokeUser };
        revoke.SetAction(app.Handler(
            async (context, ct) => Revoked(context, await context.Get<IdentityService>().RevokeTokenAsync(context.Parse.GetValue(revokeUser), context.Parse.GetValue(key), ct)),
            async (context, ct) => Revoked(context, await context.Remote.SendAsync(HttpMethod.Delete,
                $"api/tokens/{Uri.EscapeDataString(context.Parse.GetValue(key)!)}" + (context.Parse.GetValue(revokeUser) is { } u ? $"?user={Uri.EscapeDataString(u)}" : ""),
                null, CairnJson.Default.ApiToken, ct))));
        command.Subcommands.Add(revoke);
        return command;
    }

    private static int Issued(CommandContext context, IssuedToken issued, TimeSpan lifetime)
    {
        if (context.Json)
        {
            context.Console.WriteJson(issued, CairnJson.Readable.IssuedToken);
            return 0;
        }

        var token = issued.Token;
        context.Console.Out.MarkupLineInterpolated($"Created token [bold]{token.Name}[/] (id {token.Id}) for {token.Owner}, scope {TokenScopes.Name(token.Scope)}.");
        PrintSecret(context, issued.Secret, token.Name, lifetime);
        return 0;
    }

    private static int Revoked(CommandContext context, ApiToken token)
    {
        context.Console.Out.MarkupLineInterpolated($"Revoked token [bold]{token.Name}[/] (id {token.Id}) of {token.Owner}.");
        return 0;
    }

    private static int WriteTokens(CommandContext context, IReadOnlyList<ApiToken> tokens, DateTimeOffset now)
    {
        if (context.Json)
        {
            context.Console.WriteJson(tokens, CairnJson.Readable.IReadOnlyListApiToken);
            return 0;
        }

        var table = Format.Table(["id"], "id", "owner", "name", "scope", "created", "expires", "last used", "state");
        foreach (var t in tokens)
        {
            var state = t.RevokedAt is not null ? "[red]revoked[/]" : t.IsLive(now) ? "live" : "[yellow]expired[/]";
            table.AddRow(t.Id, Markup.Escape(t.Owner), Markup.Escape(t.Name), TokenScopes.Name(t.Scope), Format.Time(t.CreatedAt),
                t.ExpiresAt is { } e ? Format.Time(e) : "never", t.LastUsedAt is { } u ? Format.Time(u) : "-", state);
        }

        context.Console.Out.Write(table);
        return 0;
    }

    /// <summary><c>cairn grants set | remove | list</c>.</summary>
    public static Command CreateGrants(CliApp app)
    {
        var command = new Command("grants", "Roles held on resources: predict < viewer < editor < maintainer < admin; whoever creates a resource maintains it");

        var principal = new Argument<string>("principal") { Description = "A user, service account or group" };
        var role = new Argument<string>("role") { Description = "none, predict, viewer, editor, maintainer or admin" };
        var on = new Option<string>("--on")
        {
            Description = "global, experiment:ID, model:NAME, dataset:NAME or deployment:NAME",
            Required = true,
        };
        var set = new Command("set", "Grant a role on a resource (replacing the one held there)") { principal, role, on };
        set.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (resource, granted) = (ResourceRef.Parse(context.Parse.GetValue(on)!), Roles.Parse(context.Parse.GetValue(role)!));
                await context.Get<IdentityService>().GrantAsync(context.Parse.GetValue(principal), resource, granted, ct);
                context.Console.Out.MarkupLineInterpolated($"{context.Parse.GetValue(principal)} is now {Roles.Name(granted)} on {resource}.");
                return 0;
            },
            async (context, ct) =>
            {
                var (resource, granted) = (ResourceRef.Parse(context.Parse.GetValue(on)!), Roles.Parse(context.Parse.GetValue(role)!));
                await SendGrantAsync(context, context.Parse.GetValue(principal)!, Roles.Name(granted), resource, ct);
                context.Console.Out.MarkupLineInterpolated($"{context.Parse.GetValue(principal)} is now {Roles.Name(granted)} on {resource}.");
                return 0;
            }));
        command.Subcommands.Add(set);

        var removed = new Argument<string>("principal") { Description = "A user, service account or group" };
        var removeOn = new Option<string>("--on") { Description = "The resource", Required = true };
        var remove = new Command("remove", "Remove the role a principal holds on a resource") { removed, removeOn };
        remove.SetAction(app.Handler(
            async (context, ct) =>
            {
                var resource = ResourceRef.Parse(context.Parse.GetValue(removeOn)!);
                await context.Get<IdentityService>().GrantAsync(context.Parse.GetValue(removed), resource, Role.None, ct);
                context.Console.Out.MarkupLineInterpolated($"{context.Parse.GetValue(removed)} holds no role on {resource} now.");
                return 0;
            },
            async (context, ct) =>
            {
                var resource = ResourceRef.Parse(context.Parse.GetValue(removeOn)!);
                await SendGrantAsync(context, context.Parse.GetValue(removed)!, Roles.Name(Role.None), resource, ct);
                context.Console.Out.MarkupLineInterpolated($"{context.Parse.GetValue(removed)} holds no role on {resource} now.");
                return 0;
            }));
        command.Subcommands.Add(remove);

        var who = new Option<string?>("--principal") { Description = "Only this principal's grants" };
        var where = new Option<string?>("--on") { Description = "Only grants on this resource" };
        var list = new Command("list", "List grants") { who, where };
        list.SetAction(app.Handler(
            async (context, ct) =>
            {
                var resource = context.Parse.GetValue(where) is { } text ? ResourceRef.Parse(text) : null;
                return ListedGrants(context, await context.Get<IdentityService>().ListGrantsAsync(context.Parse.GetValue(who), resource, ct));
            },
            async (context, ct) =>
            {
                var query = string.Join('&', new[] { ("principal", context.Parse.GetValue(who)), ("on", context.Parse.GetValue(where)) }
                    .Where(q => q.Item2 is not null).Select(q => $"{q.Item1}={Uri.EscapeDataString(q.Item2!)}"));
                return ListedGrants(context, await context.Remote.GetAsync($"api/grants{(query.Length > 0 ? "?" + query : "")}", CairnJson.Default.IReadOnlyListGrant, ct));
            }));
        command.Subcommands.Add(list);
        return command;
    }

    private static Task SendGrantAsync(CommandContext context, string principal, string role, ResourceRef resource, CancellationToken cancellationToken) =>
        context.Remote.SendAsync(HttpMethod.Put, "api/grants", Json(new Server.Api.GrantBody(principal, role, resource.ToString()), Server.Api.ApiJson.Default.GrantBody),
            cancellationToken);

    private static System.Net.Http.Json.JsonContent Json<T>(T body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        System.Net.Http.Json.JsonContent.Create(body, type);

    private static int ListedGrants(CommandContext context, IReadOnlyList<Grant> grants)
    {
        if (context.Json)
        {
            context.Console.WriteJson(grants, CairnJson.Readable.IReadOnlyListGrant);
            return 0;
        }

        WriteGrants(context, grants);
        return 0;
    }

    private static void WriteGrants(CommandContext context, IReadOnlyList<Grant> grants)
    {
        if (grants.Count == 0)
        {
            context.Console.Out.MarkupLine("No grants.");
            return;
        }

        var table = new Table().AddColumns("resource", "principal", "role", "granted", "by");
        foreach (var g in grants)
        {
            table.AddRow(Markup.Escape(g.Resource.ToString()), Markup.Escape($"{g.Principal} ({Kind(g.PrincipalKind)})"), Roles.Name(g.Role), Format.Time(g.GrantedAt),
                Markup.Escape(g.GrantedBy));
        }

        context.Console.Out.Write(table);
    }

    private static void PrintSecret(CommandContext context, string secret, string name, TimeSpan lifetime)
    {
        var console = context.Console.Out;
        console.MarkupLineInterpolated($"Token '{name}', valid for {Durations.Format(lifetime)} — copy it now, it is not shown again:");
        // The secret alone on its line, as plain text, so it can be copied or piped whole.
        context.Console.RawOut.WriteLine(secret);
        console.MarkupLine("Use it as 'Authorization: Bearer TOKEN', MLFLOW_TRACKING_TOKEN, or the password of HTTP Basic.");
    }

    private static string Kind(PrincipalKind kind) => kind switch
    {
        PrincipalKind.User => "user",
        PrincipalKind.Service => "service account",
        _ => "group",
    };

}
