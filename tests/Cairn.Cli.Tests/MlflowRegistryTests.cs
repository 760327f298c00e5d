using System.Text.Json;

namespace Cairn.Cli.Tests;

/// <summary>The MLflow model registry REST API, checked against the request and response shapes of MLflow's published reference.</summary>
public sealed class MlflowRegistryTests : ServerTest
{
    private const string Api = "/api/2.0/mlflow";

    private async Task<JsonElement> SendOkAsync(HttpMethod method, string path, string json)
    {
        var (status, body) = await Server.SendJsonAsync(method, Api + path, json);
        Assert.True(status == 200, $"{method} {path} answered {status}: {body}");
        return body;
    }

    private Task<JsonElement> PostOkAsync(string path, string json) => SendOkAsync(HttpMethod.Post, path, json);

    private async Task<JsonElement> GetOkAsync(string path)
    {
        var (status, body) = await Server.GetJsonAsync(Api + path);
        Assert.True(status == 200, $"GET {path} answered {status}: {body}");
        return body;
    }

    private async Task AssertErrorAsync(HttpMethod method, string path, string json, int status, string code, string? message = null)
    {
        var (actual, body) = await Server.SendJsonAsync(method, Api + path, json);
        Assert.True(actual == status, $"{method} {path} answered {actual}: {body}");
        Assert.Equal(code, body.GetProperty("error_code").GetString());
        if (message is not null)
        {
            Assert.Contains(message, body.GetProperty("message").GetString());
        }
    }

    private async Task<string> CreateRunAsync()
    {
        var body = await PostOkAsync("/runs/create", """{"experiment_id": "0"}""");
        return body.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
    }

    [Fact]
    public async Task RegisteredModels_CreateGetUpdateTagRenameSearchDelete()
    {
        var created = (await PostOkAsync("/registered-models/create",
            """{"name": "fraud", "description": "first cut", "tags": [{"key": "team", "value": "risk"}], "unknown": true}""")).GetProperty("registered_model");
        Assert.Equal("fraud", created.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Number, created.GetProperty("creation_timestamp").ValueKind);
        Assert.Equal(JsonValueKind.Number, created.GetProperty("last_updated_timestamp").ValueKind);
        Assert.Equal("risk", created.GetProperty("tags")[0].GetProperty("value").GetString());
        await AssertErrorAsync(HttpMethod.Post, "/registered-models/create", """{"name": "fraud"}""", 400, "RESOURCE_ALREADY_EXISTS");

        var updated = (await SendOkAsync(HttpMethod.Patch, "/registered-models/update", """{"name": "fraud", "description": "second cut"}"""))
            .GetProperty("registered_model");
        Assert.Equal("second cut", updated.GetProperty("description").GetString());
        await PostOkAsync("/registered-models/set-tag", """{"name": "fraud", "key": "owner", "value": "ana"}""");
        await SendOkAsync(HttpMethod.Delete, "/registered-models/delete-tag", """{"name": "fraud", "key": "team"}""");

        var renamed = (await PostOkAsync("/registered-models/rename", """{"name": "fraud", "new_name": "fraud-detector"}""")).GetProperty("registered_model");
        Assert.Equal("fraud-detector", renamed.GetProperty("name").GetString());
        await AssertErrorAsync(HttpMethod.Get, "/registered-models/get?name=fraud", "", 404, "RESOURCE_DOES_NOT_EXIST");
        var model = (await GetOkAsync("/registered-models/get?name=fraud-detector")).GetProperty("registered_model");
        Assert.Equal(["owner"], model.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("key").GetString()));

