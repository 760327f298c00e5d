using System.Text.Json;

namespace Cairn.Cli.Tests;

/// <summary>Cairn's own tracking API under /api/ and its OpenAPI document.</summary>
public sealed class NativeApiTests : ServerTest
{
    [Fact]
    public async Task Runs_CanBeCreatedLoggedUpdatedSearchedAndRead()
    {
        var (status, experiment) = await Server.PostJsonAsync("/api/experiments", """{"name": "native", "tags": {"team": "risk"}}""");
        Assert.Equal(201, status);
        var experimentId = experiment.GetProperty("id").GetString();

        var (created, run) = await Server.PostJsonAsync("/api/runs", $$$"""{"experiment_id": "{{{experimentId}}}", "name": "baseline", "tags": {"stage": "dev"}}""");
        Assert.Equal(201, created);
        var runId = run.GetProperty("id").GetString();
        Assert.Equal("running", run.GetProperty("status").GetString());

        using (var log = new StringContent("""{"metrics": [{"key": "auc", "value": 0.8, "step": 0}, {"key": "auc", "value": 0.93, "step": 1}], "params": {"trainer": "lightgbm"}, "tags": {"stage": "prod"}}""",
            System.Text.Encoding.UTF8, "application/json"))
        {
            using var response = await Server.PostAsync($"/api/runs/{runId}/log", log);
            Assert.Equal(204, (int)response.StatusCode);
        }

        using (var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/runs/{runId}") { Content = new StringContent("""{"status": "finished"}""", System.Text.Encoding.UTF8, "application/json") })
        {
            using var response = await Server.SendAsync(patch);
            Assert.Equal(200, (int)response.StatusCode);
        }

        var (_, read) = await Server.GetJsonAsync($"/api/runs/{runId}");
        Assert.Equal("finished", read.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, read.GetProperty("ended_at").ValueKind);
        Assert.Equal(0.93, read.GetProperty("metrics")[0].GetProperty("value").GetDouble());
        Assert.Equal("prod", read.GetProperty("tags").GetProperty("stage").GetString());

        var (_, found) = await Server.PostJsonAsync("/api/runs/search",
            $$"""{"experiment_ids": ["{{experimentId}}"], "filter": "metrics.auc > 0.9 and params.trainer = 'lightgbm' and status = 'FINISHED'"}""");
        Assert.Equal(runId, Assert.Single(found.GetProperty("runs").EnumerateArray()).GetProperty("id").GetString());

        using var history = await Server.GetAsync($"/api/runs/{runId}/metrics/auc");
        var points = JsonDocument.Parse(await history.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal([0.8, 0.93], points.EnumerateArray().Select(p => p.GetProperty("value").GetDouble()));
    }

    [Fact]
    public async Task Registry_ModelsVersionsTagsAliasesAndEvents()
    {
        var (created, model) = await Server.PostJsonAsync("/api/models", """{"name": "fraud", "description": "first cut", "tags": {"team": "risk"}}""");
        Assert.Equal(201, created);
        Assert.Equal("risk", model.GetProperty("tags").GetProperty("team").GetString());
        var (_, run) = await Server.PostJsonAsync("/api/runs", "{}");
        var runId = run.GetProperty("id").GetString();

        var (versionCreated, version) = await Server.PostJsonAsync("/api/models/fraud/versions",
            $$$"""{"source": "s3://bucket/fraud", "run_id": "{{{runId}}}", "alias": "champion", "tags": {"data": "2024"}}""");
        Assert.Equal(201, versionCreated);
        Assert.Equal((1, "ready", "none"), (version.GetProperty("version").GetInt32(), version.GetProperty("status").GetString(), version.GetProperty("stage").GetString()));
        Assert.Equal(["champion"], version.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));

        var (patched, staged) = await Server.SendJsonAsync(HttpMethod.Patch, "/api/models/fraud/versions/1", """{"description": "baseline", "stage": "staging"}""");
        Assert.Equal(200, patched);
        Assert.Equal(("baseline", "staging"), (staged.GetProperty("description").GetString(), staged.GetProperty("stage").GetString()));
        Assert.Equal(204, (await Server.SendJsonAsync(HttpMethod.Put, "/api/models/fraud/versions/1/tags/validated", """{"value": "yes"}""")).Status);
        Assert.Equal(204, (await Server.SendJsonAsync(HttpMethod.Put, "/api/models/fraud/aliases/backup", """{"version": 1}""")).Status);
        var (_, byAlias) = await Server.GetJsonAsync("/api/models/fraud/aliases/backup");
        Assert.Equal("yes", byAlias.GetProperty("tags").GetProperty("validated").GetString());

        var (renamed, renamedModel) = await Server.SendJsonAsync(HttpMethod.Patch, "/api/models/fraud", """{"name": "fraud-detector", "description": "second cut"}""");
        Assert.Equal(200, renamed);
        Assert.Equal(("fraud-detector", "second cut"), (renamedModel.GetProperty("name").GetString(), renamedModel.GetProperty("description").GetString()));
        var (_, search) = await Server.GetJsonAsync("/api/model-versions?filter=" + Uri.EscapeDataString("tags.validated = 'yes'"));
        Assert.Equal("fraud-detector", search.GetProperty("versions")[0].GetProperty("model").GetString());
        var (_, models) = await Server.GetJsonAsync("/api/models?filter=" + Uri.EscapeDataString("tags.team = 'risk'"));
        Assert.Equal(1, models.GetProperty("models").GetArrayLength());

        Assert.Equal(204, (await Server.SendJsonAsync(HttpMethod.Delete, "/api/models/fraud-detector/aliases/backup", "")).Status);
        Assert.Equal(204, (await Server.SendJsonAsync(HttpMethod.Delete, "/api/models/fraud-detector/versions/1", "")).Status);
        Assert.Equal(404, (await Server.GetJsonAsync("/api/models/fraud-detector/versions/1")).Status);
        Assert.Equal(204, (await Server.SendJsonAsync(HttpMethod.Delete, "/api/models/fraud-detector", "")).Status);
        Assert.Equal(404, (await Server.GetJsonAsync("/api/models/fraud-detector")).Status);

        var (_, events) = await Server.GetJsonAsync("/api/events?limit=20");
        var kinds = events.EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Equal("model.deleted", kinds[0]);
        Assert.Contains("model.renamed", kinds);
        Assert.Contains("model.alias_set", kinds);
        Assert.All(events.EnumerateArray(), e => Assert.Equal("test-server", e.GetProperty("actor").GetString()));
        Assert.Equal(400, (await Server.GetJsonAsync("/api/events?limit=0")).Status);
    }

    [Fact]
    public async Task Artifacts_UploadListDownloadDelete_AsATree()
    {
        var (_, run) = await Server.PostJsonAsync("/api/runs", "{}");
        var runId = run.GetProperty("id").GetString();
        async Task<int> PutAsync(string path, string content)
        {
            using var body = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(content));
            using var response = await Server.PutAsync($"/api/runs/{runId}/artifacts/{path}", body);
            return (int)response.StatusCode;
        }

        Assert.Equal(201, await PutAsync("model/model.txt", "weights"));
        Assert.Equal(201, await PutAsync("model/conf/params.json", "{}"));
        Assert.Equal(201, await PutAsync("report.html", "<html></html>"));
        Assert.Equal(201, await PutAsync("report.html", "<html>v2</html>"));

        var (_, root) = await Server.GetJsonAsync($"/api/runs/{runId}/artifacts");
        Assert.Equal([("model", true), ("report.html", false)], root.EnumerateArray().Select(e => (e.GetProperty("path").GetString(), e.GetProperty("is_directory").GetBoolean())));
        var (_, model) = await Server.GetJsonAsync($"/api/runs/{runId}/artifacts?path=model");
        Assert.Equal(["model/conf", "model/model.txt"], model.EnumerateArray().Select(e => e.GetProperty("path").GetString()));
        Assert.Equal(7, model[1].GetProperty("size_bytes").GetInt64());
        Assert.Equal("<html>v2</html>", await Server.GetStringAsync($"/api/runs/{runId}/artifacts/report.html"));

        // Dot segments are resolved before routing, so climbing out of the artifacts never reaches the handler.
        Assert.Equal(404, await PutAsync("a/../../escape", "x"));
        Assert.Equal(400, await PutAsync("a%5C..%5Cescape", "x"));
        Assert.Equal(400, await PutAsync("a//b", "x"));
        Assert.Equal(404, (await Server.GetJsonAsync($"/api/runs/{runId}/artifacts/nope.txt")).Status);
        Assert.Equal(204, (await Server.SendJsonAsync(HttpMethod.Delete, $"/api/runs/{runId}/artifacts/model", "")).Status);
        var (_, after) = await Server.GetJsonAsync($"/api/runs/{runId}/artifacts");
        Assert.Equal(["report.html"], after.EnumerateArray().Select(e => e.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task Datasets_UploadListReadAndDownload()
    {
        async Task<(int Status, System.Text.Json.JsonElement Body)> UploadAsync(string query, string csv)
        {
            using var content = new StringContent(csv, System.Text.Encoding.UTF8, "text/csv");
            using var response = await Server.PostAsync($"/api/datasets/sales/versions{query}", content);
            var text = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
        }

        var (created, first) = await UploadAsync("?file=sales.csv&message=first&tag=source=erp", "x,kind\n1,a\n2,b\n");
        Assert.Equal(201, created);
        Assert.Equal((1, 2L, "sales.csv"), (first.GetProperty("version").GetInt32(), first.GetProperty("row_count").GetInt64(), first.GetProperty("source").GetString()));
        var (again, same) = await UploadAsync("", "x,kind\n1,a\n2,b\n");
        Assert.Equal((200, 1), (again, same.GetProperty("version").GetInt32()));
        var (second, _) = await UploadAsync("?message=more", "x,kind\n1,a\n2,b\n3,a\n");
        Assert.Equal(201, second);
        var (ragged, error) = await UploadAsync("", "x,kind\n1\n");
        Assert.Equal(400, ragged);
        Assert.Contains("has 1 fields", error.GetProperty("error").GetString());

        var (_, versions) = await Server.GetJsonAsync("/api/datasets/sales/versions");
        Assert.Equal([2, 1], versions.EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal(1, versions[0].GetProperty("parent_version").GetInt32());
        var (_, one) = await Server.GetJsonAsync("/api/datasets/sales/versions/1");
        Assert.Equal("erp", one.GetProperty("tags").GetProperty("source").GetString());
        Assert.Equal("x,kind\n1,a\n2,b\n", await Server.GetStringAsync("/api/datasets/sales/versions/1/file"));
        Assert.Equal(404, (await Server.GetJsonAsync("/api/datasets/sales/versions/9")).Status);
        var (_, all) = await Server.GetJsonAsync("/api/datasets");
        Assert.Equal(2, all[0].GetProperty("version_count").GetInt32());
    }

    [Fact]
    public async Task MetricSummary_KeepsALongSeriesToAtMostNBuckets()
    {
        var (_, run) = await Server.PostJsonAsync("/api/runs", "{}");
        var runId = run.GetProperty("id").GetString();
        var points = string.Join(",", Enumerable.Range(0, 1000).Select(i => $$"""{"key": "loss", "value": {{i % 7}}, "step": {{i}}}"""));
        using (var body = new StringContent($$"""{"metrics": [{{points}}]}""", System.Text.Encoding.UTF8, "application/json"))
        {
            using var logged = await Server.PostAsync($"/api/runs/{runId}/log", body);
            Assert.Equal(204, (int)logged.StatusCode);
        }

        var (status, buckets) = await Server.GetJsonAsync($"/api/runs/{runId}/metrics/loss/summary?max_points=10");

        Assert.Equal(200, status);
        Assert.Equal(10, buckets.GetArrayLength());
        var first = buckets[0];
        Assert.Equal((0L, 99L, 100L), (first.GetProperty("first_step").GetInt64(), first.GetProperty("last_step").GetInt64(), first.GetProperty("count").GetInt64()));
        Assert.Equal((0.0, 6.0, 99 % 7), (first.GetProperty("min").GetDouble(), first.GetProperty("max").GetDouble(), first.GetProperty("last").GetDouble()));
        Assert.Equal(1000, buckets.EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()));
        var (tooMany, _) = await Server.GetJsonAsync($"/api/runs/{runId}/metrics/loss/summary?max_points=0");
        Assert.Equal(400, tooMany);
    }

    [Theory]
    [InlineData("/api/runs", "{\"experiment_id\": \"77\"}", 404)]
    [InlineData("/api/runs", "{\"name\": ", 400)]
    [InlineData("/api/experiments", "{\"name\": \"\"}", 400)]
    [InlineData("/api/runs/search", "{\"filter\": \"metrics.auc >\"}", 400)]
    [InlineData("/api/runs/0123456789abcdef0123456789abcdef/log", "{\"params\": {\"a\": \"1\"}}", 404)]
    [InlineData("/api/runs/not-an-id/log", "{}", 400)]
    public async Task BadRequests_Get4xxWithAnError(string path, string body, int expected)
    {
        var (status, error) = await Server.PostJsonAsync(path, body);

        Assert.Equal(expected, status);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheApi()
    {
        using var response = await Server.GetAsync("/api/openapi.json");
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("Cairn", document.GetProperty("info").GetProperty("title").GetString());
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/runs/search", paths);
        Assert.Contains("/api/runs/{id}/log", paths);
        Assert.Contains("/api/experiments", paths);
    }
}
