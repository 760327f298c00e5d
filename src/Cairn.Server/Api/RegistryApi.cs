using Cairn.Application;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Ports;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Api;

/// <summary>Cairn's own registry API under <c>/api/models</c> and <c>/api/model-versions</c>, and the audit log under <c>/api/events</c>.</summary>
internal static class RegistryApi
{
    public static void MapRegistryApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/models").WithTags("Models");
        models.MapGet("/", async (ModelRegistry registry, string? filter, string[]? orderBy, int? maxResults, string? pageToken, CancellationToken ct) =>
        {
            var (page, next) = await registry.SearchModelsAsync(filter, orderBy, maxResults ?? 100, pageToken, ct);
            return new ModelPage(page, next);
        }).WithSummary("Lists registered models matching a filter such as \"name LIKE 'fraud%' AND tags.team = 'risk'\", by name unless orderBy says otherwise.");
        models.MapPost("/", async (CreateModelBody body, ModelRegistry registry, CancellationToken ct) =>
        {
            var model = await registry.CreateModelAsync(body.Name, body.Description, [.. body.Tags ?? []], ct);
            return Results.Created($"/api/models/{model.Name}", model);
        }).WithSummary("Creates a registered model before its first version.");
        models.MapGet("/{name}", (string name, ModelRegistry registry, CancellationToken ct) => registry.GetModelAsync(name, ct))
            .WithSummary("Gets a registered model with its aliases, tags and newest version per stage.");
        models.MapPatch("/{name}", async (string name, UpdateModelBody body, ModelRegistry registry, CancellationToken ct) =>
        {
            if (body.Description is not null)
            {
                await registry.UpdateModelAsync(name, body.Description, ct);
            }

            if (body.Name is not null && body.Name != name)
            {
                await registry.RenameModelAsync(name, body.Name, ct);
            }

            return await registry.GetModelAsync(body.Name ?? name, ct);
        }).WithSummary("Changes a model's description or renames it; its versions, aliases and tags move with it.");
        models.MapDelete("/{name}", async (string name, ModelRegistry registry, CancellationToken ct) =>
        {
            await registry.DeleteModelAsync(name, ct);
            return Results.NoContent();
        }).WithSummary("Deletes a model with all its versions.");
        models.MapPut("/{name}/tags/{key}", async (string name, string key, TagBody body, ModelRegistry registry, CancellationToken ct) =>
        {
            await registry.SetTagAsync(name, null, key, body.Value, ct);
            return Results.NoContent();
        }).WithSummary("Sets a tag on a model.");
        models.MapDelete("/{name}/tags/{key}", async (string name, string key, ModelRegistry registry, CancellationToken ct) =>
        {
            await registry.DeleteTagAsync(name, null, key, ct);
            return Results.NoContent();
        }).WithSummary("Removes a tag from a model.");

