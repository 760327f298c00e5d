using System.Text.Json;
using Cairn.Application;
using Cairn.Application.Serving;
using Cairn.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server;

/// <summary>Monitoring over HTTP: delayed labels (feedback), window results and alerts of a deployment.</summary>
internal static class MonitoringEndpoints
{
    public static void MapMonitoring(this IEndpointRouteBuilder app)
    {
        // {"labels": [{"prediction_id": "...", "label": "<=50K" | 12.5 | true}, ...]}: all recorded, or none.
        app.MapPost("/api/deployments/{name}/feedback", async (string name, HttpContext http) =>
        {
            http.RequestServices.GetRequiredService<MonitorService>().DemandFeedback(name);
            var labels = await ReadFeedbackAsync(http);
            // Predictions answered moments ago may still be in the recorder's buffer: write them first so their ids are known.
            if (http.RequestServices.GetService<PredictionRecorder>() is { } recorder)
            {
                await recorder.FlushAsync(http.RequestAborted);
            }

            var recorded = await http.RequestServices.GetRequiredService<MonitorService>().FeedbackAsync(name, labels, http.RequestAborted);
            return InferenceEndpoints.Json(w => w.WriteNumber("recorded", recorded));
        });
        app.MapGet("/api/deployments/{name}/monitor", async (string name, MonitorService monitors, CancellationToken ct) =>
            Results.Ok(await monitors.ResultsAsync(name, null, null, ct)));
        app.MapGet("/api/deployments/{name}/alerts", async (string name, MonitorService monitors, CancellationToken ct) =>
            Results.Ok(await monitors.AlertsAsync(name, 100, ct)));

        // The closed loop's runs; a run waiting for approval moves on when a maintainer of its model approves or rejects it.
        app.MapGet("/api/policy-runs", async (string? deployment, int? limit, PolicyRunner policies, CancellationToken ct) =>
            Results.Ok(await policies.ListAsync(deployment, Math.Clamp(limit ?? 50, 1, 1000), ct)));
        app.MapGet("/api/policy-runs/{id}", async (string id, PolicyRunner policies, CancellationToken ct) => Results.Ok(await policies.GetAsync(id, ct)));
        app.MapPost("/api/policy-runs/{id}/approve", async (string id, Api.DecisionBody? body, PolicyRunner policies, CancellationToken ct) =>
            Results.Ok(await policies.ApproveAsync(id, body?.Comment, ct)));
        app.MapPost("/api/policy-runs/{id}/reject", async (string id, Api.DecisionBody? body, PolicyRunner policies, CancellationToken ct) =>
            Results.Ok(await policies.RejectAsync(id, body?.Comment, ct)));
        app.MapPost("/api/policy-runs/{id}/cancel", async (string id, PolicyRunner policies, CancellationToken ct) => Results.Ok(await policies.CancelAsync(id, ct)))
            .WithSummary("Ends a policy run that is still going; a canary it started is taken out of serving.");
    }

    private static async Task<IReadOnlyList<Feedback>> ReadFeedbackAsync(HttpContext http)
    {
        if (!http.Request.HasJsonContentType())
        {
            throw Mlflow.MlflowEndpoints.JsonRequired(http.Request);
        }

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted);
        }
        catch (JsonException e)
        {
            throw CairnException.Invalid($"The feedback is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("labels", out var labels) || labels.ValueKind != JsonValueKind.Array)
            {
                throw CairnException.Invalid("The feedback must be an object with a 'labels' array: {\"labels\": [{\"prediction_id\": ..., \"label\": ...}]}.");
            }

            var feedback = new List<Feedback>(labels.GetArrayLength());
            var index = 0;
            foreach (var item in labels.EnumerateArray())
            {
                index++;
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("prediction_id", out var id) || id.ValueKind != JsonValueKind.String)
                {
                    throw CairnException.Invalid($"labels[{index - 1}] needs a 'prediction_id' string.");
                }

                if (!item.TryGetProperty("label", out var label))
                {
                    throw CairnException.Invalid($"labels[{index - 1}] (prediction '{id.GetString()}') has no 'label'.");
                }

                feedback.Add(label.ValueKind switch
                {
                    JsonValueKind.String => new Feedback(id.GetString()!, label.GetString()!, false),
                    JsonValueKind.Number => new Feedback(id.GetString()!, label.GetRawText(), true),
                    JsonValueKind.True or JsonValueKind.False => new Feedback(id.GetString()!, label.GetRawText(), false),
                    _ => throw CairnException.Invalid($"labels[{index - 1}] (prediction '{id.GetString()}'): the label must be a string, a number or a boolean, not {label.ValueKind.ToString().ToLowerInvariant()}."),
                });
            }

            return feedback;
        }
    }
}
