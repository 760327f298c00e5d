using System.Text.Json;

namespace Cairn.Cli.Tests;

/// <summary>The MLflow REST API, checked against the request and response shapes of MLflow's published REST API reference.</summary>
public sealed class MlflowApiTests : ServerTest
{
    private const string Api = "/api/2.0/mlflow";

    private async Task<JsonElement> OkAsync(string path, string json)
    {
        var (status, body) = await Server.PostJsonAsync(Api + path, json);
        Assert.True(status == 200, $"{path} answered {status}: {body}");
        return body;
    }

    private async Task<JsonElement> GetOkAsync(string path)
    {
        var (status, body) = await Server.GetJsonAsync(Api + path);
        Assert.True(status == 200, $"{path} answered {status}: {body}");
        return body;
    }

    private async Task AssertErrorAsync(string path, string json, int status, string code, string? message = null)
    {
        var (actual, body) = await Server.PostJsonAsync(Api + path, json);
        Assert.Equal(status, actual);
        Assert.Equal(code, body.GetProperty("error_code").GetString());
        if (message is not null)
        {
            Assert.Contains(message, body.GetProperty("message").GetString());
        }
    }

    private async Task<string> CreateRunAsync(string experimentId = "0")
    {
        var body = await OkAsync("/runs/create", $$"""{"experiment_id": "{{experimentId}}", "start_time": 1700000000000, "tags": [{"key": "mlflow.runName", "value": "first"}]}""");
        return body.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
    }

    [Fact]
    public async Task Experiments_CreateGetRenameTagSearchDeleteRestore()
    {
        var created = await OkAsync("/experiments/create", """{"name": "fraud", "tags": [{"key": "team", "value": "risk"}], "unknown_field": 1}""");
        var id = created.GetProperty("experiment_id").GetString()!;

        var experiment = (await GetOkAsync($"/experiments/get?experiment_id={id}")).GetProperty("experiment");
        Assert.Equal("fraud", experiment.GetProperty("name").GetString());
        Assert.Equal("active", experiment.GetProperty("lifecycle_stage").GetString());
        Assert.Equal($"mlflow-artifacts:/{id}", experiment.GetProperty("artifact_location").GetString());
        Assert.Equal(JsonValueKind.Number, experiment.GetProperty("creation_time").ValueKind);
        Assert.Equal("risk", experiment.GetProperty("tags")[0].GetProperty("value").GetString());
        await AssertErrorAsync("/experiments/create", """{"name": "fraud"}""", 400, "RESOURCE_ALREADY_EXISTS");

        await OkAsync("/experiments/update", $$"""{"experiment_id": "{{id}}", "new_name": "fraud-v2"}""");
        await OkAsync("/experiments/set-experiment-tag", $$"""{"experiment_id": "{{id}}", "key": "owner", "value": "ana"}""");
        await OkAsync("/experiments/delete-experiment-tag", $$"""{"experiment_id": "{{id}}", "key": "team"}""");
        var renamed = (await GetOkAsync("/experiments/get-by-name?experiment_name=fraud-v2")).GetProperty("experiment");
        Assert.Equal(id, renamed.GetProperty("experiment_id").GetString());
        Assert.Equal(["owner"], renamed.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("key").GetString()));

