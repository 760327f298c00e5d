using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cairn.Application.Serving;
using Cairn.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Cli.Tests;

/// <summary>Deployments through the CLI and a real server: routing, shadows, hot swaps, replicas and overload.</summary>
public sealed class DeploymentTests : IAsyncLifetime
{
    private static readonly CairnServerOptions FastRefresh = new() { DeploymentRefresh = TimeSpan.FromMilliseconds(100) };

    private readonly CairnHarness _cairn = new();

    public async Task InitializeAsync()
    {
        var runId = await _cairn.TrainAndRegisterAsync("adult.csv", "adult", AdultModelFixture.Spec, AdultModelFixture.Model);
        await _cairn.RunOkAsync("models", "register", runId, "--name", AdultModelFixture.Model);
    }

    public Task DisposeAsync() => _cairn.DisposeAsync().AsTask();

    [Fact]
    public async Task BeforeItsFirstLoad_AHostAnswersUnavailable_NotNotFound_SoALoadBalancerTriesAnotherReplica()
    {
        await using var services = ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(new ServiceCollection()
            .AddCairn(CairnHome.Resolve(_cairn.Home, null, null, _ => null, _cairn.WorkingDirectory), new Application.Actor("test")));
        await using var host = ActivatorUtilities.CreateInstance<DeploymentHost>(services, new ServingObservers());

        var loading = Assert.Throws<Core.CairnException>(() => host.Acquire("adult", null));
        await host.RefreshAsync(CancellationToken.None);
        var missing = Assert.Throws<Core.CairnException>(() => host.Acquire("adult", null));

        Assert.Equal(Core.ErrorCode.Unavailable, loading.Code);
        Assert.Equal(Core.ErrorCode.NotFound, missing.Code);
    }