        models.MapGet("/{name}/versions", (string name, ModelRegistry registry, CancellationToken ct) => registry.ListVersionsAsync(name, ct))
            .WithSummary("A model's versions, newest first.");
        models.MapPost("/{name}/import", async (string name, string? file, string? alias, string? task, string? label, string? classes, string? features,
            HttpContext http, ModelImporter importer, ModelLoader loader, CairnServerOptions options) =>
        {
            // Everything that can be checked without the body is checked before a byte of it is read.
            Names.Validate(name, "model");
            var importOptions = Core.Models.ImportOptions.Parse(task, label, classes, features);
            Uploads.Limit(http, options.MaxUploadBytes, "model file", "--max-upload-mib");

            // The file keeps its name (recorded as the import's source_file) in a folder of its own.
            var folder = Directory.CreateTempSubdirectory("cairn-import-");
            try
            {
                var path = Path.Combine(folder.FullName, string.IsNullOrWhiteSpace(Path.GetFileName(file)) ? "model.onnx" : Path.GetFileName(file)!);
                await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 128 * 1024, FileOptions.Asynchronous))
                {
                    await http.Request.Body.CopyToAsync(output, http.RequestAborted);
                }

                var version = await importer.ImportAsync(path, name, alias, importOptions, http.RequestAborted);
                version = await loader.RecordEngineAsync(version, http.RequestAborted);
                return Results.Created($"/api/models/{name}/versions/{version.Version}", version);
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        }).WithSummary("Registers a model trained elsewhere from the body (an ONNX graph, an XGBoost JSON model or a LightGBM text model; ?file= its name, ?alias=, ?task=, ?label=, ?classes=, ?features=).");
        models.MapPost("/{name}/versions", async (string name, CreateVersionBody body, ModelRegistry registry, ModelLoader loader, RunService runs,
            CancellationToken ct) =>
        {
            var version = body.Source is null && body.RunId is not null
                ? await loader.RecordEngineAsync(await registry.RegisterAsync(await runs.ResolveIdAsync(body.RunId, ct), name, body.Alias, ct), ct)
                : await registry.CreateVersionAsync(name, body.Source, body.RunId, body.RunLink, body.Description, [.. body.Tags ?? []], ct);
            if (body.Source is not null && body.Alias is not null)
            {
                await registry.SetAliasAsync(name, body.Alias, version.Version, ct);
                version = await registry.GetVersionAsync(name, version.Version, ct);
            }

            return Results.Created($"/api/models/{name}/versions/{version.Version}", version);
        }).WithSummary("Registers a Cairn run's model (run_id) as the next version, or a version from any source (source, of an existing model).");
        models.MapGet("/{name}/versions/{version:int}", (string name, int version, ModelRegistry registry, CancellationToken ct) =>
            registry.GetVersionAsync(name, version, ct)).WithSummary("Gets one version.");
        models.MapPatch("/{name}/versions/{version:int}", async (string name, int version, UpdateVersionBody body, ModelRegistry registry, CancellationToken ct) =>
        {
            if (body.Description is not null)
            {
                await registry.UpdateVersionAsync(name, version, body.Description, ct);
            }

            if (body.Stage is { } stage)
            {
                await registry.TransitionStageAsync(name, version, stage, body.ArchiveExistingVersions ?? false, ct);
            }

            return await registry.GetVersionAsync(name, version, ct);
        }).WithSummary("Changes a version's description or MLflow stage.");
        models.MapDelete("/{name}/versions/{version:int}", async (string name, int version, ModelRegistry registry, CancellationToken ct) =>
        {
            await registry.DeleteVersionAsync(name, version, ct);
            return Results.NoContent();
        }).WithSummary("Deletes one version and the aliases on it; its number is not reused.");
        models.MapPut("/{name}/versions/{version:int}/tags/{key}", async (string name, int version, string key, TagBody body, ModelRegistry registry,
            CancellationToken ct) =>
        {
            await registry.SetTagAsync(name, version, key, body.Value, ct);
            return Results.NoContent();
        }).WithSummary("Sets a tag on a version.");
        models.MapDelete("/{name}/versions/{version:int}/tags/{key}", async (string name, int version, string key, ModelRegistry registry, CancellationToken ct) =>
        {
            await registry.DeleteTagAsync(name, version, key, ct);
            return Results.NoContent();
        }).WithSummary("Removes a tag from a version.");

        models.MapGet("/{name}/aliases/{alias}", (string name, string alias, ModelRegistry registry, CancellationToken ct) =>
            registry.GetByAliasAsync(name, alias, ct)).WithSummary("The version an alias points to.");
        models.MapPut("/{name}/aliases/{alias}", async (string name, string alias, AliasBody body, ModelRegistry registry, CancellationToken ct) =>
        {
            await registry.SetAliasAsync(name, alias, body.Version ?? throw CairnException.Invalid("The body names no 'version' for the alias."), ct);
            return Results.NoContent();
        }).WithSummary("Points an alias ('latest' and 'v<N>' are reserved) at a version.");
        models.MapDelete("/{name}/aliases/{alias}", async (string name, string alias, ModelRegistry registry, CancellationToken ct) =>
        {
            await registry.DeleteAliasAsync(name, alias, ct);
            return Results.NoContent();
        }).WithSummary("Removes an alias.");

        app.MapGet("/api/model-versions", async (ModelRegistry registry, string? filter, string[]? orderBy, int? maxResults, string? pageToken,
            CancellationToken ct) =>
        {
            var (page, next) = await registry.SearchVersionsAsync(filter, orderBy, maxResults ?? 1000, pageToken, ct);
            return new VersionPage(page, next);
        }).WithTags("Models").WithSummary("Searches versions of every model with a filter such as \"name = 'fraud' AND tags.validated = 'yes'\".");

        app.MapGet("/api/events", (AuditLog log, [FromQuery] int? limit, [FromQuery] string? user, [FromQuery] string? kind, [FromQuery] string? since,
                [FromQuery] string? until, CancellationToken ct) =>
            log.ListAsync(new AuditQuery(limit ?? 100, user, kind, AuditQuery.ParseTime(since, "since"), AuditQuery.ParseTime(until, "until", upper: true)), ct))
            .WithTags("Events").WithSummary("The newest audit events first: who changed what, and when (?user=, ?kind= prefix such as model., ?since= and ?until= dates or timestamps).");
    }
}
