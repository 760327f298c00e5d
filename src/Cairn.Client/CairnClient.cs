using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Polly;
using Polly.Retry;

namespace Cairn.Client;

/// <summary>How a <see cref="CairnClient"/> batches and retries.</summary>
public sealed record CairnClientOptions
{
    /// <summary>How often buffered metrics are sent in the background. Default: 1 second.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The most metric points in one request; the server's limit is 1000. Default: 1000.</summary>
    public int MaxBatchSize { get; init; } = 1000;

    /// <summary>How many times one request is tried before its failure is reported. Default: 5.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The wait before the first retry; each further retry waits twice as long. Default: 100 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The clock for timestamps, the flush timer and retry waits. Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>A failure the server reported, or one that outlasted every retry.</summary>
public sealed class CairnClientException(string message, int? statusCode = null, Exception? inner = null, string? code = null, string? reason = null)
    : Exception(message, inner)
{
    /// <summary>The HTTP status, when the server answered.</summary>
    public int? StatusCode { get; } = statusCode;

    /// <summary>The server's error code, such as <c>not_found</c> or <c>permission_denied</c>, when it sent one.</summary>
    public string? Code { get; } = code;

    /// <summary>The server's own words for what was wrong, when it sent them; else the message.</summary>
    public string Reason { get; } = reason ?? message;
}

/// <summary>Talks to a Cairn server's tracking API. Thread-safe; one instance per server is enough.</summary>
/// <param name="http">An <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the server, such as http://127.0.0.1:5000/.</param>
/// <param name="options">Batching and retry settings.</param>
public sealed class CairnClient(HttpClient http, CairnClientOptions? options = null)
{
    internal HttpClient Http { get; } = http ?? throw new ArgumentNullException(nameof(http));

    private ResiliencePipeline<HttpResponseMessage>? _retries;

    internal CairnClientOptions Options { get; } = options ?? new CairnClientOptions();

    /// <summary>Starts a run (nested under <paramref name="parentRunId"/> when given); log to it through the returned <see cref="TrackedRun"/> and dispose it to flush and end it.</summary>
    public async Task<TrackedRun> StartRunAsync(string? experimentId = null, string? name = null, IReadOnlyDictionary<string, string>? tags = null,
        string? parentRunId = null, CancellationToken cancellationToken = default)
    {
        var body = new CreateRunRequest(experimentId, name, tags?.ToDictionary(), parentRunId);
        var created = await SendAsync(HttpMethod.Post, "api/runs", JsonContent.Create(body, ClientJson.Default.CreateRunRequest), cancellationToken).ConfigureAwait(false);
        var run = await created.Content.ReadFromJsonAsync(ClientJson.Default.RunResponse, cancellationToken).ConfigureAwait(false)
            ?? throw new CairnClientException("The server answered run creation without a run.");
        created.Dispose();
        return new TrackedRun(this, run.Id);
    }

    /// <summary>
    /// Registers the model a finished Cairn training run produced as the next version of <paramref name="model"/>
    /// (creating the model on first use), optionally pointing <paramref name="alias"/> at it; returns the version number.
    /// </summary>
    public async Task<int> RegisterModelAsync(string model, string runId, string? alias = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(runId);
        // Not retried: a lost response would otherwise register a second version.
        using var response = await SendAsync(HttpMethod.Post, $"api/models/{Uri.EscapeDataString(model)}/versions",
            JsonContent.Create(new RegisterModelRequest(runId, alias), ClientJson.Default.RegisterModelRequest), cancellationToken, retry: false).ConfigureAwait(false);
        var version = await response.Content.ReadFromJsonAsync(ClientJson.Default.ModelVersionResponse, cancellationToken).ConfigureAwait(false)
            ?? throw new CairnClientException("The server answered registration without a version.");
        return version.Version;
    }

    /// <summary>
    /// Scores rows with a deployment: each row maps column names to values (text, numbers, booleans, or null for a
    /// missing value). Overload (429) and unavailability (503) are retried with backoff.
    /// </summary>
    public Task<Predictions> PredictAsync(string deployment, IEnumerable<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken = default) =>
        PredictAsync("deployments", deployment, rows, cancellationToken);

    /// <summary>Scores rows with a registered model: <c>NAME</c> (through the server's alias), <c>NAME@ALIAS</c> or <c>NAME@VERSION</c>.</summary>
    public Task<Predictions> PredictWithModelAsync(string model, IEnumerable<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken = default) =>
        PredictAsync("models", model, rows, cancellationToken);

