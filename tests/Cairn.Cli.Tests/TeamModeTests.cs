using Cairn.Testing;

namespace Cairn.Cli.Tests;

/// <summary>Team mode: the CLI, the server and MLflow clients on a shared PostgreSQL metadata store and a shared S3-compatible artifact store.</summary>
public sealed class TeamModeTests(PostgreSqlServer postgres, S3Server s3) : IClassFixture<PostgreSqlServer>, IClassFixture<S3Server>, IAsyncLifetime
{
    private readonly CairnHarness _cairn = new();
    private string _store = "";
    private string _bucket = "";

    public async Task InitializeAsync()
    {
        _store = await postgres.CreateDatabaseAsync();
        _bucket = await s3.CreateBucketAsync();
        Share(_cairn);
    }

    // A home that uses the team's stores: the same database, the same bucket.
    private void Share(CairnHarness home)
    {
        home.Environment[CairnHome.StoreEnvironmentVariable] = _store;
        home.Environment[CairnHome.ArtifactsEnvironmentVariable] = $"s3://{_bucket}/cairn";
        home.Environment["CAIRN_S3_ENDPOINT"] = s3.Endpoint.ToString();
        home.Environment["AWS_ACCESS_KEY_ID"] = S3Server.Credentials.GetCredentials().AccessKey;
        home.Environment["AWS_SECRET_ACCESS_KEY"] = S3Server.Credentials.GetCredentials().SecretKey;
    }

    public async Task DisposeAsync() => await _cairn.DisposeAsync();

    [Fact]
    public async Task TrainRegisterServe_OnSharedStores_AndASecondHomeServesTheSameModel()
    {
        var runId = await _cairn.TrainAndRegisterAsync("iris.csv", "iris",
            "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2, num_iterations: 20}\n", "iris-team");
        using var server = await _cairn.StartServerAsync();

        var (status, body) = await server.PostJsonAsync("/api/models/iris-team@champion/predict",
            """{"rows": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}]}""");
        Assert.True(status == 200, body.ToString());
        Assert.Equal("0", body.GetProperty("predictions")[0].GetProperty("predicted_label").GetString());

        await using var colleague = new CairnHarness();
        Share(colleague);
        var found = (await colleague.RunOkAsync("runs", "search", "--filter", "params.trainer = 'lightgbm' and metrics.macro_accuracy > 0.5", "--json")).Json;
        Assert.Equal(runId, found[0].GetProperty("id").GetString());
        var models = (await colleague.RunOkAsync("models", "list", "--json")).Json;
        Assert.Equal(1, models[0].GetProperty("aliases").GetProperty("champion").GetInt32());
        Assert.False(Directory.Exists(Path.Combine(colleague.Home, "artifacts")) && Directory.EnumerateFiles(Path.Combine(colleague.Home, "artifacts"), "*", SearchOption.AllDirectories).Any());

        // The colleague's server has neither the database nor the artifacts locally, yet serves the model.
        using var replica = await colleague.StartServerAsync();
        var (replicaStatus, replicaBody) = await replica.PostJsonAsync("/api/models/iris-team@champion/predict",
            """{"rows": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}]}""");
        Assert.True(replicaStatus == 200, replicaBody.ToString());
        Assert.Equal("0", replicaBody.GetProperty("predictions")[0].GetProperty("predicted_label").GetString());
    }

    [Fact]
    public async Task AMovedAlias_ReachesAServer_ThroughPostgreSqlNotify_WithPollingOff()
    {
        const string Spec = "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2, num_iterations: 10}\n";
        await _cairn.TrainAndRegisterAsync("iris.csv", "iris", Spec, "iris-notify");
        await _cairn.TrainAndRegisterAsync("iris.csv", "iris", Spec, "iris-notify");
        await _cairn.RunOkAsync("models", "set-alias", "iris-notify", "champion", "1");
        await _cairn.RunOkAsync("deploy", "iris", "--model", "iris-notify@champion");
        var never = TimeSpan.FromHours(1);
        using var server = await _cairn.StartServerAsync(options: new Server.CairnServerOptions { DeploymentRefresh = never, DeploymentRefreshWhenNotified = never });
        Assert.Equal("iris-notify@1", await ServedVersionAsync(server));

        // Another process moves the alias; with polling off, only the database's notification can tell the server.
        await using var colleague = new CairnHarness();
        Share(colleague);
        await colleague.RunOkAsync("models", "set-alias", "iris-notify", "champion", "2");

        var served = "";
        for (var i = 0; i < 300 && served != "iris-notify@2"; i++)
        {
            await Task.Delay(100);
            served = await ServedVersionAsync(server);
        }

        Assert.Equal("iris-notify@2", served);
    }

