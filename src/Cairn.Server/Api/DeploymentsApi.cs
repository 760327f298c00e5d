using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Models;
using Cairn.Core.Monitoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Api;

/// <summary>
/// Deployments and monitors as stored (what every server serves and watches), and alerts: the API behind the CLI's
/// <c>deploy</c>, <c>deployments</c>, <c>monitors</c> and <c>alerts</c> through a server. What one server serves now
/// stays at <c>GET /api/deployments</c>; <c>?stored=true</c> asks for the stored definitions instead.
/// </summary>
internal static class DeploymentsApi
{
    public static void MapDeploymentsApi(this IEndpointRouteBuilder app)
    {
        var deployments = app.MapGroup("/api/deployments").WithTags("Deployments");
        deployments.MapPost("/{name}", async (string name, DeploymentSpec spec, DeploymentService service, CancellationToken ct) =>
        {
            var deployment = await service.CreateAsync(name, spec, ct);
            return Results.Created($"/api/deployments/{deployment.Name}", deployment);
        }).WithSummary("Creates a deployment: every model it names must resolve to a servable version.");
        deployments.MapPut("/{name}", async (string name, DeploymentSpec spec, int? revision, DeploymentService service, CancellationToken ct) =>
            Results.Ok(await service.UpdateAsync(name, _ => spec, revision, ct)))
            .WithSummary("Replaces a deployment's definition; with ?revision=N only if nobody changed it since revision N.");
        deployments.MapDelete("/{name}", async (string name, DeploymentService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(name, ct);
            return Results.NoContent();
        }).WithSummary("Deletes a deployment; servers stop serving it.");
        deployments.MapGet("/{name}/versions", async (string name, DeploymentService service, CancellationToken ct) =>
            Results.Ok(await service.ResolveAsync((await service.GetAsync(name, ct)).Spec, ct)))
            .WithSummary("The model versions a deployment's references (model, canary, shadow) resolve to now.");

        var monitors = app.MapGroup("/api/monitors").WithTags("Monitors");
        monitors.MapGet("/", (MonitorService service, CancellationToken ct) => service.ListAsync(ct)).WithSummary("Every monitor the caller may see.");
        monitors.MapGet("/{deployment}", (string deployment, MonitorService service, CancellationToken ct) => service.GetAsync(deployment, ct))
            .WithSummary("A deployment's monitor settings.");
        monitors.MapGet("/{deployment}/baseline", async (string deployment, MonitorService service, CancellationToken ct) =>
            Results.Ok(await service.BaselineAsync(await service.GetAsync(deployment, ct), ct)))
            .WithSummary("What live traffic is compared against: the reference's profile and the metrics the model scored on it.");
        monitors.MapPost("/{deployment}", async (string deployment, MonitorSpec spec, MonitorService service, CancellationToken ct) =>
        {
            var monitor = await service.CreateAsync(deployment, RefuseRemotePolicy(spec), ct);
            return Results.Created($"/api/monitors/{monitor.Deployment}", monitor);
        }).WithSummary("Monitors a deployment against a reference dataset version.");
        monitors.MapPut("/{deployment}", async (string deployment, MonitorSpec spec, MonitorService service, CancellationToken ct) =>
            Results.Ok(await service.UpdateAsync(deployment, RefuseRemotePolicy(spec), ct)))
            .WithSummary("Replaces a monitor's settings; the reference is scored again by the model served now.");
        monitors.MapDelete("/{deployment}", async (string deployment, MonitorService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(deployment, ct);
            return Results.NoContent();
        }).WithSummary("Deletes a monitor with its results and alerts.");
        monitors.MapGet("/{deployment}/windows", async (string deployment, MonitorService service, CancellationToken ct) =>
            Results.Ok(await service.ResultsAsync(deployment, null, null, ct))).WithSummary("A monitor's window results, oldest first.");
        monitors.MapPost("/{deployment}/evaluate", async (string deployment, [FromQuery(Name = "include_open")] bool? includeOpen, MonitorService service,
            CancellationToken ct) => Results.Ok(await service.EvaluateAsync(deployment, includeOpen ?? false, ct)))
            .WithSummary("Evaluates the windows that need it now, firing the alerts they break.");
        monitors.MapGet("/{deployment}/report", async (string deployment, MonitorService service, CancellationToken ct) =>
            Results.Ok(await service.ReportAsync(deployment, ct))).WithSummary("The monitor's report: drift over time, distributions, performance, alerts.");

        app.MapGet("/api/alerts", async (string? deployment, int? limit, MonitorService service, CancellationToken ct) =>
            Results.Ok(await service.AlertsAsync(deployment, Math.Clamp(limit ?? 50, 1, 1000), ct)))
            .WithTags("Monitors").WithSummary("Alerts, newest first, with their notification state.");
    }

    // A policy names a pipeline file by its path on the machine that runs it; a client's path means nothing on the server.
    private static MonitorSpec RefuseRemotePolicy(MonitorSpec spec) => spec.Policy is null ? spec
        : throw CairnException.Invalid("A monitor with a retraining policy names a pipeline file on the server's disk; create it where the server runs ('cairn monitors create' with --home or --store there).");
}
