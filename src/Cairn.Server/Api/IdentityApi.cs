using Cairn.Application.Identity;
using Cairn.Core;
using Cairn.Core.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Api;

/// <summary>
/// Accounts, groups, tokens and grants through a server: what <c>cairn users|groups|tokens|grants</c> call from a
/// laptop. The rules are the identity service's (administrators manage accounts; anyone their own tokens); only the
/// first administrator must be made where the store is.
/// </summary>
internal static class IdentityApi
{
    public static void MapIdentityApi(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup("/api/tokens").WithTags("Identity");
        tokens.MapGet("/", (string? user, bool? all, IdentityService service, CancellationToken ct) => service.ListTokensAsync(user, all ?? false, ct))
            .WithSummary("The caller's tokens (?user= another's, ?all=true everyone's: administrators), revoked and expired ones included.");
        tokens.MapPost("/", async (CreateTokenBody body, IdentityService service, CancellationToken ct) =>
        {
            var (token, secret) = await service.CreateTokenAsync(body.User, body.Name, body.Scope, body.Expires is { } expires ? Durations.Parse(expires, "expires") : null, ct);
            return Results.Created($"/api/tokens/{token.Id}", new IssuedToken(token, secret));
        }).WithSummary("Creates a token (for the caller unless an administrator names a user); its secret is in this answer only.");
        tokens.MapDelete("/{key}", (string key, string? user, IdentityService service, CancellationToken ct) => service.RevokeTokenAsync(user, key, ct))
            .WithSummary("Revokes a token by id, or by name among the caller's (or ?user='s); every server refuses it within a second.");

        app.MapGet("/api/grants", (string? principal, string? on, IdentityService service, CancellationToken ct) =>
            service.ListGrantsAsync(principal, on is null ? null : ResourceRef.Parse(on), ct))
            .WithTags("Identity").WithSummary("Grants the caller may see (?principal=, ?on=RESOURCE).");
        app.MapPut("/api/grants", async (GrantBody body, IdentityService service, CancellationToken ct) =>
        {
            await service.GrantAsync(body.Principal, ResourceRef.Parse(body.On ?? ""), Roles.Parse(body.Role ?? ""), ct);
            return Results.NoContent();
        }).WithTags("Identity").WithSummary("Grants a role on a resource (replacing the one held there; none removes it).");

        var users = app.MapGroup("/api/users").WithTags("Identity");
        users.MapGet("/", (IdentityService service, CancellationToken ct) => service.ListAsync(null, ct)).WithSummary("Users, service accounts and groups.");
        users.MapPost("/", async (CreateAccountBody body, IdentityService service, CancellationToken ct) =>
        {
            var (account, secret) = await service.CreateAccountAsync(body.Name, body.Service ? PrincipalKind.Service : PrincipalKind.User, body.DisplayName, body.Admin,
                Roles.Parse(body.Role ?? "viewer"), body.Token, ct);
            return Results.Created($"/api/users/{account.Name}", new Core.Identity.CreatedAccount(account, secret));
        }).WithSummary("Creates a user or service account, with its first token's secret in this answer only when asked for.");
        users.MapGet("/{name}", (string name, IdentityService service, CancellationToken ct) => service.GetAsync(name, ct)).WithSummary("An account with its groups.");
        users.MapPost("/{name}/disable", (string name, IdentityService service, CancellationToken ct) => service.SetDisabledAsync(name, true, ct))
            .WithSummary("Disables an account: its tokens and password stop working at once.");
        users.MapPost("/{name}/enable", (string name, IdentityService service, CancellationToken ct) => service.SetDisabledAsync(name, false, ct))
            .WithSummary("Enables a disabled account again.");
        users.MapPut("/{name}/password", async (string name, PasswordBody body, IdentityService service, CancellationToken ct) =>
        {
            await service.SetPasswordAsync(name, body.Password, ct);
            return Results.NoContent();
        }).WithSummary("Sets a user's password.");

        var groups = app.MapGroup("/api/groups").WithTags("Identity");
        groups.MapGet("/", (IdentityService service, CancellationToken ct) => service.ListAsync(PrincipalKind.Group, ct)).WithSummary("Groups.");
        groups.MapPost("/", async (CreateGroupBody body, IdentityService service, CancellationToken ct) =>
        {
            var group = await service.CreateGroupAsync(body.Name, body.DisplayName, ct);
            return Results.Created($"/api/groups/{group.Name}", group);
        }).WithSummary("Creates a group.");
        groups.MapDelete("/{name}", async (string name, IdentityService service, CancellationToken ct) =>
        {
            await service.DeleteGroupAsync(name, ct);
            return Results.NoContent();
        }).WithSummary("Deletes a group with its memberships and grants.");
        groups.MapPut("/{name}/members/{member}", async (string name, string member, IdentityService service, CancellationToken ct) =>
        {
            await service.SetMembershipAsync(name, member, true, ct);
            return Results.NoContent();
        }).WithSummary("Adds a user or service account to a group.");
        groups.MapDelete("/{name}/members/{member}", async (string name, string member, IdentityService service, CancellationToken ct) =>
        {
            await service.SetMembershipAsync(name, member, false, ct);
            return Results.NoContent();
        }).WithSummary("Removes a member from a group.");
    }
}