    private async Task<Predictions> PredictAsync(string kind, string name, IEnumerable<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(rows);
        var body = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("rows");
            foreach (var row in rows)
            {
                writer.WriteStartObject();
                foreach (var (column, value) in row)
                {
                    writer.WritePropertyName(column);
                    WriteValue(writer, column, value);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var payload = body.WrittenMemory.ToArray();
        using var response = await SendAsync(HttpMethod.Post, $"api/{kind}/{Uri.EscapeDataString(name)}/predict",
            () => new ByteArrayContent(payload) { Headers = { ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") } },
            cancellationToken).ConfigureAwait(false);
        using var answer = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false),
            default, cancellationToken).ConfigureAwait(false);
        var root = answer.RootElement;
        return new Predictions(root.GetProperty("prediction_id").GetString()!, root.GetProperty("model").GetString()!, root.GetProperty("version").GetInt32(),
            [.. root.GetProperty("predictions").EnumerateArray().Select(p => p.Clone())]);
    }

    private static void WriteValue(Utf8JsonWriter writer, string column, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case double or float or int or long or decimal:
                var number = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
                if (double.IsFinite(number))
                {
                    writer.WriteNumberValue(number);
                }
                else
                {
                    writer.WriteNullValue();
                }

                break;
            default:
                throw new ArgumentException($"Column '{column}' holds a {value.GetType().Name}; send text, a number, a boolean or null.", nameof(value));
        }
    }

    /// <summary>
    /// Sends true labels for predictions a deployment answered (the ids come back with each answer, as
    /// <c>prediction_id</c> and the <c>Cairn-Prediction-Id</c> header); returns how many were recorded. The server
    /// records all of them or none: unknown ids (404), ids already labeled (409) or labels of the wrong kind (400)
    /// throw a <see cref="CairnClientException"/> naming them, and nothing is recorded.
    /// </summary>
    public async Task<int> SendFeedbackAsync(string deployment, IReadOnlyList<PredictionLabel> labels, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deployment);
        ArgumentNullException.ThrowIfNull(labels);
        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("labels");
            foreach (var label in labels)
            {
                writer.WriteStartObject();
                writer.WriteString("prediction_id", label.PredictionId);
                if (label.Number is { } number)
                {
                    writer.WriteNumber("label", number);
                }
                else
                {
                    writer.WriteString("label", label.Class);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        // Not retried: after a lost answer the retry would find the labels recorded and be refused as a conflict.
        using var content = new ByteArrayContent(body.ToArray()) { Headers = { ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") } };
        using var response = await SendAsync(HttpMethod.Post, $"api/deployments/{Uri.EscapeDataString(deployment)}/feedback", content, cancellationToken, retry: false)
            .ConfigureAwait(false);
        var recorded = await response.Content.ReadFromJsonAsync(ClientJson.Default.FeedbackResponse, cancellationToken).ConfigureAwait(false)
            ?? throw new CairnClientException("The server answered feedback without a count.");
        return recorded.Recorded;
    }

    /// <summary>
    /// Reads any endpoint of the server's API (<c>api/...</c>, <c>v2</c>) as <paramref name="type"/>; retried as
    /// every read is. For endpoints this client has no method for, with the caller's own types.
    /// </summary>
    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, path, () => null!, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, type, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="content"/> to any endpoint and reads the answer as <paramref name="type"/>. Not retried
    /// unless <paramref name="retry"/> says the request is safe to repeat.
    /// </summary>
    public async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, bool retry = false,
        CancellationToken cancellationToken = default)
    {
        using var response = content is null
            ? await SendAsync(method, path, () => null!, cancellationToken, retry).ConfigureAwait(false)
            : await SendAsync(method, path, content, cancellationToken, retry).ConfigureAwait(false);
        return await ReadAsync(response, type, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="content"/> to any endpoint whose answer has no body worth reading (204 and the like).</summary>
    public async Task SendAsync(HttpMethod method, string path, HttpContent? content, bool retry = false, CancellationToken cancellationToken = default)
    {
        using var response = content is null
            ? await SendAsync(method, path, () => null!, cancellationToken, retry).ConfigureAwait(false)
            : await SendAsync(method, path, content, cancellationToken, retry).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a request to any endpoint and returns its successful response for the caller to read (and dispose): for
    /// downloads, and for answers whose status matters (201 against 200).
    /// </summary>
    public Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, Func<HttpContent?> content, bool retry = false,
        CancellationToken cancellationToken = default) =>
        SendAsync(method, path, () => content()!, cancellationToken, retry);

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
            ?? throw new CairnClientException($"The server answered {response.RequestMessage?.RequestUri} with an empty body.");

    // Sends one request, retrying connection failures, timeouts, 408, 429 and 5xx with exponential backoff.
    // The caller makes the request idempotent (log batches carry a batch id), so a retry never writes twice.
    internal async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent content, CancellationToken cancellationToken,
        bool retry = true)
    {
        var payload = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var mediaType = content.Headers.ContentType;
        return await SendAsync(method, path, () => new ByteArrayContent(payload) { Headers = { ContentType = mediaType } }, cancellationToken, retry)
            .ConfigureAwait(false);
    }

    // The same, building the body afresh for each attempt, so a large file is streamed again rather than held in memory.
    internal async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Func<HttpContent> content, CancellationToken cancellationToken,
        bool retry = true)
    {
        var attempts = 0;
        HttpResponseMessage response;
        try
        {
            response = await (retry ? Retries : ResiliencePipeline<HttpResponseMessage>.Empty).ExecuteAsync(async ct =>
            {
                attempts++;
                using var request = new HttpRequestMessage(method, path) { Content = content() };
                return await Http.SendAsync(request, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new CairnClientException($"{method} {path} failed after {attempts} attempts: {e.Message}", null, e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var (code, reason) = ErrorOf(text);
            throw new CairnClientException($"{method} {path} answered {status}: {text}", status, null, code, reason);
        }
    }

    // Cairn's error body, {"error": "...", "code": "not_found"}; MLflow's, {"message": "...", "error_code": "..."}.
    private static (string? Code, string? Reason) ErrorOf(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            string? Text(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            return (Text("code") ?? Text("error_code"), Text("error") ?? Text("message"));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    // Connection failures, timeouts, 408, 429 and 5xx are retried with exponential backoff; the caller makes requests
    // idempotent (log batches carry a batch id), so a retry never writes twice.
    private ResiliencePipeline<HttpResponseMessage> Retries => _retries ??= new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = Options.TimeProvider }
        .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = Math.Max(1, Options.MaxAttempts - 1),
            Delay = Options.RetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
            {
                { Exception: HttpRequestException } => Options.MaxAttempts > 1,
                { Exception: TaskCanceledException } => Options.MaxAttempts > 1 && !args.Context.CancellationToken.IsCancellationRequested,
                { Result: { } answer } => Options.MaxAttempts > 1 && (int)answer.StatusCode is 408 or 429 or >= 500,
                _ => false,
            }),
            OnRetry = args =>
            {
                args.Outcome.Result?.Dispose();
                return default;
            },
        })
        .Build();
}

internal sealed record CreateRunRequest(string? ExperimentId, string? Name, Dictionary<string, string>? Tags, string? ParentRunId);

internal sealed record RunResponse(string Id);

internal sealed record MetricPoint(string Key, double Value, long Step, long Timestamp);

internal sealed record LogRequest(List<MetricPoint>? Metrics, Dictionary<string, string>? Params, Dictionary<string, string>? Tags, string BatchId);

internal sealed record UpdateRunRequest(string Status, long EndTime);

internal sealed record RegisterModelRequest(string RunId, string? Alias);

internal sealed record ModelVersionResponse(int Version);

internal sealed record FeedbackResponse(int Recorded);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(CreateRunRequest))]
[JsonSerializable(typeof(RunResponse))]
[JsonSerializable(typeof(LogRequest))]
[JsonSerializable(typeof(UpdateRunRequest))]
[JsonSerializable(typeof(RegisterModelRequest))]
[JsonSerializable(typeof(ModelVersionResponse))]
[JsonSerializable(typeof(FeedbackResponse))]
internal sealed partial class ClientJson : JsonSerializerContext;

/// <summary>A scored request: its id (row <c>i</c> is <c>ID/i</c> for feedback), the version that answered, and one object of outputs per row.</summary>
/// <param name="PredictionId">The request's prediction id.</param>
/// <param name="Model">The registered model that answered.</param>
/// <param name="Version">Its version.</param>
/// <param name="Rows">Per row, its outputs: such as <c>predicted_label</c> and <c>probability</c>.</param>
public sealed record Predictions(string PredictionId, string Model, int Version, IReadOnlyList<JsonElement> Rows);

/// <summary>The true label of one prediction: a class for classifiers, a number for regression.</summary>
public sealed record PredictionLabel
{
    /// <summary>A class label.</summary>
    public PredictionLabel(string predictionId, string label) => (PredictionId, Class) = (predictionId, label);

    /// <summary>A numeric label (regression).</summary>
    public PredictionLabel(string predictionId, double label) => (PredictionId, Number) = (predictionId, label);

    /// <summary>The prediction's id.</summary>
    public string PredictionId { get; }

    /// <summary>The class, for classifiers.</summary>
    public string? Class { get; }

    /// <summary>The value, for regression.</summary>
    public double? Number { get; }
}
