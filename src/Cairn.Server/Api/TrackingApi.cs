using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Api;

/// <summary>Cairn's own tracking API under <c>/api/</c>: experiments, runs, logging, search and metric history.</summary>
internal static class TrackingApi
{
    public static void MapTrackingApi(this IEndpointRouteBuilder app)
    {
        var experiments = app.MapGroup("/api/experiments").WithTags("Experiments");
        experiments.MapGet("/", async (ExperimentService service, bool? includeDeleted, string? filter, string[]? orderBy, int? maxResults, string? pageToken,
            CancellationToken ct) =>
        {
            var (page, next) = await service.SearchAsync(includeDeleted == true ? null : LifecycleStage.Active, filter, orderBy, maxResults ?? 1000, pageToken, ct);
            return new ExperimentPage(page, next);
        }).WithSummary("Lists experiments matching a filter such as \"name LIKE 'fraud%'\", by id unless orderBy says otherwise.");
        experiments.MapPost("/", async (CreateExperimentBody body, ExperimentService service, CancellationToken ct) =>
        {
            var created = await service.CreateAsync(body.Name, null, [.. body.Tags ?? []], ct);
            return Results.Created($"/api/experiments/{created.Id}", created);
        }).WithSummary("Creates an experiment with a unique name.");
        experiments.MapGet("/{id}", (string id, ExperimentService service, CancellationToken ct) => service.GetAsync(id, ct))
            .WithSummary("Gets an experiment.");

        var runs = app.MapGroup("/api/runs").WithTags("Runs");
        runs.MapGet("/", (int? limit, RunService service, CancellationToken ct) => service.ListAsync(limit ?? 20, ct))
            .WithSummary("The newest runs (limit, default 20) of every experiment the caller may read, newest first.");
        runs.MapPost("/", async (CreateRunBody body, RunService service, CancellationToken ct) =>
        {
            var run = await service.CreateAsync(body.ExperimentId, body.Name, null, null, [.. body.Tags ?? []], body.ParentRunId, ct);
            return Results.Created($"/api/runs/{run.Id}", run);
        }).WithSummary("Starts a run, optionally nested under a parent run.");
        runs.MapGet("/{id}", async (string id, RunService service, CancellationToken ct) => await service.GetAsync(await service.ResolveIdAsync(id, ct), ct))
            .WithSummary("Gets a run (its id, or a unique start of it) with its params, tags, latest metrics, inputs and artifacts.");
        runs.MapPatch("/{id}", (string id, UpdateRunBody body, RunService service, CancellationToken ct) =>
            service.UpdateAsync(id, body.Status, body.EndTime is { } end ? DateTimeOffset.FromUnixTimeMilliseconds(end) : null, body.Name, ct))
            .WithSummary("Changes a run's status, end time or name; a terminal status without an end time ends it now.");
        runs.MapDelete("/{id}", async (string id, RunService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(id, ct);
            return Results.NoContent();
        }).WithSummary("Deletes a run (restorable).");
        runs.MapPost("/{id}/restore", async (string id, RunService service, CancellationToken ct) =>
        {
            await service.RestoreAsync(id, ct);
            return Results.NoContent();
        }).WithSummary("Restores a deleted run.");
        runs.MapPost("/{id}/log", async (string id, LogBody body, RunService service, TimeProvider time, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            var metrics = (body.Metrics ?? []).Select(m => new Metric(m.Key, m.Value, m.Step ?? 0,
                m.Timestamp is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : now)).ToList();
            await service.LogBatchAsync(id, metrics, [.. body.Params ?? []], [.. body.Tags ?? []], body.BatchId, ct);
            return Results.NoContent();
        }).WithSummary("Logs metrics, params (write-once) and tags in one transaction, within MLflow's limits.");
        runs.MapPost("/{id}/inputs", async (string id, InputsBody body, RunService service, CancellationToken ct) =>
        {
            var inputs = (body.Datasets ?? []).Select((d, i) => d ?? throw CairnException.Invalid($"datasets[{i}] is null.")).Select(d => d.Version is { } version && d.Source is null
                ? RunInput.OfDatasetVersion(d.Name ?? "", version, d.Context ?? "")
                : new RunInput(d.Name ?? "", d.Version, d.Context ?? "") { Digest = d.Digest ?? "", SourceType = d.SourceType ?? "", Source = d.Source ?? "" });
            await service.LogInputsAsync(id, [.. inputs], ct);
            return Results.NoContent();
        }).WithSummary("Records datasets the run read: Cairn dataset versions by name and version, or any dataset by name, digest and source.");
        runs.MapPost("/search", async (SearchRunsBody body, RunService service, CancellationToken ct) =>
        {
            var (page, next) = await service.SearchAsync(body.ExperimentIds ?? [Experiment.DefaultId], body.Filter,
                body.IncludeDeleted == true ? null : LifecycleStage.Active, body.OrderBy ?? [], body.MaxResults ?? 1000, body.PageToken, ct);
            return new RunPage(page, next);
        }).WithSummary("Searches runs with a filter such as \"metrics.auc > 0.9 and params.trainer = 'lightgbm'\".");
        runs.MapGet("/{id}/metrics/{key}", (string id, string key, RunService service, CancellationToken ct) => service.GetMetricHistoryAsync(id, key, ct))
            .WithSummary("Every point of one metric of a run, by step and time.");
        runs.MapGet("/{id}/metrics/{key}/summary", (string id, string key, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "max_points")] int? maxPoints,
            [Microsoft.AspNetCore.Mvc.FromQuery(Name = "from_step")] long? fromStep, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "to_step")] long? toStep,
            RunService service, CancellationToken ct) =>
            service.GetMetricSummaryAsync(id, key, maxPoints ?? 1000, fromStep, toStep, ct))
            .WithSummary("One metric's history (or the steps from from_step to to_step) in at most max_points step ranges (default 1000), each with its min, max, last value and count.");

        var lineage = app.MapGroup("/api/lineage").WithTags("Lineage");
        lineage.MapGet("/predictions/{**id}", (string id, LineageService service, CancellationToken ct) => service.OfPredictionAsync(id, ct))
            .WithSummary("One logged prediction back to its deployment, model version, run, dataset versions, file hashes and git commit.");
        lineage.MapGet("/{**node}", (string node, LineageService service, CancellationToken ct) => service.GraphAsync(node, ct))
            .WithSummary("The graph around any node, named KIND:ID (dataset:adult@2, run:ID, model:adult/3, deployment:NAME, file:SHA256, code:COMMIT).");
    }
}
