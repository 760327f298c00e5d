using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.Mlflow.MlflowEndpoints;

namespace Cairn.Server.Mlflow;

/// <summary>
/// MLflow's model registry REST API: registered models, model versions, tags, stages and aliases, with the HTTP
/// methods MLflow's own server uses (GET reads take query parameters; writes take a JSON body, DELETE included).
/// </summary>
internal static class MlflowRegistryEndpoints
{
    public static void MapMlflowRegistry(this IEndpointRouteBuilder api)
    {
        api.MapPost("/registered-models/create", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.CreateRegisteredModelRequest);
            var model = await registry.CreateModelAsync(request.Name, request.Description, Tags(request.Tags), http.RequestAborted);
            return Ok(new RegisteredModelResponse(ToMessage(model)), MlflowJson.Default.RegisteredModelResponse);
        });
        api.MapGet("/registered-models/get", async (HttpContext http, ModelRegistry registry) =>
            Ok(new RegisteredModelResponse(ToMessage(await registry.GetModelAsync(Query(http, "name"), http.RequestAborted))),
                MlflowJson.Default.RegisteredModelResponse));
        api.MapGet("/registered-models/search", async (HttpContext http, ModelRegistry registry) =>
        {
            var (page, next) = await registry.SearchModelsAsync(Query(http, "filter"), OrderBy(http), MaxResults(http, 100), Query(http, "page_token"),
                http.RequestAborted);
            return Ok(new SearchRegisteredModelsResponse([.. page.Select(ToMessage)], next), MlflowJson.Default.SearchRegisteredModelsResponse);
        });
        api.MapMethods("/registered-models/rename", ["POST", "PATCH"], async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.RenameRegisteredModelRequest);
            await registry.RenameModelAsync(request.Name, request.NewName, http.RequestAborted);
            return Ok(new RegisteredModelResponse(ToMessage(await registry.GetModelAsync(request.NewName, http.RequestAborted))),
                MlflowJson.Default.RegisteredModelResponse);
        });
        api.MapPatch("/registered-models/update", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.UpdateRegisteredModelRequest);
            await registry.UpdateModelAsync(request.Name, request.Description, http.RequestAborted);
            return Ok(new RegisteredModelResponse(ToMessage(await registry.GetModelAsync(request.Name, http.RequestAborted))),
                MlflowJson.Default.RegisteredModelResponse);
        });
        api.MapDelete("/registered-models/delete", async (HttpContext http, ModelRegistry registry) =>
        {
            await registry.DeleteModelAsync((await ReadVersionRequestAsync(http)).Name, http.RequestAborted);
            return Empty();
        });
        api.MapPost("/registered-models/set-tag", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadVersionRequestAsync(http);
            await registry.SetTagAsync(request.Name, null, request.Key, request.Value, http.RequestAborted);
            return Empty();
        });
        api.MapDelete("/registered-models/delete-tag", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadVersionRequestAsync(http);
            await registry.DeleteTagAsync(request.Name, null, request.Key, http.RequestAborted);
            return Empty();
        });
        api.MapMethods("/registered-models/get-latest-versions", ["POST", "GET"], async (HttpContext http, ModelRegistry registry) =>
        {
            var request = HttpMethods.IsGet(http.Request.Method)
                ? new GetLatestVersionsRequest(Query(http, "name"), [.. http.Request.Query["stages"].OfType<string>()])
                : await ReadAsync(http, MlflowJson.Default.GetLatestVersionsRequest);
            var versions = await registry.GetLatestVersionsAsync(request.Name, request.Stages, http.RequestAborted);
            return Ok(new ModelVersionsResponse([.. versions.Select(ToMessage)], null), MlflowJson.Default.ModelVersionsResponse);
        });
        api.MapPost("/registered-models/alias", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadVersionRequestAsync(http);
            await registry.SetAliasAsync(request.Name, request.Alias, ModelRegistry.ParseVersion(request.Version), http.RequestAborted);
            return Empty();
        });
        api.MapDelete("/registered-models/alias", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadVersionRequestAsync(http);
            await registry.DeleteAliasAsync(request.Name, request.Alias, http.RequestAborted);
            return Empty();
        });
        api.MapGet("/registered-models/alias", async (HttpContext http, ModelRegistry registry) =>
            Ok(new ModelVersionResponse(ToMessage(await registry.GetByAliasAsync(Query(http, "name"), Query(http, "alias"), http.RequestAborted))),
                MlflowJson.Default.ModelVersionResponse));

        api.MapPost("/model-versions/create", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.CreateModelVersionRequest);
            var version = await registry.CreateVersionAsync(request.Name, request.Source, request.RunId, request.RunLink, request.Description, Tags(request.Tags),
                http.RequestAborted);
            return Ok(new ModelVersionResponse(ToMessage(version)), MlflowJson.Default.ModelVersionResponse);
        });
        api.MapGet("/model-versions/get", async (HttpContext http, ModelRegistry registry) =>
            Ok(new ModelVersionResponse(ToMessage(await registry.GetVersionAsync(Query(http, "name"), ModelRegistry.ParseVersion(Query(http, "version")),
                http.RequestAborted))), MlflowJson.Default.ModelVersionResponse));
        api.MapGet("/model-versions/search", async (HttpContext http, ModelRegistry registry) =>
        {
            var (page, next) = await registry.SearchVersionsAsync(Query(http, "filter"), OrderBy(http), MaxResults(http, 10_000), Query(http, "page_token"),
                http.RequestAborted);
            return Ok(new ModelVersionsResponse([.. page.Select(ToMessage)], next), MlflowJson.Default.ModelVersionsResponse);
        });
        api.MapPatch("/model-versions/update", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadVersionRequestAsync(http);
            var number = ModelRegistry.ParseVersion(request.Version);
            await registry.UpdateVersionAsync(request.Name, number, request.Description, http.RequestAborted);
            return Ok(new ModelVersionResponse(ToMessage(await registry.GetVersionAsync(request.Name, number, http.RequestAborted))),
                MlflowJson.Default.ModelVersionResponse);
        });
        api.MapPost("/model-versions/transition-stage", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadVersionRequestAsync(http);
            var version = await registry.TransitionStageAsync(request.Name, ModelRegistry.ParseVersion(request.Version), RegistryNames.ParseStage(request.Stage),
                request.ArchiveExistingVersions ?? false, http.RequestAborted);
            return Ok(new ModelVersionResponse(ToMessage(version)), MlflowJson.Default.ModelVersionResponse);
        });
        api.MapDelete("/model-versions/delete", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadVersionRequestAsync(http);
            await registry.DeleteVersionAsync(request.Name, ModelRegistry.ParseVersion(request.Version), http.RequestAborted);
            return Empty();
        });
        api.MapPost("/model-versions/set-tag", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadVersionRequestAsync(http);
            await registry.SetTagAsync(request.Name, ModelRegistry.ParseVersion(request.Version), request.Key, request.Value, http.RequestAborted);
            return Empty();
        });
        api.MapDelete("/model-versions/delete-tag", async (HttpContext http, ModelRegistry registry) =>
        {
            var request = await ReadVersionRequestAsync(http);
            await registry.DeleteTagAsync(request.Name, ModelRegistry.ParseVersion(request.Version), request.Key, http.RequestAborted);
            return Empty();
        });
        api.MapGet("/model-versions/get-download-uri", async (HttpContext http, ModelRegistry registry, RunService runs) =>
        {
            var version = await registry.GetVersionAsync(Query(http, "name"), ModelRegistry.ParseVersion(Query(http, "version")), http.RequestAborted);
            return Ok(new DownloadUriResponse(await DownloadUriAsync(version, runs, http.RequestAborted)), MlflowJson.Default.DownloadUriResponse);
        });
    }

    // DELETE requests carry a JSON body from MLflow's clients; query parameters are accepted too, as some clients send them.
    private static async Task<ModelVersionRequest> ReadVersionRequestAsync(HttpContext http)
    {
        var body = await ReadAsync(http, MlflowJson.Default.ModelVersionRequest);
        return body with
        {
            Name = body.Name ?? Query(http, "name"),
            Version = body.Version ?? Query(http, "version"),
            Key = body.Key ?? Query(http, "key"),
            Alias = body.Alias ?? Query(http, "alias"),
        };
    }

    private static List<string> OrderBy(HttpContext http) => [.. http.Request.Query["order_by"].OfType<string>()];

    private static int MaxResults(HttpContext http, int fallback)
    {
        var text = Query(http, "max_results");
        return text is null ? fallback
            : long.TryParse(text, out var value) ? MlflowEndpoints.MaxResults(value, fallback)
            : throw CairnException.Invalid($"max_results '{text}' is not a number.");
    }

    // A version registered from a run's artifacts is downloaded through the artifact proxy, as MLflow resolves runs:/ URIs.
    private static async Task<string> DownloadUriAsync(ModelVersion version, RunService runs, CancellationToken cancellationToken)
    {
        const string RunsScheme = "runs:/";
        if (!version.Source.StartsWith(RunsScheme, StringComparison.Ordinal) || version.RunId is null)
        {
            return version.Source;
        }

        var run = await runs.GetAsync(version.RunId, cancellationToken);
        var path = version.Source[RunsScheme.Length..].Split('/', 2) is [_, var rest] ? "/" + rest : "";
        return ArtifactUri(run) + path;
    }

    private static ModelVersionMessage ToMessage(ModelVersion v) => new(
        v.Model, v.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), v.CreatedAt.ToUnixTimeMilliseconds(), v.UpdatedAt.ToUnixTimeMilliseconds(),
        v.User, RegistryNames.Of(v.Stage), v.Description, v.Source, v.RunId, RegistryNames.Of(v.Status), v.StatusMessage,
        [.. v.Tags.Select(t => new KeyValue(t.Key, t.Value))], v.RunLink, [.. v.Aliases]);

    private static RegisteredModelMessage ToMessage(RegisteredModel m) => new(
        m.Name, m.CreatedAt.ToUnixTimeMilliseconds(), m.UpdatedAt.ToUnixTimeMilliseconds(), m.User, m.Description, [.. m.LatestVersions.Select(ToMessage)],
        [.. m.Tags.Select(t => new KeyValue(t.Key, t.Value))],
        [.. m.Aliases.Select(a => new RegisteredModelAliasMessage(a.Key, a.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)))]);
}