    [Fact]
    public async Task Deployments_AreCreatedListedShownUpdatedAndDeleted()
    {
        var created = (await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@champion", "--max-batch-rows", "64", "--json")).Json;
        Assert.Equal("adult-income@champion", created.GetProperty("spec").GetProperty("model").GetString());
        Assert.Equal(64, created.GetProperty("spec").GetProperty("batching").GetProperty("max_batch_rows").GetInt32());
        Assert.Equal(1, created.GetProperty("revision").GetInt32());

        var updated = (await _cairn.RunOkAsync("deployments", "update", "adult", "--canary", "adult-income@2", "--percent", "20", "--shadow", "adult-income@1", "--json")).Json;
        Assert.Equal(2, updated.GetProperty("revision").GetInt32());
        Assert.Equal("adult-income@2", updated.GetProperty("spec").GetProperty("canary").GetString());
        Assert.Equal(20, updated.GetProperty("spec").GetProperty("canary_percent").GetInt32());
        Assert.Equal(64, updated.GetProperty("spec").GetProperty("batching").GetProperty("max_batch_rows").GetInt32());

        var shown = await _cairn.RunOkAsync("deployments", "show", "adult");
        Assert.Contains("adult-income@2", shown.Output);
        Assert.Contains("80%", shown.Output);

        var promoted = (await _cairn.RunOkAsync("deployments", "update", "adult", "--promote-canary", "--no-shadow", "--json")).Json;
        Assert.Equal("adult-income@2", promoted.GetProperty("spec").GetProperty("model").GetString());
        Assert.False(promoted.GetProperty("spec").TryGetProperty("canary", out _));

        var listed = (await _cairn.RunOkAsync("deployments", "list", "--json")).Json;
        Assert.Equal("adult", Assert.Single(listed.EnumerateArray()).GetProperty("name").GetString());
        await _cairn.RunOkAsync("deployments", "delete", "adult");
        Assert.Empty((await _cairn.RunOkAsync("deployments", "list", "--json")).Json.EnumerateArray());
        var events = (await _cairn.RunOkAsync("events", "--json")).Output;
        Assert.Contains("deployment.created", events);
        Assert.Contains("deployment.deleted", events);
    }

    [Theory]
    [InlineData(new[] { "deploy", "d", "--model", "no-such-model@champion" }, 3, "no-such-model")]
    [InlineData(new[] { "deploy", "d", "--model", "adult-income@nope" }, 3, "no alias 'nope'")]
    [InlineData(new[] { "deploy", "d", "--model", "adult-income@champion", "--percent", "10" }, 2, "needs a canary model")]
    [InlineData(new[] { "deploy", "d", "--model", "adult-income@champion", "--canary", "adult-income@2", "--percent", "100" }, 2, "between 1 and 99")]
    [InlineData(new[] { "deploy", "d", "--model", "adult-income@champion", "--max-batch-rows", "0", "--max-queue", "0" }, 2, "request queue")]
    [InlineData(new[] { "deploy", "bad name", "--model", "adult-income@champion" }, 2, "deployment name")]
    [InlineData(new[] { "deployments", "update", "missing", "--model", "adult-income@1" }, 3, "no deployment named 'missing'")]
    [InlineData(new[] { "deployments", "delete", "missing" }, 3, "no deployment named 'missing'")]
    public async Task BadDeployments_AreRefusedWithTheReason(string[] args, int exitCode, string message)
    {
        var result = await _cairn.RunAsync(args);

        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains(message, result.Error + result.Output);
        Assert.Empty((await _cairn.RunOkAsync("deployments", "list", "--json")).Json.EnumerateArray());
    }

    [Fact]
    public async Task ADeploymentName_IsTakenOnce()
    {
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@1");
        var again = await _cairn.RunAsync("deploy", "adult", "--model", "adult-income@2");

        Assert.Equal(4, again.ExitCode);
        Assert.Contains("already exists", again.Error);
    }

    [Fact]
    public async Task ADeployment_IsServedOverEveryProtocol_AndNamesTheVersionThatAnswered()
    {
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@champion");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);

        using var infer = await PostAsync(client, "/v2/models/adult/infer", AdultModelFixture.TwoRowsAsOpenInference("req-1"));
        var body = await JsonAsync(infer);
        Assert.Equal(200, (int)infer.StatusCode);
        Assert.Equal("adult", body.GetProperty("model_name").GetString());
        Assert.Equal("1", body.GetProperty("model_version").GetString());
        Assert.Equal("req-1", body.GetProperty("id").GetString());
        Assert.Equal("adult-income@1", infer.Headers.GetValues(InferenceEndpoints.ModelVersionHeader).Single());
        var predictionId = infer.Headers.GetValues(InferenceEndpoints.PredictionIdHeader).Single();
        Assert.Equal(predictionId, body.GetProperty("parameters").GetProperty("prediction_id").GetString());

        using var invocations = await PostAsync(client, "/api/deployments/adult/invocations", AdultModelFixture.TwoRows.Replace("\"rows\"", "\"dataframe_records\"", StringComparison.Ordinal));
        var predictions = (await JsonAsync(invocations)).GetProperty("predictions");
        Assert.Equal(2, predictions.GetArrayLength());
        Assert.Equal(">50K", predictions[0].GetProperty("predicted_label").GetString());

        var (status, metadata) = await client.GetJsonAsync("/v2/models/adult");
        Assert.Equal(200, status);
        Assert.Equal("1", Assert.Single(metadata.GetProperty("versions").EnumerateArray()).GetString());

        var (_, served) = await client.GetJsonAsync("/api/deployments");
        var adult = Assert.Single(served.GetProperty("deployments").EnumerateArray());
        Assert.Equal("adult-income@champion", adult.GetProperty("model").GetProperty("reference").GetString());
        Assert.Equal("adult-income@1", adult.GetProperty("model").GetProperty("version").GetString());
        // The compiled engine answers once it has matched ONNX Runtime on the version's test rows.
        Assert.Equal("compiled", adult.GetProperty("model").GetProperty("engine").GetString());
        Assert.False(adult.GetProperty("model").TryGetProperty("not_compiled", out _));
        Assert.Equal(404, (await client.GetJsonAsync("/api/deployments/nope")).Status);

        // Bare MLflow paths belong to replicas of one deployment.
        var (bare, error) = await client.PostJsonAsync("/invocations", AdultModelFixture.TwoRows.Replace("\"rows\"", "\"dataframe_records\"", StringComparison.Ordinal));
        Assert.Equal(404, bare);
        Assert.Contains("--deployment", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ACanary_AnswersItsShare_StickilyPerRoutingKey()
    {
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@1", "--canary", "adult-income@2", "--percent", "50");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);

        var versions = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            using var response = await PostAsync(client, "/api/deployments/adult/predict", AdultModelFixture.TwoRows);
            Assert.Equal(200, (int)response.StatusCode);
            versions.Add(response.Headers.GetValues(InferenceEndpoints.ModelVersionHeader).Single());
        }

        Assert.Contains("adult-income@1", versions);
        Assert.Contains("adult-income@2", versions);
        foreach (var key in new[] { "customer-1", "customer-2", "customer-3", "customer-4" })
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < 8; i++)
            {
                using var response = await PostAsync(client, "/api/deployments/adult/predict", AdultModelFixture.TwoRows, key);
                seen.Add(response.Headers.GetValues(InferenceEndpoints.ModelVersionHeader).Single());
            }

            Assert.Single(seen);
        }

        // A caller can pin either version the deployment serves, and no other.
        using var pinned = await PostAsync(client, "/v2/models/adult/versions/2/infer", AdultModelFixture.TwoRowsAsOpenInference());
        Assert.Equal("adult-income@2", pinned.Headers.GetValues(InferenceEndpoints.ModelVersionHeader).Single());
        using var other = await PostAsync(client, "/v2/models/adult/versions/7/infer", AdultModelFixture.TwoRowsAsOpenInference());
        Assert.Equal(404, (int)other.StatusCode);
    }