        await PostOkAsync("/registered-models/create", """{"name": "churn"}""");
        var search = await GetOkAsync("/registered-models/search?filter=" + Uri.EscapeDataString("name LIKE 'fraud%'"));
        Assert.Equal(["fraud-detector"], search.GetProperty("registered_models").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        var ordered = await GetOkAsync("/registered-models/search?order_by=" + Uri.EscapeDataString("name DESC") + "&max_results=1");
        Assert.Equal("fraud-detector", ordered.GetProperty("registered_models")[0].GetProperty("name").GetString());
        var token = ordered.GetProperty("next_page_token").GetString()!;
        var next = await GetOkAsync("/registered-models/search?order_by=" + Uri.EscapeDataString("name DESC") + "&max_results=1&page_token=" + Uri.EscapeDataString(token));
        Assert.Equal("churn", next.GetProperty("registered_models")[0].GetProperty("name").GetString());
        Assert.False(next.TryGetProperty("next_page_token", out _));

        await SendOkAsync(HttpMethod.Delete, "/registered-models/delete", """{"name": "fraud-detector"}""");
        await AssertErrorAsync(HttpMethod.Get, "/registered-models/get?name=fraud-detector", "", 404, "RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task AnOnnxModelLoggedByAnMlflowClient_IsServableOnceRegistered_WithItsSignaturesColumnNames()
    {
        // What mlflow.onnx.log_model(model, "model", signature=...) uploads: the graph and an MLmodel file beside it.
        var runId = await CreateRunAsync();
        var uri = (await GetOkAsync($"/runs/get?run_id={runId}")).GetProperty("run").GetProperty("info").GetProperty("artifact_uri").GetString()!;
        var proxy = "/api/2.0/mlflow-artifacts/artifacts/" + uri["mlflow-artifacts:/".Length..];
        const string MLmodel = """
            artifact_path: model
            flavors:
              onnx:
                code: null
                data: model.onnx
                onnx_version: 1.15.0
              python_function:
                data: model.onnx
                loader_module: mlflow.onnx
            mlflow_version: 2.14.1
            signature:
              inputs: '[{"type": "double", "name": "sepal_length_cm", "required": true}, {"type": "double", "name": "sepal_width_cm", "required": true}, {"type": "double", "name": "petal_length_cm", "required": true}, {"type": "double", "name": "petal_width_cm", "required": true}]'
              outputs: '[{"type": "long", "required": true}]'
            """;
        foreach (var (path, content) in new[] { ("model/MLmodel", System.Text.Encoding.UTF8.GetBytes(MLmodel)), ("model/model.onnx", File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "onnx", "iris_logistic.onnx"))) })
        {
            using var body = new ByteArrayContent(content);
            using var response = await Server.PutAsync($"{proxy}/{path}", body);
            Assert.Equal(200, (int)response.StatusCode);
        }

        await PostOkAsync("/registered-models/create", """{"name": "iris-mlflow"}""");
        await PostOkAsync("/model-versions/create", $$"""{"name": "iris-mlflow", "source": "runs:/{{runId}}/model", "run_id": "{{runId}}"}""");
        await PostOkAsync("/registered-models/alias", """{"name": "iris-mlflow", "alias": "champion", "version": "1"}""");

        var (status, answer) = await Server.PostJsonAsync("/api/models/iris-mlflow@champion/predict",
            """{"rows": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}]}""");
        Assert.True(status == 200, answer.ToString());
        Assert.Equal("0", answer.GetProperty("predictions")[0].GetProperty("predicted_label").GetString());
        var (_, metadata) = await Server.GetJsonAsync("/v2/models/iris-mlflow@champion");
        Assert.Equal("compiled", metadata.GetProperty("platform").GetString());

        // A version whose run holds no servable model still registers, as MLflow registers anything.
        var other = await CreateRunAsync();
        await PostOkAsync("/model-versions/create", $$"""{"name": "iris-mlflow", "source": "runs:/{{other}}/model", "run_id": "{{other}}"}""");
    }

