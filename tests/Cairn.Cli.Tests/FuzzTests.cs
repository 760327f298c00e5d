using System.Net.Http.Headers;
using System.Text;

namespace Cairn.Cli.Tests;

/// <summary>Malformed JSON, wrong types, huge values and unknown ids sent to every tracking and registry endpoint: never a 500.</summary>
public sealed class FuzzTests : ServerTest
{
    internal static readonly string[] PostEndpoints =
    [
        "/api/2.0/mlflow/registered-models/create", "/api/2.0/mlflow/registered-models/rename", "/api/2.0/mlflow/registered-models/set-tag",
        "/api/2.0/mlflow/registered-models/get-latest-versions", "/api/2.0/mlflow/registered-models/alias", "/api/2.0/mlflow/model-versions/create",
        "/api/2.0/mlflow/model-versions/transition-stage", "/api/2.0/mlflow/model-versions/set-tag",
        "/api/2.0/mlflow/experiments/create", "/api/2.0/mlflow/experiments/search", "/api/2.0/mlflow/experiments/update",
        "/api/2.0/mlflow/experiments/delete", "/api/2.0/mlflow/experiments/restore", "/api/2.0/mlflow/experiments/set-experiment-tag",
        "/api/2.0/mlflow/experiments/delete-experiment-tag", "/api/2.0/mlflow/runs/create", "/api/2.0/mlflow/runs/update",
        "/api/2.0/mlflow/runs/delete", "/api/2.0/mlflow/runs/restore", "/api/2.0/mlflow/runs/log-metric", "/api/2.0/mlflow/runs/log-parameter",
        "/api/2.0/mlflow/runs/set-tag", "/api/2.0/mlflow/runs/delete-tag", "/api/2.0/mlflow/runs/log-batch", "/api/2.0/mlflow/runs/search", "/api/2.0/mlflow/runs/log-inputs", "/api/runs/{run}/inputs", "/api/datasets/fuzz/versions",
        "/api/datasets/fuzz/versions/1/validations",
        "/api/experiments", "/api/runs", "/api/runs/search", "/api/runs/{run}/log", "/api/runs/{run}/restore",
        "/api/runs/0123456789abcdef0123456789abcdef/log",
    ];

    private static readonly (string Method, string Path)[] OtherBodyEndpoints =
    [
        ("PATCH", "/api/2.0/mlflow/registered-models/update"), ("PATCH", "/api/2.0/mlflow/model-versions/update"),
        ("DELETE", "/api/2.0/mlflow/registered-models/delete"), ("DELETE", "/api/2.0/mlflow/registered-models/delete-tag"),
        ("DELETE", "/api/2.0/mlflow/registered-models/alias"), ("DELETE", "/api/2.0/mlflow/model-versions/delete"),
        ("DELETE", "/api/2.0/mlflow/model-versions/delete-tag"),
    ];

    private static readonly string[] GetEndpoints =
    [
        "/api/2.0/mlflow/registered-models/get?name=", "/api/2.0/mlflow/registered-models/search?filter=", "/api/2.0/mlflow/registered-models/search?max_results=",
        "/api/2.0/mlflow/registered-models/search?page_token=", "/api/2.0/mlflow/model-versions/search?filter=", "/api/2.0/mlflow/model-versions/search?order_by=",
        "/api/2.0/mlflow/model-versions/get?name=fuzz&version=", "/api/2.0/mlflow/model-versions/get-download-uri?name=fuzz&version=",
        "/api/2.0/mlflow/registered-models/alias?name=fuzz&alias=", "/api/2.0/mlflow/artifacts/list?run_id=", "/api/2.0/mlflow-artifacts/artifacts?path=",
        "/api/2.0/mlflow-artifacts/artifacts/0/", "/api/runs/{run}/artifacts?path=", "/api/runs/{run}/artifacts/", "/api/datasets/", "/api/datasets/fuzz/versions/1/file?x=", "/api/datasets/fuzz/versions/1/profile?x=",
        "/api/datasets/fuzz/diff?from=1&to=", "/api/datasets/fuzz/versions/1/validations?x=", "/api/2.0/mlflow/registered-models/get-latest-versions?name=fuzz&stages=",
        "/api/2.0/mlflow/experiments/get?experiment_id=", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=",
        "/api/2.0/mlflow/runs/get?run_id=", "/api/2.0/mlflow/metrics/get-history?metric_key=m&run_id=", "/api/experiments/", "/api/runs/",
    ];

