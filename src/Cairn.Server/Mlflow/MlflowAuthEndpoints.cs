using Cairn.Application.Identity;
using Cairn.Core;
using Cairn.Core.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.Mlflow.MlflowEndpoints;

namespace Cairn.Server.Mlflow;

/// <summary>
/// MLflow's authentication REST API (users, experiment and registered-model permissions) over Cairn's identities and
/// grants, so MLflow's admin scripts work: READ is viewer, USE predict, EDIT editor, MANAGE maintainer. Users made
/// here get viewer everywhere, as MLflow's default permission is READ; deleting a user disables it, keeping its history.
/// </summary>
internal static class MlflowAuthEndpoints
{
    public static void MapMlflowAuth(this IEndpointRouteBuilder api)
    {
        api.MapPost("/users/create", async (HttpContext http, IdentityService identities) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.UserRequest);
            var name = Required(request.Username, "username");
            var password = Required(request.Password, "password");
            await identities.CreateAccountAsync(name, PrincipalKind.User, null, isAdmin: false, Role.Viewer, withToken: false, http.RequestAborted);
            await identities.SetPasswordAsync(name, password, http.RequestAborted);
            return Ok(new UserResponse(await UserAsync(identities, name, http)), MlflowJson.Default.UserResponse);
        });
        api.MapGet("/users/get", async (HttpContext http, IdentityService identities) =>
            Ok(new UserResponse(await UserAsync(identities, Required(Query(http, "username"), "username"), http)), MlflowJson.Default.UserResponse));
        api.MapPatch("/users/update-password", async (HttpContext http, IdentityService identities) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.UserRequest);
            await identities.SetPasswordAsync(Required(request.Username, "username"), Required(request.Password, "password"), http.RequestAborted);
            return Empty();
        });
        api.MapPatch("/users/update-admin", async (HttpContext http, IdentityService identities) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.UserRequest);
            await identities.SetAdminAsync(Required(request.Username, "username"),
                request.IsAdmin ?? throw CairnException.Invalid("is_admin is missing."), http.RequestAborted);
            return Empty();
        });
        api.MapDelete("/users/delete", async (HttpContext http, IdentityService identities) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.UserRequest);
            await identities.SetDisabledAsync(Required(request.Username, "username"), disabled: true, http.RequestAborted);
            return Empty();
        });

        MapPermissions(api, "/experiments/permissions", r => ResourceRef.Experiment(Required(r.ExperimentId, "experiment_id")),
            http => new PermissionRequest(Query(http, "experiment_id"), null, Query(http, "username"), null),
            (grant, userId) => Ok(new ExperimentPermissionResponse(new ExperimentPermissionMessage(grant.Resource.Id, userId, Permission(grant.Role))),
                MlflowJson.Default.ExperimentPermissionResponse));
        MapPermissions(api, "/registered-models/permissions", r => ResourceRef.Model(Required(r.Name, "name")),
            http => new PermissionRequest(null, Query(http, "name"), Query(http, "username"), null),
            (grant, userId) => Ok(new RegisteredModelPermissionResponse(new RegisteredModelPermissionMessage(grant.Resource.Id, userId, Permission(grant.Role))),
                MlflowJson.Default.RegisteredModelPermissionResponse));
    }

    // create/get/update/delete of one user's permission on one resource, as MLflow has them for experiments and models.
    private static void MapPermissions(IEndpointRouteBuilder api, string prefix, Func<PermissionRequest, ResourceRef> resourceOf,
        Func<HttpContext, PermissionRequest> fromQuery, Func<Grant, long, IResult> answer)
    {
        api.MapPost($"{prefix}/create", async (HttpContext http, IdentityService identities) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.PermissionRequest);
            var (resource, user) = (resourceOf(request), Required(request.Username, "username"));
            if (await FindAsync(identities, user, resource, http) is not null)
            {
                throw new CairnException(ErrorCode.AlreadyExists, $"{user} already has a permission on {resource}; update it instead.");
            }

            await identities.GrantAsync(user, resource, ParsePermission(request.Permission), http.RequestAborted);
            var grant = await FindAsync(identities, user, resource, http)
                ?? throw CairnException.Invalid("NO_PERMISSIONS grants nothing; there is no permission to create.");
            return answer(grant, (await identities.GetAsync(user, http.RequestAborted)).Id);
        });
        api.MapGet($"{prefix}/get", async (HttpContext http, IdentityService identities) =>
        {
            var request = fromQuery(http);
            var (resource, user) = (resourceOf(request), Required(request.Username, "username"));
            var grant = await FindAsync(identities, user, resource, http) ?? throw NoPermission(user, resource);
            return answer(grant, (await identities.GetAsync(user, http.RequestAborted)).Id);
        });
        api.MapPatch($"{prefix}/update", async (HttpContext http, IdentityService identities) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.PermissionRequest);
            var (resource, user) = (resourceOf(request), Required(request.Username, "username"));
            _ = await FindAsync(identities, user, resource, http) ?? throw NoPermission(user, resource);
            await identities.GrantAsync(user, resource, ParsePermission(request.Permission), http.RequestAborted);
            return Empty();
        });
        api.MapDelete($"{prefix}/delete", async (HttpContext http, IdentityService identities) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.PermissionRequest);
            var (resource, user) = (resourceOf(request), Required(request.Username, "username"));
            _ = await FindAsync(identities, user, resource, http) ?? throw NoPermission(user, resource);
            await identities.GrantAsync(user, resource, Role.None, http.RequestAborted);
            return Empty();
        });
    }

    private static async Task<UserMessage> UserAsync(IdentityService identities, string name, HttpContext http)
    {
        var account = await identities.GetAsync(name, http.RequestAborted);
        var grants = await identities.ListGrantsAsync(name, null, http.RequestAborted);
        return new UserMessage(account.Id, account.Name, account.IsAdmin,
            [.. grants.Where(g => g.Resource.Kind == ResourceKind.Experiment).Select(g => new ExperimentPermissionMessage(g.Resource.Id, account.Id, Permission(g.Role)))],
            [.. grants.Where(g => g.Resource.Kind == ResourceKind.Model).Select(g => new RegisteredModelPermissionMessage(g.Resource.Id, account.Id, Permission(g.Role)))]);
    }

    private static async Task<Grant?> FindAsync(IdentityService identities, string user, ResourceRef resource, HttpContext http) =>
        (await identities.ListGrantsAsync(user, resource, http.RequestAborted)).FirstOrDefault(g => g.Principal == user);

    private static CairnException NoPermission(string user, ResourceRef resource) =>
        CairnException.NotFound($"{user} has no permission of its own on {resource} (roles held globally or through groups still apply).");

    private static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw CairnException.Invalid($"{field} is missing.") : value;

    private static string Permission(Role role) => role switch
    {
        Role.Predict => "USE",
        Role.Viewer => "READ",
        Role.Editor => "EDIT",
        Role.None => "NO_PERMISSIONS",
        _ => "MANAGE",
    };

    private static Role ParsePermission(string? text) => text switch
    {
        "READ" => Role.Viewer,
        "USE" => Role.Predict,
        "EDIT" => Role.Editor,
        "MANAGE" => Role.Maintainer,
        "NO_PERMISSIONS" => Role.None,
        _ => throw CairnException.Invalid($"permission '{text}' is not READ, USE, EDIT, MANAGE or NO_PERMISSIONS."),
    };
}