        var active = await OkAsync("/experiments/search", """{"max_results": 10}""");
        Assert.Equal(["Default", "fraud-v2"], active.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()));

        await OkAsync("/experiments/delete", $$"""{"experiment_id": "{{id}}"}""");
        var afterDelete = await OkAsync("/experiments/search", """{"view_type": "DELETED_ONLY"}""");
        Assert.Equal(id, afterDelete.GetProperty("experiments")[0].GetProperty("experiment_id").GetString());
        await AssertErrorAsync("/runs/create", $$"""{"experiment_id": "{{id}}"}""", 400, "INVALID_PARAMETER_VALUE", "is deleted");
        await OkAsync("/experiments/restore", $$"""{"experiment_id": "{{id}}"}""");
        Assert.Equal("active", (await GetOkAsync($"/experiments/get?experiment_id={id}")).GetProperty("experiment").GetProperty("lifecycle_stage").GetString());
    }

    [Fact]
    public async Task Experiments_Search_PagesWithATokenUntilTheEnd()
    {
        foreach (var i in Enumerable.Range(0, 5))
        {
            await OkAsync("/experiments/create", $$"""{"name": "e{{i}}"}""");
        }

        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await OkAsync("/experiments/search", token is null ? """{"max_results": 2}""" : $$"""{"max_results": 2, "page_token": "{{token}}"}""");
            names.AddRange(page.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()!));
            token = page.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
        }
        while (token is not null);

        Assert.Equal(["Default", "e0", "e1", "e2", "e3", "e4"], names);
    }

    [Fact]
    public async Task Experiments_Search_FiltersOnNameAndTagsAndOrders()
    {
        await OkAsync("/experiments/create", """{"name": "fraud-a", "tags": [{"key": "team", "value": "risk"}]}""");
        await OkAsync("/experiments/create", """{"name": "fraud-b"}""");
        await OkAsync("/experiments/create", """{"name": "churn", "tags": [{"key": "team", "value": "risk"}]}""");

        var byName = await OkAsync("/experiments/search", """{"filter": "attribute.name LIKE 'fraud%'", "order_by": ["name DESC"]}""");
        Assert.Equal(["fraud-b", "fraud-a"], byName.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        var byTag = await OkAsync("/experiments/search", """{"filter": "tags.team = 'risk'", "order_by": ["creation_time ASC"]}""");
        Assert.Equal(["fraud-a", "churn"], byTag.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        await AssertErrorAsync("/experiments/search", """{"filter": "metrics.auc > 1"}""", 400, "INVALID_PARAMETER_VALUE", "position 1");
    }

    [Fact]
    public async Task ArtifactProxy_UploadsListsDownloadsAndDeletes_UnderTheRunsArtifactUri()
    {
        var runId = await CreateRunAsync();
        var run = (await GetOkAsync($"/runs/get?run_id={runId}")).GetProperty("run");
        var uri = run.GetProperty("info").GetProperty("artifact_uri").GetString()!;
        var proxyPath = "/api/2.0/mlflow-artifacts/artifacts/" + uri["mlflow-artifacts:/".Length..];

        foreach (var (path, content) in new[] { ("model/MLmodel", "flavors: {}"), ("model/model.pkl", "pickle"), ("metrics.json", "{}") })
        {
            using var body = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(content));
            using var response = await Server.PutAsync($"{proxyPath}/{path}", body);
            Assert.Equal(200, (int)response.StatusCode);
        }

        var listed = await GetOkAsync($"/artifacts/list?run_id={runId}");
        Assert.Equal(uri, listed.GetProperty("root_uri").GetString());
        Assert.Equal([("metrics.json", false), ("model", true)],
            listed.GetProperty("files").EnumerateArray().Select(f => (f.GetProperty("path").GetString(), f.GetProperty("is_dir").GetBoolean())));
        var model = await GetOkAsync($"/artifacts/list?run_id={runId}&path=model");
        Assert.Equal(6, model.GetProperty("files")[1].GetProperty("file_size").GetInt64());
        var (_, proxyList) = await Server.GetJsonAsync("/api/2.0/mlflow-artifacts/artifacts?path=" + Uri.EscapeDataString(uri["mlflow-artifacts:/".Length..] + "/model"));
        Assert.Equal(["MLmodel", "model.pkl"], proxyList.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.Equal("pickle", await Server.GetStringAsync($"{proxyPath}/model/model.pkl"));

        using (var deleted = await Server.DeleteAsync($"{proxyPath}/model/model.pkl"))
        {
            Assert.Equal(200, (int)deleted.StatusCode);
        }

        Assert.Equal(404, (await Server.GetJsonAsync($"{proxyPath}/model/model.pkl")).Status);
        Assert.Equal(404, (await Server.GetJsonAsync($"/api/2.0/mlflow-artifacts/artifacts/7/{runId}/artifacts/metrics.json")).Status);
    }

    [Fact]
    public async Task LogInputs_RecordsDatasets_AndLinksACairnVersionByDigest()
    {
        var added = await Cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "iris", "--json");
        var hash = added.Json.GetProperty("content_hash").GetString()!;
        var runId = await CreateRunAsync();

        await OkAsync("/runs/log-inputs", $$$"""
            {"run_id": "{{{runId}}}", "datasets": [
              {"tags": [{"key": "mlflow.data.context", "value": "training"}],
               "dataset": {"name": "iris", "digest": "{{{hash[..8]}}}", "source_type": "local", "source": "{\"uri\": \"iris.csv\"}", "schema": "{}"}},
              {"tags": [{"key": "mlflow.data.context", "value": "eval"}],
               "dataset": {"name": "holdout", "digest": "abcdef12", "source_type": "s3", "source": "{\"uri\": \"s3://b/holdout.parquet\"}"}}]}
            """);
        await OkAsync("/runs/log-inputs", $$$"""{"run_id": "{{{runId}}}", "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "eval"}], "dataset": {"name": "holdout", "digest": "abcdef12", "source_type": "s3", "source": "x"}}]}""");

        var inputs = (await GetOkAsync($"/runs/get?run_id={runId}")).GetProperty("run").GetProperty("inputs").GetProperty("dataset_inputs");
        Assert.Equal(2, inputs.GetArrayLength());
        var holdout = inputs[0].GetProperty("dataset");
        Assert.Equal(("holdout", "abcdef12", "s3"), (holdout.GetProperty("name").GetString(), holdout.GetProperty("digest").GetString(), holdout.GetProperty("source_type").GetString()));
        Assert.Equal("eval", inputs[0].GetProperty("tags")[0].GetProperty("value").GetString());
        var (_, native) = await Server.GetJsonAsync($"/api/runs/{runId}");
        var iris = native.GetProperty("inputs").EnumerateArray().Single(i => i.GetProperty("dataset").GetString() == "iris");
        Assert.Equal((1, "training"), (iris.GetProperty("version").GetInt32(), iris.GetProperty("context").GetString()));

        await AssertErrorAsync("/runs/log-inputs", $$$"""{"run_id": "{{{runId}}}", "datasets": [{"dataset": {"name": "x"}}]}""", 400, "INVALID_PARAMETER_VALUE", "datasets[0].digest is missing");
        await AssertErrorAsync("/runs/log-inputs", $$$"""{"run_id": "{{{runId}}}", "datasets": [{"tags": []}]}""", 400, "INVALID_PARAMETER_VALUE", "datasets[0] has no dataset");
    }

    [Fact]
    public async Task NestedRuns_FromTheParentRunTag_AreSearchableByParent()
    {
        var parent = await CreateRunAsync();
        var child = (await OkAsync("/runs/create", $$"""{"experiment_id": "0", "tags": [{"key": "mlflow.parentRunId", "value": "{{parent}}"}]}"""))
            .GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        await AssertErrorAsync("/runs/create", """{"experiment_id": "0", "tags": [{"key": "mlflow.parentRunId", "value": "0123456789abcdef0123456789abcdef"}]}""",
            404, "RESOURCE_DOES_NOT_EXIST", "parent run");

        var children = await OkAsync("/runs/search", $$"""{"experiment_ids": ["0"], "filter": "attributes.parent_run_id = '{{parent}}'"}""");
        Assert.Equal([child], children.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()));
        var byTag = await OkAsync("/runs/search", $$"""{"experiment_ids": ["0"], "filter": "tags.`mlflow.parentRunId` = '{{parent}}'"}""");
        Assert.Equal(1, byTag.GetProperty("runs").GetArrayLength());
        var (_, native) = await Server.GetJsonAsync($"/api/runs/{child}");
        Assert.Equal(parent, native.GetProperty("parent_run_id").GetString());
    }

    [Fact]
    public async Task Runs_CreateLogGetUpdate_MatchMlflowShapes()
    {
        var runId = await CreateRunAsync();

        await OkAsync("/runs/log-metric", $$"""{"run_id": "{{runId}}", "key": "loss", "value": 0.9, "timestamp": 1700000001000, "step": 0}""");
        await OkAsync("/runs/log-metric", $$"""{"run_id": "{{runId}}", "key": "loss", "value": 0.4, "timestamp": "1700000002000", "step": "1"}""");
        await OkAsync("/runs/log-parameter", $$"""{"run_id": "{{runId}}", "key": "lr", "value": "0.1"}""");
        await OkAsync("/runs/set-tag", $$"""{"run_id": "{{runId}}", "key": "team", "value": "risk"}""");
        await OkAsync("/runs/log-batch", $$"""
            {"run_id": "{{runId}}",
             "metrics": [{"key": "auc", "value": "NaN", "timestamp": 1700000003000, "step": 0}, {"key": "gain", "value": "Infinity", "timestamp": 1700000003000}],
             "params": [{"key": "trees", "value": "100"}, {"key": "lr", "value": "0.1"}],
             "tags": [{"key": "team", "value": "fraud"}]}
            """);
        await OkAsync("/runs/set-tag", $$"""{"run_id": "{{runId}}", "key": "temp", "value": "x"}""");
        await OkAsync("/runs/delete-tag", $$"""{"run_id": "{{runId}}", "key": "temp"}""");

        var run = (await GetOkAsync($"/runs/get?run_id={runId}")).GetProperty("run");
        var info = run.GetProperty("info");
        Assert.Equal(runId, info.GetProperty("run_uuid").GetString());
        Assert.Equal("first", info.GetProperty("run_name").GetString());
        Assert.Equal("0", info.GetProperty("experiment_id").GetString());
        Assert.Equal("RUNNING", info.GetProperty("status").GetString());
        Assert.Equal(1700000000000, info.GetProperty("start_time").GetInt64());
        Assert.Equal("active", info.GetProperty("lifecycle_stage").GetString());
        Assert.StartsWith("mlflow-artifacts:/0/", info.GetProperty("artifact_uri").GetString());
        var data = run.GetProperty("data");
        var metrics = data.GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("key").GetString()!);
        Assert.Equal(0.4, metrics["loss"].GetProperty("value").GetDouble());
        Assert.Equal(1, metrics["loss"].GetProperty("step").GetInt64());
        Assert.Equal("NaN", metrics["auc"].GetProperty("value").GetString());
        Assert.Equal("Infinity", metrics["gain"].GetProperty("value").GetString());
        Assert.Equal(new Dictionary<string, string> { ["lr"] = "0.1", ["trees"] = "100" },
            data.GetProperty("params").EnumerateArray().ToDictionary(p => p.GetProperty("key").GetString()!, p => p.GetProperty("value").GetString()!));
        var tags = data.GetProperty("tags").EnumerateArray().ToDictionary(p => p.GetProperty("key").GetString()!, p => p.GetProperty("value").GetString()!);
        Assert.Equal("fraud", tags["team"]);
        Assert.False(tags.ContainsKey("temp"));

        var history = (await GetOkAsync($"/metrics/get-history?run_id={runId}&metric_key=loss")).GetProperty("metrics");
        Assert.Equal([0.9, 0.4], history.EnumerateArray().Select(m => m.GetProperty("value").GetDouble()));
        Assert.Equal(1700000002000, history[1].GetProperty("timestamp").GetInt64());

        var updated = await OkAsync("/runs/update", $$"""{"run_id": "{{runId}}", "status": "FINISHED", "end_time": 1700000009000}""");
        Assert.Equal("FINISHED", updated.GetProperty("run_info").GetProperty("status").GetString());
        Assert.Equal(1700000009000, updated.GetProperty("run_info").GetProperty("end_time").GetInt64());
    }

    [Fact]
    public async Task Params_AreWriteOnce()
    {
        var runId = await CreateRunAsync();
        await OkAsync("/runs/log-parameter", $$"""{"run_id": "{{runId}}", "key": "lr", "value": "0.1"}""");

        await OkAsync("/runs/log-parameter", $$"""{"run_id": "{{runId}}", "key": "lr", "value": "0.1"}""");
        await AssertErrorAsync("/runs/log-parameter", $$"""{"run_id": "{{runId}}", "key": "lr", "value": "0.2"}""", 400, "INVALID_PARAMETER_VALUE", "write-once");
        await AssertErrorAsync("/runs/log-batch", $$"""{"run_id": "{{runId}}", "params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]}""",
            400, "INVALID_PARAMETER_VALUE", "different values in one batch");
    }

    [Fact]
    public async Task Runs_DeleteAndRestore_ControlWhetherTheyAcceptWrites()
    {
        var runId = await CreateRunAsync();

        await OkAsync("/runs/delete", $$"""{"run_id": "{{runId}}"}""");
        Assert.Equal("deleted", (await GetOkAsync($"/runs/get?run_id={runId}")).GetProperty("run").GetProperty("info").GetProperty("lifecycle_stage").GetString());
        await AssertErrorAsync("/runs/log-metric", $$"""{"run_id": "{{runId}}", "key": "m", "value": 1}""", 400, "INVALID_PARAMETER_VALUE", "is deleted");
        await OkAsync("/runs/restore", $$"""{"run_id": "{{runId}}"}""");
        await OkAsync("/runs/log-metric", $$"""{"run_id": "{{runId}}", "key": "m", "value": 1}""");
    }

    [Fact]
    public async Task Limits_AreEnforcedWithTheFieldNamed()
    {
        var runId = await CreateRunAsync();
        var tooMany = string.Join(",", Enumerable.Range(0, 1001).Select(i => $$"""{"key": "m{{i}}", "value": 1, "timestamp": 0}"""));

        await AssertErrorAsync("/runs/log-batch", $$"""{"run_id": "{{runId}}", "metrics": [{{tooMany}}]}""", 400, "INVALID_PARAMETER_VALUE", "at most 1000 metrics");
        await AssertErrorAsync("/runs/log-parameter", $$"""{"run_id": "{{runId}}", "key": "{{new string('k', 251)}}", "value": "1"}""", 400, "INVALID_PARAMETER_VALUE", "the limit is 250");
        await AssertErrorAsync("/runs/log-parameter", $$"""{"run_id": "{{runId}}", "key": "p", "value": "{{new string('v', 6001)}}"}""", 400, "INVALID_PARAMETER_VALUE", "the limit is 6000");
        await AssertErrorAsync("/runs/set-tag", $$"""{"run_id": "{{runId}}", "key": "t", "value": "{{new string('v', 8001)}}"}""", 400, "INVALID_PARAMETER_VALUE", "the limit is 8000");
        await AssertErrorAsync("/runs/log-metric", $$"""{"run_id": "{{runId}}", "key": "m"}""", 400, "INVALID_PARAMETER_VALUE", "has no value");
    }

    [Theory]
    [InlineData("/runs/log-metric", "{\"run_id\": \"0123456789abcdef0123456789abcdef\", \"key\": \"m\", \"value\": 1}", 404, "RESOURCE_DOES_NOT_EXIST")]
    [InlineData("/runs/log-metric", "{\"run_id\": \"../../etc\", \"key\": \"m\", \"value\": 1}", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/runs/log-metric", "{\"run_id\": \"0123456789abcdef0123456789abcdef\", \"key\": \"m\", \"value\": \"high\"}", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/runs/log-batch", "{\"run_id\": \"0123456789abcdef0123456789abcdef\", \"metrics\": {\"key\": 1}}", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/runs/log-batch", "{\"run_id\": ", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/experiments/create", "{}", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/experiments/create", "{\"name\": 42}", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/experiments/delete", "{\"experiment_id\": \"999\"}", 404, "RESOURCE_DOES_NOT_EXIST")]
    [InlineData("/experiments/delete", "{\"experiment_id\": \"0\"}", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/experiments/search", "{\"max_results\": 0}", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/experiments/search", "{\"page_token\": \"garbage!\"}", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/runs/update", "{\"run_id\": \"0123456789abcdef0123456789abcdef\", \"status\": \"DONE\"}", 400, "INVALID_PARAMETER_VALUE")]
    [InlineData("/no/such/endpoint", "{}", 404, "ENDPOINT_NOT_FOUND")]
    public async Task BadRequests_GetMlflowErrorsNeverA500(string path, string json, int status, string code)
    {
        await AssertErrorAsync(path, json, status, code);
    }

    [Fact]
    public async Task SixteenClientsLoggingAtOnce_LoseNothing()
    {
        var runIds = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => CreateRunAsync()));

        await Task.WhenAll(runIds.Select(async (runId, client) =>
        {
            using var http = new HttpClient { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            for (var batch = 0; batch < 10; batch++)
            {
                var metrics = string.Join(",", Enumerable.Range(0, 100).Select(i => $$"""{"key": "loss", "value": {{i}}, "timestamp": {{batch}}, "step": {{(batch * 100) + i}}}"""));
                var (status, body) = await http.PostJsonAsync($"{Api}/runs/log-batch",
                    $$"""{"run_id": "{{runId}}", "metrics": [{{metrics}}], "params": [{"key": "client", "value": "{{client}}"}]}""");
                Assert.True(status == 200, body.ToString());
            }
        }));

        foreach (var runId in runIds)
        {
            var history = (await GetOkAsync($"/metrics/get-history?run_id={runId}&metric_key=loss")).GetProperty("metrics");
            Assert.Equal(Enumerable.Range(0, 1000), history.EnumerateArray().Select(m => (int)m.GetProperty("step").GetInt64()));
        }
    }

    private async Task<string> LoggedRunAsync(string experimentId, string name, double auc, string trainer, string? team)
    {
        var body = await OkAsync("/runs/create", $$"""{"experiment_id": "{{experimentId}}", "run_name": "{{name}}"}""");
        var runId = body.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        var tags = team is null ? "" : $$""", "tags": [{"key": "team", "value": "{{team}}"}]""";
        await OkAsync("/runs/log-batch", $$"""
            {"run_id": "{{runId}}", "metrics": [{"key": "auc", "value": {{auc - 0.2}}, "timestamp": 1, "step": 0}, {"key": "auc", "value": {{auc}}, "timestamp": 2, "step": 1}],
             "params": [{"key": "trainer", "value": "{{trainer}}"}]{{tags}}}
            """);
        return runId;
    }

    private async Task<List<string>> SearchNamesAsync(string experimentId, string filter, string orderBy = "\"attributes.run_name\"")
    {
        var body = await OkAsync("/runs/search", $$"""{"experiment_ids": ["{{experimentId}}"], "filter": "{{filter}}", "order_by": [{{orderBy}}]}""");
        return body.TryGetProperty("runs", out var runs) ? [.. runs.EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_name").GetString()!)] : [];
    }

    [Fact]
    public async Task RunsSearch_FiltersOnLatestMetricsParamsTagsAndAttributes()
    {
        var experiment = (await OkAsync("/experiments/create", """{"name": "search"}""")).GetProperty("experiment_id").GetString()!;
        await LoggedRunAsync(experiment, "a", 0.95, "lightgbm", "fraud-eu");
        await LoggedRunAsync(experiment, "b", 0.85, "lightgbm", "Fraud-us");
        await LoggedRunAsync(experiment, "c", 0.91, "fasttree", null);
        await LoggedRunAsync("0", "elsewhere", 0.99, "lightgbm", "fraud");

        Assert.Equal(["a", "c"], await SearchNamesAsync(experiment, "metrics.auc > 0.9"));
        Assert.Equal(["a"], await SearchNamesAsync(experiment, "metrics.auc > 0.9 and params.trainer = 'lightgbm' and tags.team LIKE 'fraud%'"));
        Assert.Equal(["a", "b"], await SearchNamesAsync(experiment, "tags.team ILIKE 'fraud%'"));
        Assert.Equal(["b", "c"], await SearchNamesAsync(experiment, "params.trainer = 'fasttree' OR (metrics.auc < 0.9 AND tags.team IS NOT NULL)"));
        Assert.Equal(["c"], await SearchNamesAsync(experiment, "tags.team IS NULL"));
        Assert.Equal(["a", "b"], await SearchNamesAsync(experiment, "attributes.run_name IN ('a', 'b', 'z')"));
        Assert.Equal(["a", "c", "b"], await SearchNamesAsync(experiment, "", "\"metrics.auc DESC\""));
        Assert.Empty(await SearchNamesAsync(experiment, "metrics.missing > 0"));
    }

    [Fact]
    public async Task RunsSearch_PagesAndReportsFilterErrorsWithTheirPosition()
    {
        var experiment = (await OkAsync("/experiments/create", """{"name": "paging"}""")).GetProperty("experiment_id").GetString()!;
        foreach (var name in new[] { "r1", "r2", "r3" })
        {
            await LoggedRunAsync(experiment, name, 0.5, "lightgbm", null);
        }

        var first = await OkAsync("/runs/search", $$"""{"experiment_ids": ["{{experiment}}"], "max_results": 2, "order_by": ["attributes.run_name"]}""");
        var token = first.GetProperty("next_page_token").GetString();
        var second = await OkAsync("/runs/search", $$"""{"experiment_ids": ["{{experiment}}"], "max_results": 2, "order_by": ["attributes.run_name"], "page_token": "{{token}}"}""");

        Assert.Equal(2, first.GetProperty("runs").GetArrayLength());
        Assert.Equal("r3", Assert.Single(second.GetProperty("runs").EnumerateArray()).GetProperty("info").GetProperty("run_name").GetString());
        Assert.False(second.TryGetProperty("next_page_token", out _));
        await AssertErrorAsync("/runs/search", $$"""{"experiment_ids": ["{{experiment}}"], "filter": "metrics.auc >> 1"}""", 400, "INVALID_PARAMETER_VALUE", "at position 14");
        await AssertErrorAsync("/runs/search", """{"experiment_ids": ["404"]}""", 404, "RESOURCE_DOES_NOT_EXIST");
        await AssertErrorAsync("/runs/search", """{"filter": "metrics.auc > 1"}""", 400, "INVALID_PARAMETER_VALUE", "at least one experiment");
    }

    [Fact]
    public async Task MetricHistory_OfAnUnknownRun_Is404()
    {
        var (status, body) = await Server.GetJsonAsync($"{Api}/metrics/get-history?run_id=0123456789abcdef0123456789abcdef&metric_key=m");

        Assert.Equal(404, status);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", body.GetProperty("error_code").GetString());
    }
}