    private static readonly string[] Bodies =
    [
        "", "{", "[]", "null", "42", "\"text\"", "{\"a\": }", "{}",
        "{\"run_id\": 7, \"experiment_id\": [], \"name\": {}, \"key\": false, \"value\": [1], \"metrics\": \"x\", \"params\": 3, \"tags\": {\"k\": 1}}",
        "{\"run_id\": \"{run}\", \"experiment_id\": \"99999999999999999999999\", \"name\": \"x\", \"key\": \"k\", \"value\": 1e400, \"timestamp\": -1, \"step\": 9223372036854775807}",
        "{\"run_id\": \"{run}\", \"key\": \"" + new string('k', 5000) + "\", \"value\": \"" + new string('v', 100_000) + "\", \"new_name\": \"\", \"status\": \"NOPE\", \"max_results\": -5, \"page_token\": \"@@\", \"filter\": \"((((\"}",
        "{\"run_id\": \"{run}\", \"name\": \"fuzz\", \"metrics\": [null], \"params\": [null], \"tags\": [null], \"datasets\": [null], \"stages\": [null], \"order_by\": [null], \"experiment_ids\": [null]}",
        "{\"run_id\": \"{run}\", \"datasets\": [{\"dataset\": {\"name\": \"iris\", \"digest\": \"x\", \"source\": \"s\", \"source_type\": \"t\"}}, {\"name\": \"nope\", \"version\": 3}, null]}",
        "{\"run_id\": \"{run}\", \"metrics\": [{\"key\": null, \"value\": null}], \"params\": [{\"key\": \"p\"}], \"tags\": [{}], \"experiment_ids\": [\"abc\", null]}",
        "{\"experiment_id\": \"-1\", \"experiment_ids\": [\"-1\"], \"view_type\": \"SOME\", \"run_view_type\": 3, \"order_by\": [\"metrics.\"], \"filter\": \"params.x < 3\"}",
        "{\"name\": \"fuzz\", \"version\": \"1\", \"alias\": \"latest\", \"stage\": \"Bogus\", \"source\": \"\", \"new_name\": \"../x\", \"key\": \"k\", \"value\": null, \"run_id\": \"nope\"}",
        "{\"name\": \"fuzz\", \"version\": 99999999999999999999, \"alias\": \"a\", \"stages\": [\"Production\", 3], \"tags\": [{\"key\": \"\"}], \"description\": \"" + new string('d', 6000) + "\"}",
        "{\"name\": \"fuzz\", \"version\": {\"x\": 1}, \"archive_existing_versions\": \"maybe\", \"source\": \"runs:/{run}/model\", \"run_id\": \"{run}\"}",
    ];

    private static readonly string[] Ids = ["", "0", "-1", "abc", "../../etc/passwd", "99999999999999999999", "0123456789abcdef0123456789abcdef", "%00", "{run}"];

    private string _runId = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var (_, run) = await Server.PostJsonAsync("/api/runs", "{}");
        _runId = run.GetProperty("id").GetString()!;
        await Server.PostJsonAsync("/api/2.0/mlflow/registered-models/create", """{"name": "fuzz"}""");
        await Server.PostJsonAsync("/api/2.0/mlflow/model-versions/create", """{"name": "fuzz", "source": "s3://b/m"}""");
    }

    [Fact]
    public async Task EveryTrackingAndRegistryEndpoint_AnswersBadInputWithA4xx()
    {
        var failures = new List<string>();
        foreach (var endpoint in PostEndpoints)
        {
            foreach (var body in Bodies)
            {
                using var content = new StringContent(body.Replace("{run}", _runId, StringComparison.Ordinal), Encoding.UTF8);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await Server.PostAsync(endpoint.Replace("{run}", _runId, StringComparison.Ordinal), content);
                if ((int)response.StatusCode >= 500)
                {
                    failures.Add($"POST {endpoint} {body[..Math.Min(body.Length, 60)]} -> {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }

        foreach (var (method, endpoint) in OtherBodyEndpoints)
        {
            foreach (var body in Bodies)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), endpoint)
                {
                    Content = new StringContent(body.Replace("{run}", _runId, StringComparison.Ordinal), Encoding.UTF8, "application/json"),
                };
                using var response = await Server.SendAsync(request);
                if ((int)response.StatusCode >= 500)
                {
                    failures.Add($"{method} {endpoint} {body[..Math.Min(body.Length, 60)]} -> {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }

        foreach (var endpoint in GetEndpoints)
        {
            foreach (var id in Ids)
            {
                using var response = await Server.GetAsync(endpoint.Replace("{run}", _runId, StringComparison.Ordinal) + Uri.EscapeDataString(id.Replace("{run}", _runId, StringComparison.Ordinal)));
                if ((int)response.StatusCode >= 500)
                {
                    failures.Add($"GET {endpoint}{id} -> {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
    }
}
