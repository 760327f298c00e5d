using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Cairn.Application;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server;

/// <summary>Inference over HTTP: the Open Inference Protocol v2 (REST) and a native JSON-rows endpoint.</summary>
internal static class InferenceEndpoints
{
    /// <summary>Requests with the same value meet the same side of a canary split, on every replica.</summary>
    public const string RoutingKeyHeader = "Cairn-Routing-Key";

    /// <summary>The id of the prediction; row <c>i</c> of a multi-row request is <c>ID/i</c>.</summary>
    public const string PredictionIdHeader = "Cairn-Prediction-Id";

    /// <summary>The model version that answered, as <c>name@N</c>.</summary>
    public const string ModelVersionHeader = "Cairn-Model-Version";

    public static void MapInference(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2", (CairnServerOptions options) => Json(w =>
        {
            w.WriteString("name", "cairn");
            w.WriteString("version", CairnServer.Version);
            w.WriteStartArray("extensions");
            w.WriteEndArray();
            if (CairnServer.ExposureWarning(options) is { } warning)
            {
                w.WriteString("warning", warning);
            }
        }));
        app.MapGet("/v2/health/live", () => Json(w => w.WriteBoolean("live", true)));
        app.MapGet("/v2/health/ready", (ServingState state, DeploymentHost host) =>
        {
            var ready = state.Ready && (state.Deployment is not { } only || host.Find(only) is not null);
            return Json(w => w.WriteBoolean("ready", ready), ready ? 200 : 503);
        });
        app.MapGet("/v2/models/{name}", async (string name, HttpContext http) => await MetadataAsync(name, null, http));
        app.MapGet("/v2/models/{name}/versions/{version}", async (string name, string version, HttpContext http) => await MetadataAsync(name, version, http));
        app.MapGet("/v2/models/{name}/ready", async (string name, HttpContext http) =>
        {
            using var target = await ScoringTarget.AcquireAsync(name, null, TargetScope.Any, http);
            return Json(w => w.WriteBoolean("ready", true));
        });
        app.MapGet("/v2/models/{name}/versions/{version}/ready", async (string name, string version, HttpContext http) =>
        {
            using var target = await ScoringTarget.AcquireAsync(name, version, TargetScope.Any, http);
            return Json(w => w.WriteBoolean("ready", true));
        });
        app.MapPost("/v2/models/{name}/infer", (string name, HttpContext http) => InferAsync(name, null, http));
        app.MapPost("/v2/models/{name}/versions/{version}/infer", (string name, string version, HttpContext http) => InferAsync(name, version, http));

        // The native rows endpoint and MLflow's scoring protocol, one base URL per model and per deployment:
        // point an MLflow client at /api/models/NAME or /api/deployments/NAME.
        foreach (var (prefix, scope) in new[] { ("/api/models", TargetScope.Model), ("/api/deployments", TargetScope.Deployment) })
        {
            app.MapPost($"{prefix}/{{name}}/predict", (string name, HttpContext http) => PredictRowsAsync(name, scope, http));
            app.MapPost($"{prefix}/{{name}}/invocations", (string name, HttpContext http) => InvocationsAsync(name, scope, http));
            app.MapGet($"{prefix}/{{name}}/ping", (string name, HttpContext http) => PingAsync(name, scope, http));
            app.MapGet($"{prefix}/{{name}}/health", (string name, HttpContext http) => PingAsync(name, scope, http));
            app.MapGet($"{prefix}/{{name}}/version", (string name, HttpContext http) => VersionAsync(name, scope, http));
        }

        // What this server serves now: per deployment, the version behind each reference, its engine and queue;
        // ?stored=true: the stored definitions every server follows.
        app.MapGet("/api/deployments", async (bool? stored, DeploymentHost host, Actor actor, DeploymentService deployments, CancellationToken ct) =>
            stored is true ? Results.Ok(await deployments.ListAsync(ct)) : Json(w =>
            {
                // What this server holds in memory, so filtered here: only deployments the caller may see.
                w.WriteStartArray("deployments");
                foreach (var active in host.Active.Where(d => actor.Holds(ResourceRef.Deployment(d.Deployment.Name), Role.Viewer))
                    .OrderBy(d => d.Deployment.Name, StringComparer.Ordinal))
                {
                    WriteServed(w, active);
                }

                w.WriteEndArray();
            }));
        app.MapGet("/api/deployments/{name}", async (string name, bool? stored, DeploymentHost host, Actor actor, DeploymentService deployments, CancellationToken ct) =>
        {
            if (stored is true)
            {
                return Results.Ok(await deployments.GetAsync(name, ct));
            }

            actor.Demand(ResourceRef.Deployment(name), Role.Viewer, "read deployments");
            var active = host.Find(name) ?? throw (host.FailureOf(name) is { } failure
                ? new CairnException(ErrorCode.Unavailable, $"Deployment '{name}' is not serving: {failure}")
                : CairnException.NotFound($"There is no deployment named '{name}' on this server."));
            return Json(w => WriteServed(w, active, inline: true));
        });

        // A replica started with --deployment answers MLflow's bare paths for its deployment.
        app.MapPost("/invocations", (ServingState state, HttpContext http) => InvocationsAsync(OnlyDeployment(state), TargetScope.Deployment, http));
        app.MapGet("/ping", (ServingState state, HttpContext http) => PingAsync(OnlyDeployment(state), TargetScope.Deployment, http));
        app.MapGet("/health", (ServingState state, HttpContext http) => PingAsync(OnlyDeployment(state), TargetScope.Deployment, http));
        app.MapGet("/version", (ServingState state, HttpContext http) => VersionAsync(OnlyDeployment(state), TargetScope.Deployment, http));
    }

    private static void WriteServed(Utf8JsonWriter w, ActiveDeployment active, bool inline = false)
    {
        if (!inline)
        {
            w.WriteStartObject();
        }

        var spec = active.Deployment.Spec;
        w.WriteString("name", active.Deployment.Name);
        w.WriteNumber("revision", active.Deployment.Revision);
        foreach (var (role, reference, model) in new[] { ("model", spec.Model, active.Model), ("canary", spec.Canary, active.Canary), ("shadow", spec.Shadow, active.Shadow) })
        {
            if (model is null)
            {
                continue;
            }

            w.WriteStartObject(role);
            w.WriteString("reference", reference!.ToString());
            w.WriteString("version", $"{model.Version.Model}@{model.Version.Version}");
            w.WriteString("engine", model.Runtime.Engine);
            if (model.NotCompiled is { } why)
            {
                w.WriteString("not_compiled", why);
            }

            w.WriteNumber("queue_depth", model.QueueDepth);
            if (role == "canary")
            {
                w.WriteNumber("percent", spec.CanaryPercent);
            }

            w.WriteEndObject();
        }

        if (active.PendingError is { } error)
        {
            w.WriteString("pending_error", error);
        }

        if (!inline)
        {
            w.WriteEndObject();
        }
    }

    private static string OnlyDeployment(ServingState state) =>
        state.Deployment
        ?? throw CairnException.NotFound(
            "This server serves no single deployment, so bare /invocations, /ping, /health and /version are not served: start it with " +
            "'cairn serve --deployment NAME', or use /api/deployments/NAME/ or /api/models/NAME/ as the base URL.");

    private static async Task<IResult> PingAsync(string name, TargetScope scope, HttpContext http)
    {
        using var target = await ScoringTarget.AcquireAsync(name, null, scope, http);
        return Results.Text("\n", "application/json");
    }

    private static async Task<IResult> VersionAsync(string name, TargetScope scope, HttpContext http)
    {
        using var target = await ScoringTarget.AcquireAsync(name, null, scope, http);
        return Results.Text(target.Model.Version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<IResult> InvocationsAsync(string name, TargetScope scope, HttpContext http)
    {
        using var target = await ScoringTarget.AcquireAsync(name, null, scope, http);
        target.Admit(http);
        var signature = target.Model.Runtime.Signature;
        Table inputs;
        if (http.Request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var body = await RequestBody.ReadAsync(http);
            inputs = InferenceRequests.ReadCsv(body.AsStream(), signature);
        }
        else
        {
            using var body = await ReadJsonAsync(http);
            inputs = InferenceRequests.ReadMlflow(body.Span, signature);
        }

        return Predictions(target, inputs, await target.PredictAsync(inputs, http));
    }

    private static async Task<IResult> InferAsync(string name, string? version, HttpContext http)
    {
        using var target = await ScoringTarget.AcquireAsync(name, version, TargetScope.Any, http);
        target.Admit(http);
        using var body = await ReadJsonAsync(http);
        var (inputs, id, requested) = InferenceRequests.ReadOpenInference(body.Span, target.Model.Runtime.Signature);
        var outputs = await target.PredictAsync(inputs, http);
        var answered = target.Model.Version;
        return Json(w =>
        {
            w.WriteString("model_name", name);
            w.WriteString("model_version", answered.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("id", id ?? target.PredictionId);
            w.WriteStartObject("parameters");
            w.WriteString("prediction_id", target.PredictionId);
            w.WriteString("model", answered.Model);
            w.WriteEndObject();
            w.WriteStartArray("outputs");
            foreach (var output in outputs.Where(o => requested is null || requested.Contains(o.Name)))
            {
                w.WriteStartObject();
                w.WriteString("name", output.Name);
                w.WriteString("datatype", output.Type == TensorType.Fp32 ? "FP32" : "BYTES");
                w.WriteStartArray("shape");
                w.WriteNumberValue(output.Rows);
                if (output.Width > 1)
                {
                    w.WriteNumberValue(output.Width);
                }

                w.WriteEndArray();
                w.WriteStartArray("data");
                WriteValues(w, output, 0, output.Rows * output.Width);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private static async Task<IResult> PredictRowsAsync(string name, TargetScope scope, HttpContext http)
    {
        using var target = await ScoringTarget.AcquireAsync(name, null, scope, http);
        target.Admit(http);
        using var body = await ReadJsonAsync(http);
        var inputs = InferenceRequests.ReadRows(body.Span, target.Model.Runtime.Signature);
        return Predictions(target, inputs, await target.PredictAsync(inputs, http));
    }

    // {"model", "version", "prediction_id", "predictions": [{output: value, ...}, ...]}: one object per row, class probabilities keyed by class.
    private static IResult Predictions(ScoringTarget target, Table inputs, IReadOnlyList<OutputTensor> outputs)
    {
        var model = target.Model;
        var classes = model.Runtime.Signature.Classes;
        return Json(w =>
        {
            w.WriteString("model", model.Version.Model);
            w.WriteNumber("version", model.Version.Version);
            w.WriteString("prediction_id", target.PredictionId);
            w.WriteStartArray("predictions");
            for (var row = 0; row < inputs.RowCount; row++)
            {
                w.WriteStartObject();
                foreach (var output in outputs)
                {
                    w.WritePropertyName(output.Name);
                    if (output.Width == 1)
                    {
                        WriteValues(w, output, row, row + 1);
                        continue;
                    }

                    // Per-class probabilities read best keyed by class.
                    w.WriteStartObject();
                    for (var k = 0; k < output.Width; k++)
                    {
                        w.WritePropertyName(classes![k]);
                        WriteValues(w, output, (row * output.Width) + k, (row * output.Width) + k + 1);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private static void WriteValues(Utf8JsonWriter w, OutputTensor output, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            if (output.Floats is { } floats)
            {
                if (float.IsFinite(floats[i]))
                {
                    w.WriteNumberValue(floats[i]);
                }
                else
                {
                    w.WriteNullValue();
                }
            }
            else
            {
                w.WriteStringValue(output.Strings![i]);
            }
        }
    }

    private static async Task<IResult> MetadataAsync(string name, string? version, HttpContext http)
    {
        using var target = await ScoringTarget.AcquireAsync(name, version, TargetScope.Any, http);
        var signature = target.Model.Runtime.Signature;
        var versions = target.Deployment is { } deployment && version is null
            ? deployment.Models.Select(m => m.Version.Version).Distinct().ToList()
            : [target.Model.Version.Version];
        return Json(w =>
        {
            w.WriteString("name", name);
            w.WriteStartArray("versions");
            foreach (var number in versions)
            {
                w.WriteStringValue(number.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            w.WriteEndArray();
            w.WriteString("platform", target.Platform);
            w.WriteStartArray("inputs");
            foreach (var input in signature.Inputs)
            {
                TensorMetadata(w, input.Name, input.TensorType, 1);
            }

            w.WriteEndArray();
            w.WriteStartArray("outputs");
            foreach (var output in signature.Outputs)
            {
                TensorMetadata(w, output.Name, output.Type, output.Width);
            }

            w.WriteEndArray();
        });
    }

    private static void TensorMetadata(Utf8JsonWriter w, string name, TensorType type, int width)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("datatype", type == TensorType.Fp32 ? "FP32" : "BYTES");
        w.WriteStartArray("shape");
        w.WriteNumberValue(-1);
        if (width > 1)
        {
            w.WriteNumberValue(width);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static ValueTask<RequestBody> ReadJsonAsync(HttpContext http) =>
        http.Request.HasJsonContentType() ? RequestBody.ReadAsync(http) : throw Mlflow.MlflowEndpoints.JsonRequired(http.Request);

    /// <summary>A JSON object written straight to the response, without an intermediate object graph.</summary>
    internal static IResult Json(Action<Utf8JsonWriter> writeProperties, int status = StatusCodes.Status200OK) => new JsonObjectResult(writeProperties, status);

    private sealed class JsonObjectResult(Action<Utf8JsonWriter> writeProperties, int status) : IResult
    {
        // Labels such as ">50K" stay readable; the body is served as application/json, never embedded in HTML.
        private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        // One buffer and writer per thread, reused: the answer is written and handed to the response before any await.
        [ThreadStatic]
        private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? t_writer;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = "application/json";
            var (buffer, writer) = t_writer ??= NewWriter();
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            try
            {
                writer.WriteStartObject();
                writeProperties(writer);
                writer.WriteEndObject();
                writer.Flush();

                // The length is known before the first byte, so the answer goes out in one piece, not chunked.
                response.ContentLength = buffer.WrittenCount;
                response.BodyWriter.Write(buffer.WrittenSpan);
            }
            finally
            {
                if (buffer.Capacity > 1 << 20)
                {
                    // A rare large answer does not pin its buffer to the thread.
                    t_writer = null;
                }
            }

            return response.BodyWriter.FlushAsync(httpContext.RequestAborted).AsTask();
        }

        private static (ArrayBufferWriter<byte>, Utf8JsonWriter) NewWriter()
        {
            var buffer = new ArrayBufferWriter<byte>(4096);
            return (buffer, new Utf8JsonWriter(buffer, WriterOptions));
        }
    }
}
