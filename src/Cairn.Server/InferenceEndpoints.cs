using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Cairn.Application;
using Cairn.Core;
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
    public static void MapInference(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2", () => Json(w =>
        {
            w.WriteString("name", "cairn");
            w.WriteString("version", CairnServer.Version);
            w.WriteStartArray("extensions");
            w.WriteEndArray();
        }));
        app.MapGet("/v2/health/live", () => Json(w => w.WriteBoolean("live", true)));
        app.MapGet("/v2/health/ready", (ServingState state) => Json(w => w.WriteBoolean("ready", state.Ready), state.Ready ? 200 : 503));
        app.MapGet("/v2/models/{name}", async (string name, ServingState state, ModelServing serving, CancellationToken ct) =>
            Metadata((await serving.GetAsync(state.Reference(name, null), ct)).Version));
        app.MapGet("/v2/models/{name}/versions/{version}", async (string name, string version, ServingState state, ModelServing serving, CancellationToken ct) =>
            Metadata((await serving.GetAsync(state.Reference(name, version), ct)).Version));
        app.MapGet("/v2/models/{name}/ready", async (string name, ServingState state, ModelServing serving, CancellationToken ct) =>
        {
            await serving.GetAsync(state.Reference(name, null), ct);
            return Json(w => w.WriteBoolean("ready", true));
        });
        app.MapPost("/v2/models/{name}/infer", (string name, HttpContext http, ServingState state, ModelServing serving) =>
            InferAsync(state.Reference(name, null), http, serving));
        app.MapPost("/v2/models/{name}/versions/{version}/infer", (string name, string version, HttpContext http, ServingState state, ModelServing serving) =>
            InferAsync(state.Reference(name, version), http, serving));
        app.MapPost("/api/models/{name}/predict", (string name, HttpContext http, ServingState state, ModelServing serving) =>
            PredictRowsAsync(state.Reference(name, null), http, serving));

        // MLflow's scoring protocol, one base URL per model: point an MLflow client at /api/models/NAME.
        app.MapPost("/api/models/{name}/invocations", (string name, HttpContext http, ServingState state, ModelServing serving) =>
            InvocationsAsync(state.Reference(name, null), http, serving));
        app.MapGet("/api/models/{name}/ping", async (string name, ServingState state, ModelServing serving, CancellationToken ct) =>
        {
            await serving.GetAsync(state.Reference(name, null), ct);
            return Results.Text("\n", "application/json");
        });
        app.MapGet("/api/models/{name}/health", async (string name, ServingState state, ModelServing serving, CancellationToken ct) =>
        {
            await serving.GetAsync(state.Reference(name, null), ct);
            return Results.Text("\n", "application/json");
        });
        app.MapGet("/api/models/{name}/version", async (string name, ServingState state, ModelServing serving, CancellationToken ct) =>
            Results.Text((await serving.GetAsync(state.Reference(name, null), ct)).Version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static async Task<IResult> InvocationsAsync(ModelRef reference, HttpContext http, ModelServing serving)
    {
        var model = await serving.GetAsync(reference, http.RequestAborted);
        Table inputs;
        if (http.Request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
            inputs = InferenceRequests.ReadCsv(buffer.ToArray(), model.Runtime.Signature);
        }
        else
        {
            using var body = await ReadJsonAsync(http);
            inputs = InferenceRequests.ReadMlflow(body.RootElement, model.Runtime.Signature);
        }

        return Predictions(model, inputs, ServingMetrics.Predict(model, inputs));
    }

    private static async Task<IResult> InferAsync(ModelRef reference, HttpContext http, ModelServing serving)
    {
        var model = await serving.GetAsync(reference, http.RequestAborted);
        using var body = await ReadJsonAsync(http);
        var (inputs, id, requested) = InferenceRequests.ReadOpenInference(body.RootElement, model.Runtime.Signature);
        var outputs = ServingMetrics.Predict(model, inputs);
        return Json(w =>
        {
            w.WriteString("model_name", model.Version.Model);
            w.WriteString("model_version", model.Version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (id is not null)
            {
                w.WriteString("id", id);
            }

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

    private static async Task<IResult> PredictRowsAsync(ModelRef reference, HttpContext http, ModelServing serving)
    {
        var model = await serving.GetAsync(reference, http.RequestAborted);
        using var body = await ReadJsonAsync(http);
        var inputs = InferenceRequests.ReadRows(body.RootElement, model.Runtime.Signature);
        return Predictions(model, inputs, ServingMetrics.Predict(model, inputs));
    }

    // {"model", "version", "predictions": [{output: value, ...}, ...]}: one object per row, class probabilities keyed by class.
    private static IResult Predictions(LoadedModel model, Table inputs, IReadOnlyList<OutputTensor> outputs)
    {
        var classes = model.Runtime.Signature.Classes;
        return Json(w =>
        {
            w.WriteString("model", model.Version.Model);
            w.WriteNumber("version", model.Version.Version);
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

    private static IResult Metadata(ModelVersion version) => Json(w =>
    {
        var signature = version.RequirePackage().Signature;
        w.WriteString("name", version.Model);
        w.WriteStartArray("versions");
        w.WriteStringValue(version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteEndArray();
        w.WriteString("platform", "onnxruntime_onnx");
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

    private static async Task<JsonDocument> ReadJsonAsync(HttpContext http)
    {
        if (http.Request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new CairnException(ErrorCode.InvalidArgument, $"Send the request as application/json, not {type}.");
        }

        try
        {
            return await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted);
        }
        catch (JsonException e)
        {
            throw CairnException.Invalid($"The request body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>A JSON object written straight to the response, without an intermediate object graph.</summary>
    internal static IResult Json(Action<Utf8JsonWriter> writeProperties, int status = StatusCodes.Status200OK) => new JsonObjectResult(writeProperties, status);

    private sealed class JsonObjectResult(Action<Utf8JsonWriter> writeProperties, int status) : IResult
    {
        // Labels such as ">50K" stay readable; the body is served as application/json, never embedded in HTML.
        private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = "application/json";
            var buffer = new ArrayBufferWriter<byte>(512);
            await using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                writer.WriteStartObject();
                writeProperties(writer);
                writer.WriteEndObject();
            }

            response.ContentLength = buffer.WrittenCount;
            await response.Body.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted);
        }
    }
}