    private static async Task<string> ServedVersionAsync(HttpClient server)
    {
        using var response = await server.PostAsync("/api/deployments/iris/predict", new StringContent(
            """{"rows": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return response.Headers.GetValues(Server.InferenceEndpoints.ModelVersionHeader).Single();
    }

    [Fact]
    public async Task ASchedule_LivesInTheSharedPostgreSqlStore_AndAWorkerOfAnotherHomeRunsIt()
    {
        _cairn.WriteFile("seed.txt", "1");
        var pipeline = _cairn.WriteFile("pipeline.yaml", """
            name: shared
            steps:
            - {name: copy, run: [sh, -c, "cp seed.txt copy.txt"], inputs: ["file:seed.txt"], outputs: ["file:copy.txt"]}
            """);
        await _cairn.RunOkAsync("pipelines", "schedule", pipeline, "--cron", "* * * * * ?", "--name", "team-every-second");
        await using var colleague = new CairnHarness();
        Share(colleague);

        Assert.Contains("team-every-second", (await colleague.RunOkAsync("pipelines", "schedules")).Output, StringComparison.Ordinal);
        await colleague.RunOkAsync("pipelines", "worker", "--max-runs", "1");

        Assert.True(File.Exists(Path.Combine(_cairn.WorkingDirectory, "copy.txt")));
        var run = (await _cairn.RunOkAsync("pipelines", "list", "--json")).Json[0];
        Assert.Equal("team-every-second", run.GetProperty("tags").GetProperty("cairn.schedule").GetString());
        Assert.False(File.Exists(Path.Combine(colleague.Home, "scheduler.db")));
        await _cairn.RunOkAsync("pipelines", "unschedule", "team-every-second");
    }

    [Fact]
    public async Task AnArtifactStoreThatIsNotS3_IsAUsageError()
    {
        var result = await _cairn.RunAsync("runs", "list", "--artifacts", "gs://bucket/x");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("s3://bucket/prefix", result.Error);
    }

    [Fact]
    public async Task SixteenMlflowClientsLoggingAtOnce_LoseNothing_OnPostgreSql()
    {
        using var server = await _cairn.StartServerAsync();
        var runIds = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            var (_, created) = await server.PostJsonAsync("/api/2.0/mlflow/runs/create", """{"experiment_id": "0"}""");
            return created.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        }));

        await Task.WhenAll(runIds.Select(async runId =>
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            for (var batch = 0; batch < 10; batch++)
            {
                var metrics = string.Join(",", Enumerable.Range(0, 100).Select(i => $$"""{"key": "loss", "value": {{i}}, "timestamp": {{batch}}, "step": {{(batch * 100) + i}}}"""));
                var (status, body) = await http.PostJsonAsync("/api/2.0/mlflow/runs/log-batch", $$"""{"run_id": "{{runId}}", "metrics": [{{metrics}}]}""");
                Assert.True(status == 200, body.ToString());
            }
        }));

        foreach (var runId in runIds)
        {
            var (_, history) = await server.GetJsonAsync($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=loss");
            Assert.Equal(Enumerable.Range(0, 1000), history.GetProperty("metrics").EnumerateArray().Select(m => (int)m.GetProperty("step").GetInt64()));
        }
    }

    [Fact]
    public async Task AStoreThatIsNotPostgreSql_IsAUsageError()
    {
        var result = await _cairn.RunAsync("runs", "list", "--store", "mysql://db/x");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("postgresql://", result.Error);
    }
}
