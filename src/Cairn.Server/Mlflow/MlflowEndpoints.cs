using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Mlflow;

/// <summary>
/// The MLflow tracking REST API at <c>/api/2.0/mlflow/</c>, so MLflow clients and scripts log to Cairn unchanged.
/// Handlers translate MLflow messages to the application services and back; no tracking logic lives here.
/// </summary>
internal static class MlflowEndpoints
{
    public const string Prefix = "/api/2.0/mlflow";

    public static void MapMlflow(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix);

        api.MapPost("/experiments/create", async (HttpContext http, ExperimentService experiments) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.CreateExperimentRequest);
            var created = await experiments.CreateAsync(request.Name, request.ArtifactLocation, Tags(request.Tags), http.RequestAborted);
            return Ok(new CreateExperimentResponse(created.Id), MlflowJson.Default.CreateExperimentResponse);
        });
        api.MapGet("/experiments/get", async (HttpContext http, ExperimentService experiments) =>
            Ok(new ExperimentResponse(ToMessage(await experiments.GetAsync(Query(http, "experiment_id"), http.RequestAborted))), MlflowJson.Default.ExperimentResponse));
        api.MapGet("/experiments/get-by-name", async (HttpContext http, ExperimentService experiments) =>
            Ok(new ExperimentResponse(ToMessage(await experiments.GetByNameAsync(Query(http, "experiment_name"), http.RequestAborted))), MlflowJson.Default.ExperimentResponse));
        api.MapPost("/experiments/search", async (HttpContext http, ExperimentService experiments) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.SearchExperimentsRequest);
            var (page, next) = await experiments.SearchAsync(ViewType(request.ViewType), request.Filter, request.OrderBy, MaxResults(request.MaxResults, 1000),
                request.PageToken, http.RequestAborted);
            return Ok(new SearchExperimentsResponse([.. page.Select(ToMessage)], next), MlflowJson.Default.SearchExperimentsResponse);
        });
        api.MapPost("/experiments/update", async (HttpContext http, ExperimentService experiments) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.UpdateExperimentRequest);
            await experiments.RenameAsync(request.ExperimentId, request.NewName, http.RequestAborted);
            return Empty();
        });
        api.MapPost("/experiments/delete", async (HttpContext http, ExperimentService experiments) =>
        {
            await experiments.DeleteAsync((await ReadAsync(http, MlflowJson.Default.ExperimentIdRequest)).ExperimentId, http.RequestAborted);
            return Empty();
        });
        api.MapPost("/experiments/restore", async (HttpContext http, ExperimentService experiments) =>
        {
            await experiments.RestoreAsync((await ReadAsync(http, MlflowJson.Default.ExperimentIdRequest)).ExperimentId, http.RequestAborted);
            return Empty();
        });
        api.MapPost("/experiments/set-experiment-tag", async (HttpContext http, ExperimentService experiments) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.ExperimentTagRequest);
            await experiments.SetTagAsync(request.ExperimentId, request.Key, request.Value, http.RequestAborted);
            return Empty();
        });
        api.MapPost("/experiments/delete-experiment-tag", async (HttpContext http, ExperimentService experiments) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.ExperimentTagRequest);
            await experiments.DeleteTagAsync(request.ExperimentId, request.Key, http.RequestAborted);
            return Empty();
        });

        api.MapPost("/runs/create", async (HttpContext http, RunService runs) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.CreateRunRequest);
            var run = await runs.CreateAsync(request.ExperimentId, request.RunName, request.UserId,
                request.StartTime is { } start ? DateTimeOffset.FromUnixTimeMilliseconds(start) : null, Tags(request.Tags), http.RequestAborted);
            return Ok(new RunResponse(ToMessage(run)), MlflowJson.Default.RunResponse);
        });
        api.MapGet("/runs/get", async (HttpContext http, RunService runs) =>
            Ok(new RunResponse(ToMessage(await runs.GetAsync(Query(http, "run_id") ?? Query(http, "run_uuid"), http.RequestAborted))), MlflowJson.Default.RunResponse));
        api.MapPost("/runs/update", async (HttpContext http, RunService runs) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.UpdateRunRequest);
            var run = await runs.UpdateAsync(request.RunId ?? request.RunUuid, Status(request.Status),
                request.EndTime is { } end ? DateTimeOffset.FromUnixTimeMilliseconds(end) : null, request.RunName, http.RequestAborted);
            return Ok(new UpdateRunResponse(ToMessage(run).Info), MlflowJson.Default.UpdateRunResponse);
        });
        api.MapPost("/runs/delete", async (HttpContext http, RunService runs) =>
        {
            await runs.DeleteAsync((await ReadAsync(http, MlflowJson.Default.RunIdRequest)).Id, http.RequestAborted);
            return Empty();
        });
        api.MapPost("/runs/restore", async (HttpContext http, RunService runs) =>
        {
            await runs.RestoreAsync((await ReadAsync(http, MlflowJson.Default.RunIdRequest)).Id, http.RequestAborted);
            return Empty();
        });
        api.MapPost("/runs/log-metric", async (HttpContext http, RunService runs, TimeProvider time) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.LogMetricRequest);
            var metric = ToMetric(new MetricMessage(request.Key, request.Value, request.Timestamp, request.Step), time, 0);
            await runs.LogBatchAsync(request.RunId ?? request.RunUuid, [metric], [], [], http.RequestAborted);
            return Empty();
        });
        api.MapPost("/runs/log-parameter", async (HttpContext http, RunService runs) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.RunKeyValueRequest);
            await runs.LogBatchAsync(request.RunId ?? request.RunUuid, [], [new(request.Key!, request.Value!)], [], http.RequestAborted);
            return Empty();
        });
        api.MapPost("/runs/set-tag", async (HttpContext http, RunService runs) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.RunKeyValueRequest);
            await runs.LogBatchAsync(request.RunId ?? request.RunUuid, [], [], [new(request.Key!, request.Value!)], http.RequestAborted);
            return Empty();
        });
        api.MapPost("/runs/delete-tag", async (HttpContext http, RunService runs) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.RunKeyValueRequest);
            await runs.DeleteTagAsync(request.RunId ?? request.RunUuid, request.Key, http.RequestAborted);
            return Empty();
        });
        api.MapPost("/runs/log-batch", async (HttpContext http, RunService runs, TimeProvider time) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.LogBatchRequest);
            var metrics = (request.Metrics ?? []).Select((m, i) => ToMetric(m, time, i)).ToList();
            await runs.LogBatchAsync(request.RunId, metrics, Tags(request.Params, "params"), Tags(request.Tags), http.RequestAborted);
            return Empty();
        });
        api.MapPost("/runs/log-inputs", async (HttpContext http, RunService runs) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.LogInputsRequest);
            await runs.LogInputsAsync(request.RunId, [.. (request.Datasets ?? []).Select(ToInput)], http.RequestAborted);
            return Empty();
        });
        api.MapPost("/runs/search", async (HttpContext http, RunService runs) =>
        {
            var request = await ReadAsync(http, MlflowJson.Default.SearchRunsRequest);
            var (page, next) = await runs.SearchAsync(request.ExperimentIds ?? [], request.Filter, ViewType(request.RunViewType), request.OrderBy ?? [],
                MaxResults(request.MaxResults, 1000), request.PageToken, http.RequestAborted);
            return Ok(new SearchRunsResponse([.. page.Select(ToMessage)], next), MlflowJson.Default.SearchRunsResponse);
        });
        api.MapGet("/metrics/get-history", async (HttpContext http, RunService runs) =>
        {
            var history = await runs.GetMetricHistoryAsync(Query(http, "run_id") ?? Query(http, "run_uuid"), Query(http, "metric_key"), http.RequestAborted);
            return Ok(new MetricHistoryResponse([.. history.Select(ToMessage)]), MlflowJson.Default.MetricHistoryResponse);
        });

        api.MapMlflowRegistry();
        api.MapMlflowAuth();

        api.Map("/{**rest}", (HttpContext http) =>
            Error(StatusCodes.Status404NotFound, "ENDPOINT_NOT_FOUND", $"{http.Request.Method} {http.Request.Path} is not an MLflow endpoint Cairn serves."));
    }

    /// <summary>The MLflow error body and status for a failure, following MLflow's own mapping.</summary>
    public static IResult Error(CairnException exception) => exception.Code switch
    {
        ErrorCode.NotFound => Error(StatusCodes.Status404NotFound, "RESOURCE_DOES_NOT_EXIST", exception.Message),
        ErrorCode.AlreadyExists => Error(StatusCodes.Status400BadRequest, "RESOURCE_ALREADY_EXISTS", exception.Message),
        ErrorCode.InvalidArgument or ErrorCode.Conflict => Error(StatusCodes.Status400BadRequest, "INVALID_PARAMETER_VALUE", exception.Message),
        ErrorCode.Unavailable => Error(StatusCodes.Status503ServiceUnavailable, "TEMPORARILY_UNAVAILABLE", exception.Message),
        ErrorCode.Overloaded => Error(StatusCodes.Status429TooManyRequests, "REQUEST_LIMIT_EXCEEDED", exception.Message),
        ErrorCode.UnsupportedMediaType => Error(StatusCodes.Status415UnsupportedMediaType, "BAD_REQUEST", exception.Message),
        ErrorCode.Unauthenticated => Error(StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", exception.Message),
        ErrorCode.PermissionDenied => Error(StatusCodes.Status403Forbidden, "PERMISSION_DENIED", exception.Message),
        ErrorCode.Throttled => Error(StatusCodes.Status429TooManyRequests, "REQUEST_LIMIT_EXCEEDED", exception.Message),
        _ => Error(StatusCodes.Status500InternalServerError, "INTERNAL_ERROR", exception.Message),
    };

    public static IResult Error(int status, string code, string message) =>
        Results.Json(new ErrorResponse(code, message), MlflowJson.Default.ErrorResponse, statusCode: status);

    internal static IResult Ok<T>(T value, JsonTypeInfo<T> type) => Results.Json(value, type);

    internal static IResult Empty() => Results.Json(new EmptyResponse(), MlflowJson.Default.EmptyResponse);

    internal static async Task<T> ReadAsync<T>(HttpContext http, JsonTypeInfo<T> type)
    {
        if (http.Request.ContentLength != 0 && !http.Request.HasJsonContentType())
        {
            throw JsonRequired(http.Request);
        }

        try
        {
            var value = http.Request.ContentLength == 0 ? default : await JsonSerializer.DeserializeAsync(http.Request.Body, type, http.RequestAborted);
            return value ?? JsonSerializer.Deserialize("{}", type)!;
        }
        catch (JsonException e)
        {
            var where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path.TrimStart('$', '.')}";
            throw CairnException.Invalid($"The request body is not valid{where}: {e.Message.Split(" Path:", 2)[0]}");
        }
    }

    /// <summary>The answer to a body that is not JSON: a page on another site can send text and forms without asking first.</summary>
    internal static CairnException JsonRequired(HttpRequest request) => new(ErrorCode.UnsupportedMediaType,
        $"Send the request body as application/json, not '{(string.IsNullOrEmpty(request.ContentType) ? "no content type" : request.ContentType)}'.");

    // Out-of-range values stay out of range after narrowing, so the service's range check names them.
    internal static int MaxResults(long? requested, int fallback) => (int)Math.Clamp(requested ?? fallback, int.MinValue, int.MaxValue);

    internal static string? Query(HttpContext http, string name) => http.Request.Query.TryGetValue(name, out var values) ? values.ToString() : null;

    internal static List<KeyValuePair<string, string>> Tags(List<KeyValue?>? tags, string field = "tags") =>
        [.. (tags ?? []).Select((t, i) => t is null
            ? throw CairnException.Invalid($"{field}[{i}] is null.")
            : new KeyValuePair<string, string>(t.Key!, t.Value!))];

    private static LifecycleStage? ViewType(string? viewType) => viewType switch
    {
        null or "" or "ACTIVE_ONLY" => LifecycleStage.Active,
        "DELETED_ONLY" => LifecycleStage.Deleted,
        "ALL" => null,
        _ => throw CairnException.Invalid($"view_type '{viewType}' is not ACTIVE_ONLY, DELETED_ONLY or ALL."),
    };

    private static RunStatus? Status(string? status) => status switch
    {
        null or "" => null,
        "RUNNING" => RunStatus.Running,
        "SCHEDULED" => RunStatus.Scheduled,
        "FINISHED" => RunStatus.Finished,
        "FAILED" => RunStatus.Failed,
        "KILLED" => RunStatus.Killed,
        _ => throw CairnException.Invalid($"status '{status}' is not RUNNING, SCHEDULED, FINISHED, FAILED or KILLED."),
    };

    private static Metric ToMetric(MetricMessage? message, TimeProvider time, int index)
    {
        if (message is null)
        {
            throw CairnException.Invalid($"metrics[{index}] is null.");
        }

        if (message.Value is null)
        {
            throw CairnException.Invalid($"metrics[{index}] ('{message.Key}') has no value.");
        }

        var timestamp = message.Timestamp is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : time.GetUtcNow();
        return new Metric(message.Key!, message.Value.Value, message.Step ?? 0, timestamp);
    }

    private static MetricMessage ToMessage(Metric metric) =>
        new(metric.Key, metric.Value, metric.Timestamp.ToUnixTimeMilliseconds(), metric.Step);

    private static ExperimentMessage ToMessage(Experiment experiment) => new(
        experiment.Id, experiment.Name, experiment.ArtifactLocation, experiment.Lifecycle.ToString().ToLowerInvariant(),
        experiment.UpdatedAt.ToUnixTimeMilliseconds(), experiment.CreatedAt.ToUnixTimeMilliseconds(),
        [.. experiment.Tags.Select(t => new KeyValue(t.Key, t.Value))]);

    // MLflow carries an input's purpose in the mlflow.data.context tag.
    private const string ContextTag = "mlflow.data.context";

    private static RunInput ToInput(DatasetInputMessage? message, int index)
    {
        var dataset = message?.Dataset ?? throw CairnException.Invalid($"datasets[{index}] has no dataset.");
        return new RunInput(dataset.Name ?? "", null, message.Tags?.LastOrDefault(t => t?.Key == ContextTag)?.Value ?? "")
        {
            Digest = dataset.Digest ?? "",
            SourceType = dataset.SourceType ?? "",
            Source = dataset.Source ?? "",
            Schema = dataset.Schema,
            Profile = dataset.Profile,
        };
    }

    private static DatasetInputMessage ToMessage(RunInput input) => new(
        input.Context.Length == 0 ? [] : [new KeyValue(ContextTag, input.Context)],
        new DatasetMessage(input.Dataset, input.Digest, input.SourceType, input.Source, input.Schema, input.Profile));

    /// <summary>Where MLflow clients find a run's artifacts: the artifact proxy.</summary>
    internal static string ArtifactUri(Run run) => $"mlflow-artifacts:/{run.ExperimentId}/{run.Id}/artifacts";

    private static RunMessage ToMessage(Run run)
    {
        // Run data carries each metric's latest value, as MLflow's does; the full series is in metrics/get-history.
        var latest = run.Metrics.GroupBy(m => m.Key).Select(g => g.OrderBy(m => m.Step).ThenBy(m => m.Timestamp).Last()).Select(ToMessage).ToList();
        var info = new RunInfoMessage(run.Id, run.Id, run.Name, run.ExperimentId, run.User, run.Status.ToString().ToUpperInvariant(),
            run.StartedAt.ToUnixTimeMilliseconds(), run.EndedAt?.ToUnixTimeMilliseconds(),
            ArtifactUri(run), run.Lifecycle.ToString().ToLowerInvariant());
        return new RunMessage(info, new RunDataMessage(latest, [.. run.Params.Select(p => new KeyValue(p.Key, p.Value))],
            [.. run.Tags.Select(t => new KeyValue(t.Key, t.Value))]), new RunInputsMessage([.. run.Inputs.Select(ToMessage)]));
    }
}