    [Fact]
    public async Task ModelVersions_CreateStageTagAliasSearchDelete_MatchMlflowShapes()
    {
        var runId = await CreateRunAsync();
        await PostOkAsync("/registered-models/create", """{"name": "fraud"}""");
        await AssertErrorAsync(HttpMethod.Post, "/model-versions/create", """{"name": "nope", "source": "s3://b/m"}""", 404, "RESOURCE_DOES_NOT_EXIST");

        var v1 = (await PostOkAsync("/model-versions/create", $$"""
            {"name": "fraud", "source": "runs:/{{runId}}/model", "run_id": "{{runId}}", "description": "baseline",
             "tags": [{"key": "data", "value": "2024"}], "run_link": "http://elsewhere/run"}
            """)).GetProperty("model_version");
        Assert.Equal(("fraud", "1", "READY", "None"), (v1.GetProperty("name").GetString(), v1.GetProperty("version").GetString(),
            v1.GetProperty("status").GetString(), v1.GetProperty("current_stage").GetString()));
        Assert.Equal((runId, "baseline", "http://elsewhere/run"), (v1.GetProperty("run_id").GetString(), v1.GetProperty("description").GetString(),
            v1.GetProperty("run_link").GetString()));
        Assert.Equal(JsonValueKind.Number, v1.GetProperty("creation_timestamp").ValueKind);
        await PostOkAsync("/model-versions/create", """{"name": "fraud", "source": "s3://bucket/model"}""");

        var staged = (await PostOkAsync("/model-versions/transition-stage", """{"name": "fraud", "version": "2", "stage": "production", "archive_existing_versions": true}"""))
            .GetProperty("model_version");
        Assert.Equal("Production", staged.GetProperty("current_stage").GetString());
        var latest = await PostOkAsync("/registered-models/get-latest-versions", """{"name": "fraud", "stages": ["Production"]}""");
        Assert.Equal(["2"], latest.GetProperty("model_versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        var allLatest = await GetOkAsync("/registered-models/get-latest-versions?name=fraud");
        Assert.Equal(["1", "2"], allLatest.GetProperty("model_versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));

        await SendOkAsync(HttpMethod.Patch, "/model-versions/update", """{"name": "fraud", "version": 2, "description": "challenger"}""");
        await PostOkAsync("/model-versions/set-tag", """{"name": "fraud", "version": "2", "key": "validated", "value": "yes"}""");
        await PostOkAsync("/model-versions/set-tag", """{"name": "fraud", "version": "2", "key": "temp", "value": "x"}""");
        await SendOkAsync(HttpMethod.Delete, "/model-versions/delete-tag", """{"name": "fraud", "version": "2", "key": "temp"}""");

        await PostOkAsync("/registered-models/alias", """{"name": "fraud", "alias": "champion", "version": "2"}""");
        await AssertErrorAsync(HttpMethod.Post, "/registered-models/alias", """{"name": "fraud", "alias": "latest", "version": "1"}""", 400, "INVALID_PARAMETER_VALUE", "reserved");
        var byAlias = (await GetOkAsync("/registered-models/alias?name=fraud&alias=champion")).GetProperty("model_version");
        Assert.Equal(("2", "challenger"), (byAlias.GetProperty("version").GetString(), byAlias.GetProperty("description").GetString()));
        Assert.Equal(["champion"], byAlias.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(["validated"], byAlias.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("key").GetString()));
        var model = (await GetOkAsync("/registered-models/get?name=fraud")).GetProperty("registered_model");
        Assert.Equal(("champion", "2"), (model.GetProperty("aliases")[0].GetProperty("alias").GetString(), model.GetProperty("aliases")[0].GetProperty("version").GetString()));
        Assert.Equal(2, model.GetProperty("latest_versions").GetArrayLength());

        var found = await GetOkAsync("/model-versions/search?filter=" + Uri.EscapeDataString($"name = 'fraud' AND run_id = '{runId}'"));
        Assert.Equal(["1"], found.GetProperty("model_versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        var tagged = await GetOkAsync("/model-versions/search?filter=" + Uri.EscapeDataString("tags.validated = 'yes'"));
        Assert.Equal(["2"], tagged.GetProperty("model_versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));

        var uri = await GetOkAsync("/model-versions/get-download-uri?name=fraud&version=1");
        Assert.Equal($"mlflow-artifacts:/0/{runId}/artifacts/model", uri.GetProperty("artifact_uri").GetString());
        Assert.Equal("s3://bucket/model", (await GetOkAsync("/model-versions/get-download-uri?name=fraud&version=2")).GetProperty("artifact_uri").GetString());

        await SendOkAsync(HttpMethod.Delete, "/registered-models/alias", """{"name": "fraud", "alias": "champion"}""");
        await AssertErrorAsync(HttpMethod.Get, "/registered-models/alias?name=fraud&alias=champion", "", 404, "RESOURCE_DOES_NOT_EXIST");
        await SendOkAsync(HttpMethod.Delete, "/model-versions/delete", """{"name": "fraud", "version": "1"}""");
        await AssertErrorAsync(HttpMethod.Get, "/model-versions/get?name=fraud&version=1", "", 404, "RESOURCE_DOES_NOT_EXIST");
        var v3 = (await PostOkAsync("/model-versions/create", """{"name": "fraud", "source": "s3://bucket/model3"}""")).GetProperty("model_version");
        Assert.Equal("3", v3.GetProperty("version").GetString());
        await AssertErrorAsync(HttpMethod.Get, "/model-versions/get?name=fraud&version=one", "", 400, "INVALID_PARAMETER_VALUE", "not a version number");
    }

    [Fact]
    public async Task AVersionRegisteredThroughMlflow_FromACairnTrainingRun_IsServed()
    {
        var runId = await Cairn.TrainAndRegisterAsync("iris.csv", "iris",
            "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2, num_iterations: 30}\n", "iris-cairn");
        await PostOkAsync("/registered-models/create", """{"name": "iris-mlflow"}""");
        await PostOkAsync("/model-versions/create", $$"""{"name": "iris-mlflow", "source": "runs:/{{runId}}/model", "run_id": "{{runId}}"}""");

        var (status, body) = await Server.PostJsonAsync("/api/models/iris-mlflow@1/predict",
            """{"rows": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}]}""");

        Assert.True(status == 200, body.ToString());
        Assert.Equal("0", body.GetProperty("predictions")[0].GetProperty("predicted_label").GetString());
        var (unservable, error) = await Server.PostJsonAsync("/api/2.0/mlflow/model-versions/create", """{"name": "iris-mlflow", "source": "s3://b/m"}""");
        Assert.Equal(200, unservable);
        (status, error) = await Server.PostJsonAsync("/api/models/iris-mlflow@2/predict", """{"rows": [{"sepal_length_cm": 5.1}]}""");
        Assert.Equal(400, status);
        Assert.Contains("holds no model Cairn can serve", error.GetProperty("error").GetString());
    }
}