    [Fact]
    public async Task AShadow_ScoresACopy_WhoseAnswerIsCountedNotReturned()
    {
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@1", "--shadow", "adult-income@2");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);

        for (var i = 0; i < 5; i++)
        {
            using var response = await PostAsync(client, "/api/deployments/adult/predict", AdultModelFixture.TwoRows);
            Assert.Equal("adult-income@1", response.Headers.GetValues(InferenceEndpoints.ModelVersionHeader).Single());
        }

        // The same model in both roles: every shadow answer agrees.
        var agreed = 0.0;
        for (var attempt = 0; attempt < 50 && agreed < 10; attempt++)
        {
            await Task.Delay(50);
            var metrics = await client.GetStringAsync("/metrics");
            agreed = MetricValue(metrics, "cairn_shadow_rows_total{deployment=\"adult\",model=\"adult-income\",version=\"2\",agreed=\"true\"}");
        }

        Assert.Equal(10, agreed);
    }

    [Fact]
    public async Task ThePredictionHook_SeesEveryAnswerAndShadowCopy_UnderItsPredictionId()
    {
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@1", "--shadow", "adult-income@2");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);
        var seen = new PredictionTap();
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<ServingObservers>(_cairn.Services!).Add(seen);

        using var response = await PostAsync(client, "/api/deployments/adult/predict", AdultModelFixture.TwoRows);
        var id = response.Headers.GetValues(InferenceEndpoints.PredictionIdHeader).Single();
        for (var attempt = 0; attempt < 50 && seen.Count < 2; attempt++)
        {
            await Task.Delay(20);
        }

        Assert.Equal(["model", "shadow"], seen.Select(r => r.Role).Order());
        Assert.All(seen, r => Assert.Equal((id, "adult", 2), (r.Id, r.Deployment, r.Inputs.RowCount)));
        Assert.Equal([1, 2], seen.Select(r => r.Version.Version).Order());
        Assert.All(seen, r => Assert.Equal(">50K", r.Outputs.Single(o => o.Name == "predicted_label").Strings![0]));
    }

