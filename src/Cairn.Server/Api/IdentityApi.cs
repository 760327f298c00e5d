using Cairn.Application.Identity;
using Cairn.Core;
using Cairn.Core.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Api;

/// <summary>
/// The identity a caller may manage from afar: their tokens (an administrator's, anyone's) and the grants they may see.
/// Accounts and groups are made where the store is (<c>cairn users</c>, <c>cairn groups</c>), as the first administrator must be.
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
    }
}
