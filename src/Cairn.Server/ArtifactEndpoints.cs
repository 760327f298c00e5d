using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Runs;
using Cairn.Server.Mlflow;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server;

/// <summary>
/// Run artifacts over HTTP: Cairn's own <c>/api/runs/{id}/artifacts</c>, MLflow's <c>artifacts/list</c>, and MLflow's
/// artifact proxy (<c>/api/2.0/mlflow-artifacts/artifacts/EXPERIMENT/RUN/artifacts/PATH</c>) that MLflow clients
/// upload to and download from when a run's artifact URI is <c>mlflow-artifacts:/</c>.
/// </summary>
internal static class ArtifactEndpoints
{
    public static void MapArtifacts(this IEndpointRouteBuilder app)
    {
        var runs = app.MapGroup("/api/runs/{id}/artifacts").WithTags("Runs");
        runs.MapGet("/", (string id, string? path, RunArtifacts artifacts, CancellationToken ct) => artifacts.ListAsync(id, path, ct))
            .WithSummary("The files and directories directly under path (the root when absent) of a run's artifacts.");
        runs.MapPut("/{**path}", async (string id, string path, HttpContext http, RunArtifacts artifacts, CairnServerOptions options) =>
        {
            var artifact = await UploadAsync(http, options, id, path, artifacts);
            return Results.Created($"/api/runs/{id}/artifacts/{artifact.Path}", artifact);
        }).WithSummary("Uploads the request body as the run's file at path, replacing what was there.");
        runs.MapGet("/{**path}", (string id, string path, RunArtifacts artifacts, CancellationToken ct) => DownloadAsync(id, path, artifacts, ct))
            .WithSummary("Downloads one of the run's files; its content is verified against its hash as it is sent.");
        runs.MapDelete("/{**path}", async (string id, string path, RunArtifacts artifacts, CancellationToken ct) =>
        {
            await artifacts.DeleteAsync(id, path, ct);
            return Results.NoContent();
        }).WithSummary("Removes the run's file at path, or everything under it.");

        app.MapGet(MlflowEndpoints.Prefix + "/artifacts/list", async (HttpContext http, RunService runService, RunArtifacts artifacts) =>
        {
            var query = http.Request.Query;
            var runId = query["run_id"].ToString() is { Length: > 0 } given ? given : query["run_uuid"].ToString();
            var run = await runService.GetAsync(runId, http.RequestAborted);
            var path = query["path"].ToString();
            var entries = await artifacts.ListAsync(run.Id, path, http.RequestAborted);
            return Results.Json(new ListArtifactsResponse(MlflowEndpoints.ArtifactUri(run), [.. entries.Select(ToMessage)]),
                MlflowJson.Default.ListArtifactsResponse);
        });

        var proxy = app.MapGroup("/api/2.0/mlflow-artifacts/artifacts");
        proxy.MapGet("/", async (HttpContext http, RunArtifacts artifacts, RunService runService) =>
        {
            var (runId, path) = await ProxyPathAsync(http.Request.Query["path"].ToString(), runService, http.RequestAborted, allowRoot: true);
            var entries = await artifacts.ListAsync(runId, path, http.RequestAborted);
            // The proxy lists paths relative to the directory asked about, as MLflow's artifact server does.
            var prefix = string.IsNullOrEmpty(path) ? "" : path.TrimEnd('/') + "/";
            return Results.Json(new ProxyListResponse([.. entries.Select(e => ToMessage(e) with { Path = e.Path[prefix.Length..] })]),
                MlflowJson.Default.ProxyListResponse);
        });
        proxy.MapPut("/{**path}", async (string path, HttpContext http, RunArtifacts artifacts, RunService runService, CairnServerOptions options) =>
        {
            var (runId, file) = await ProxyPathAsync(path, runService, http.RequestAborted, allowRoot: false);
            await UploadAsync(http, options, runId, file, artifacts);
            return Results.Json(new EmptyResponse(), MlflowJson.Default.EmptyResponse);
        });
        proxy.MapGet("/{**path}", async (string path, HttpContext http, RunArtifacts artifacts, RunService runService) =>
        {
            var (runId, file) = await ProxyPathAsync(path, runService, http.RequestAborted, allowRoot: false);
            return await DownloadAsync(runId, file, artifacts, http.RequestAborted);
        });
        proxy.MapDelete("/{**path}", async (string path, HttpContext http, RunArtifacts artifacts, RunService runService) =>
        {
            var (runId, file) = await ProxyPathAsync(path, runService, http.RequestAborted, allowRoot: false);
            await artifacts.DeleteAsync(runId, file, http.RequestAborted);
            return Results.Json(new EmptyResponse(), MlflowJson.Default.EmptyResponse);
        });
    }

    private static async Task<RunArtifact> UploadAsync(HttpContext http, CairnServerOptions options, string runId, string? path, RunArtifacts artifacts)
    {
        Uploads.Limit(http, options.MaxArtifactBytes, "artifact upload", "--max-artifact-mib");
        return await artifacts.LogAsync(runId, path, http.Request.Body, http.RequestAborted);
    }

    private static async Task<IResult> DownloadAsync(string runId, string? path, RunArtifacts artifacts, CancellationToken cancellationToken)
    {
        var (artifact, content) = await artifacts.OpenAsync(runId, path, cancellationToken);
        return Results.Stream(content, "application/octet-stream", fileDownloadName: null, lastModified: null,
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{artifact.ContentHash.Hex}\""));
    }

    // Proxy paths are EXPERIMENT/RUN/artifacts[/PATH]: the layout of the artifact URIs Cairn hands MLflow clients.
    private static async Task<(string RunId, string? Path)> ProxyPathAsync(string path, RunService runService, CancellationToken cancellationToken, bool allowRoot)
    {
        var parts = path.Trim('/').Split('/', 4);
        if (parts.Length < 3 || parts[2] != "artifacts" || (!allowRoot && parts.Length < 4))
        {
            throw CairnException.NotFound($"'{path}' is not an artifact path this server holds; they look like EXPERIMENT_ID/RUN_ID/artifacts/PATH.");
        }

        var run = await runService.GetAsync(parts[1], cancellationToken);
        if (run.ExperimentId != parts[0])
        {
            throw CairnException.NotFound($"Run {run.Id} is not in experiment '{parts[0]}'.");
        }

        return (run.Id, parts.Length == 4 ? parts[3] : null);
    }

    private static FileInfoMessage ToMessage(ArtifactEntry entry) => new(entry.Path, entry.IsDirectory, entry.SizeBytes);
}