    [Fact]
    public async Task AliasMovesAndUpdatesUnderLoad_FailNoRequest()
    {
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@champion");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var answered = new HashSet<string>();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await PostAsync(client, "/v2/models/adult/infer", AdultModelFixture.TwoRowsAsOpenInference());
                lock (failures)
                {
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Add($"{(int)response.StatusCode}: {response.Content.ReadAsStringAsync().Result}");
                    }
                    else
                    {
                        answered.Add(response.Headers.GetValues(InferenceEndpoints.ModelVersionHeader).Single());
                    }
                }
            }
        })).ToList();

        for (var move = 0; move < 6; move++)
        {
            await _cairn.RunOkAsync("models", "set-alias", "adult-income", "champion", move % 2 == 0 ? "2" : "1");
            await Task.Delay(250);
        }

        await _cairn.RunOkAsync("deployments", "update", "adult", "--model", "adult-income@2", "--max-batch-rows", "32");
        await Task.Delay(250);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Empty(failures);
        Assert.Equal(["adult-income@1", "adult-income@2"], answered.Order());
    }

    [Fact]
    public async Task AReplica_ServesOneDeployment_OnMlflowsBarePaths()
    {
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@2");
        await _cairn.RunOkAsync("deploy", "other", "--model", "adult-income@1");
        using var client = await _cairn.StartServerAsync(options: FastRefresh with { Deployment = "adult" });

        var (status, body) = await client.PostJsonAsync("/invocations", AdultModelFixture.TwoRows.Replace("\"rows\"", "\"dataframe_records\"", StringComparison.Ordinal));
        Assert.Equal(200, status);
        Assert.Equal(2, body.GetProperty("version").GetInt32());
        Assert.Equal("2", await client.GetStringAsync("/version"));
        Assert.Equal(200, (int)(await client.GetAsync("/ping")).StatusCode);
        Assert.Equal(404, (int)(await client.GetAsync("/api/deployments/other/ping")).StatusCode);

        await Assert.ThrowsAsync<Core.CairnException>(() => _cairn.StartServerAsync(options: FastRefresh with { Deployment = "missing" }));
    }

    [Fact]
    public async Task AVersionThatFailsToLoad_LeavesThePreviousOneServing()
    {
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@champion");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);

        // Both versions share their blobs: damage the ONNX graph and the ML.NET model, then point the alias at the version not loaded yet.
        await DamageAsync("onnx_artifact");
        await DamageAsync("ml_net_artifact");
        await _cairn.RunOkAsync("models", "set-alias", "adult-income", "champion", "2");
        await Task.Delay(500);

        using var response = await PostAsync(client, "/v2/models/adult/infer", AdultModelFixture.TwoRowsAsOpenInference());
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("adult-income@1", response.Headers.GetValues(InferenceEndpoints.ModelVersionHeader).Single());
        var (_, served) = await client.GetJsonAsync("/api/deployments/adult");
        Assert.Contains("could not serve it either", served.GetProperty("pending_error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVersionOnnxRuntimeCannotLoad_IsServedByMLNet()
    {
        await DamageAsync("onnx_artifact");
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@champion");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);

        var (status, body) = await client.PostJsonAsync("/api/deployments/adult/predict", AdultModelFixture.TwoRows);
        var (_, metadata) = await client.GetJsonAsync("/v2/models/adult");

        Assert.Equal(200, status);
        Assert.Equal([">50K", "<=50K"], body.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("predicted_label").GetString()));
        Assert.Equal("mlnet", metadata.GetProperty("platform").GetString());
    }

    [Fact]
    public async Task Traces_ReachAnOpenTelemetryCollector_WithRequestAndBatchSpans()
    {
        // A stand-in collector: a real HTTP endpoint that keeps what OTLP exporters post to /v1/traces.
        var received = new System.Collections.Concurrent.ConcurrentQueue<byte[]>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = builder.Build();
        collector.MapPost("/v1/traces", async (Microsoft.AspNetCore.Http.HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            received.Enqueue(body.ToArray());
            return Microsoft.AspNetCore.Http.Results.Ok();
        });
        await collector.StartAsync();
        var collectorAddress = new Uri(collector.Urls.Single());

        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@1");
        using var client = await _cairn.StartServerAsync(options: FastRefresh with { TracesEndpoint = collectorAddress });
        using var response = await PostAsync(client, "/api/deployments/adult/predict", AdultModelFixture.TwoRows);
        var predictionId = response.Headers.GetValues(InferenceEndpoints.PredictionIdHeader).Single();

        var spans = "";
        for (var attempt = 0; attempt < 100 && !(spans.Contains(predictionId, StringComparison.Ordinal) && spans.Contains("cairn.batch", StringComparison.Ordinal)); attempt++)
        {
            await Task.Delay(100);
            spans = string.Join("\n", received.Select(b => Encoding.UTF8.GetString(b)));
        }

        Assert.Contains("cairn.predict", spans, StringComparison.Ordinal);
        Assert.Contains("cairn.batch", spans, StringComparison.Ordinal);
        Assert.Contains(predictionId, spans, StringComparison.Ordinal);
        Assert.Contains("/api/deployments/{name}/predict", spans, StringComparison.Ordinal);
        await collector.StopAsync();
    }

    [Fact]
    public async Task Overload_IsRefusedWith429AndRetryAfter_AndAdmittedRequestsAreAnswered()
    {
        // One waiting request at most, and requests that each take a scoring slot for milliseconds.
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@1", "--max-queue", "1", "--max-batch-rows", "1000", "--max-queue-mib", "64");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);

        var responses = await BurstAsync(client, 48);

        Assert.All(responses, r => Assert.True(r.Status is 200 or 429, $"unexpected {r.Status}: {r.Body}"));
        var refused = responses.Where(r => r.Status == 429).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r => Assert.Equal(TimeSpan.FromSeconds(1), r.RetryAfter));
        Assert.All(refused, r => Assert.Equal("resource_exhausted", r.Body.GetProperty("code").GetString()));
        Assert.All(responses.Where(r => r.Status == 200), r => Assert.Equal(2000, r.Body.GetProperty("predictions").GetArrayLength()));

        // Once the burst is over the deployment answers again.
        using var after = await PostAsync(client, "/api/deployments/adult/predict", AdultModelFixture.TwoRows);
        Assert.Equal(200, (int)after.StatusCode);
    }

    [Fact]
    public async Task OverloadWithLargeBodies_IsRefusedBeforeTheyAreRead_WhileASingleRowClientIsAnswered()
    {
        // Bodies are admitted by size before they are parsed: 1 MiB in hand holds three of the 1,000-row requests.
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@1", "--max-queue-mib", "1", "--max-batch-rows", "1000");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);
        var row = JsonDocument.Parse(AdultModelFixture.TwoRows).RootElement.GetProperty("rows")[0].GetRawText();
        var large = $$"""{"rows": [{{string.Join(",", Enumerable.Repeat(row, 1000))}}]}""";
        Assert.InRange(Encoding.UTF8.GetByteCount(large), 200_000, 340_000);

        using var stop = new CancellationTokenSource();
        var single = Task.Run(async () =>
        {
            var statuses = new List<int>();
            while (!stop.IsCancellationRequested || statuses.Count < 10)
            {
                using var response = await PostAsync(client, "/api/deployments/adult/predict", $$"""{"rows": [{{row}}]}""");
                statuses.Add((int)response.StatusCode);
            }

            return statuses;
        });
        var burst = await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            using var response = await PostAsync(client, "/api/deployments/adult/predict", large);
            return ((int)response.StatusCode, response.Headers.RetryAfter?.Delta);
        }));
        await stop.CancelAsync();
        var singles = await single;

        Assert.All(burst, r => Assert.True(r.Item1 is 200 or 429, $"unexpected {r.Item1}"));
        Assert.Contains(burst, r => r.Item1 == 429 && r.Delta == TimeSpan.FromSeconds(1));
        Assert.Contains(burst, r => r.Item1 == 200);
        Assert.All(singles, status => Assert.Equal(200, status));
    }

    [Fact]
    public async Task RequestsThatWaitPastTheirTimeout_Are503WithRetryAfter()
    {
        // Room for the whole burst in hand, so requests wait rather than being refused.
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@1", "--timeout-ms", "1", "--max-batch-rows", "1000", "--max-queue-mib", "64");
        using var client = await _cairn.StartServerAsync(options: FastRefresh);

        var responses = await BurstAsync(client, 24);

        Assert.All(responses, r => Assert.True(r.Status is 200 or 503, $"unexpected {r.Status}: {r.Body}"));
        var late = responses.Where(r => r.Status == 503).ToList();
        Assert.NotEmpty(late);
        Assert.All(late, r => Assert.Equal(TimeSpan.FromSeconds(1), r.RetryAfter));
        Assert.All(late, r => Assert.Contains("within 0.001 s", r.Body.GetProperty("error").GetString(), StringComparison.Ordinal));
    }

    // Requests of 2,000 rows each, all at once: each keeps a scoring slot busy for milliseconds.
    private static async Task<(int Status, TimeSpan? RetryAfter, JsonElement Body)[]> BurstAsync(HttpClient client, int requests)
    {
        var rows = string.Join(",", Enumerable.Repeat(JsonDocument.Parse(AdultModelFixture.TwoRows).RootElement.GetProperty("rows")[0].GetRawText(), 2000));
        var request = $$"""{"rows": [{{rows}}]}""";
        return await Task.WhenAll(Enumerable.Range(0, requests).Select(async _ =>
        {
            using var response = await PostAsync(client, "/api/deployments/adult/predict", request);
            return ((int)response.StatusCode, response.Headers.RetryAfter?.Delta, await JsonAsync(response));
        }));
    }

    // Overwrites a stored blob of the models' package, as disk damage would.
    private async Task DamageAsync(string artifact)
    {
        var hash = (await _cairn.RunOkAsync("models", "show", "adult-income", "--json")).Json[0].GetProperty("package").GetProperty(artifact).GetString()!;
        var blob = Path.Combine(_cairn.Home, "artifacts", "sha256", hash[..2], hash[2..]);
        File.SetAttributes(blob, FileAttributes.Normal);
        await File.WriteAllTextAsync(blob, "not a model");
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json, string? routingKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (routingKey is not null)
        {
            request.Headers.Add(InferenceEndpoints.RoutingKeyHeader, routingKey);
        }

        return await client.SendAsync(request);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static double MetricValue(string exposition, string series) =>
        exposition.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal)) is { } line
            ? double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture)
            : 0;

    // Sees what serving reports as predictions, as monitoring's recorder does.
    private sealed class PredictionTap : System.Collections.Concurrent.ConcurrentQueue<PredictionRecord>, IServingObserver
    {
        public void Predicted(PredictionRecord prediction) => Enqueue(prediction);
    }
}
