using Cairn.Client;

namespace Cairn.Cli.Tests;

/// <summary>The .NET SDK against a real server: batching, flushing, ending, and retries that never duplicate points.</summary>
public sealed class ClientTests : ServerTest
{
    private static readonly CairnClientOptions Options = new() { FlushInterval = TimeSpan.FromHours(1), RetryDelay = TimeSpan.FromMilliseconds(1) };

    private CairnClient Client(FlakyHandler? handler = null)
    {
        var http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.BaseAddress = Server.BaseAddress;
        return new CairnClient(http, Options);
    }

    private async Task<int> HistoryCountAsync(string runId, string key)
    {
        using var response = await Server.GetAsync($"/api/runs/{runId}/metrics/{key}");
        return System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetArrayLength();
    }

    [Fact]
    public async Task RegisterModel_AddsAVersionOfATrainedRun_WithAnAlias()
    {
        await Cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "iris");
        var trained = await Cairn.RunOkAsync("train", "--config",
            Cairn.WriteFile("iris.yaml", "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2, num_iterations: 10}\n"), "--json");
        var runId = trained.Json.GetProperty("id").GetString()!;

        var first = await Client().RegisterModelAsync("iris-sdk", runId, "champion");
        var second = await Client().RegisterModelAsync("iris-sdk", runId);

        Assert.Equal((1, 2), (first, second));
        var (_, model) = await Server.GetJsonAsync("/api/models/iris-sdk");
        Assert.Equal(1, model.GetProperty("aliases").GetProperty("champion").GetInt32());
        var e = await Assert.ThrowsAsync<CairnClientException>(() => Client().RegisterModelAsync("iris-sdk", "0123456789abcdef0123456789abcdef"));
        Assert.Equal(404, e.StatusCode);
    }

    [Fact]
    public async Task LogArtifact_StreamsAFileToTheRun()
    {
        var file = Cairn.WriteFile("notes.txt", "hello artifacts");
        await using var run = await Client().StartRunAsync();

        await run.LogArtifactAsync("docs/notes v1.txt", file);
        await using (var trial = await Client().StartRunAsync(name: "trial", parentRunId: run.RunId))
        {
            var (_, read) = await Server.GetJsonAsync($"/api/runs/{trial.RunId}");
            Assert.Equal(run.RunId, read.GetProperty("parent_run_id").GetString());
        }


        Assert.Equal("hello artifacts", await Server.GetStringAsync($"/api/runs/{run.RunId}/artifacts/docs/{Uri.EscapeDataString("notes v1.txt")}"));
        var e = await Assert.ThrowsAsync<CairnClientException>(() => run.LogArtifactAsync("a\\b", file));
        Assert.Equal(400, e.StatusCode);
    }

    [Fact]
    public async Task Run_BuffersMetrics_AndDisposeFlushesAndEndsIt()
    {
        string runId;
        await using (var run = await Client().StartRunAsync(name: "sdk", tags: new Dictionary<string, string> { ["source"] = "test" }))
        {
            runId = run.RunId;
            await run.LogParamAsync("lr", "0.1");
            await run.SetTagAsync("stage", "dev");
            for (var step = 0; step < 2500; step++)
            {
                run.LogMetric("loss", 1.0 / (step + 1), step);
            }

            Assert.Equal(0, await HistoryCountAsync(runId, "loss"));
        }

        var (_, read) = await Server.GetJsonAsync($"/api/runs/{runId}");
        Assert.Equal("finished", read.GetProperty("status").GetString());
        Assert.Equal("0.1", read.GetProperty("params").GetProperty("lr").GetString());
        Assert.Equal("dev", read.GetProperty("tags").GetProperty("stage").GetString());
        Assert.Equal(2500, await HistoryCountAsync(runId, "loss"));
    }

    [Fact]
    public async Task Flush_RetriesALostResponse_WithoutDuplicatingPoints()
    {
        // The first log request reaches the server and is stored, but its answer is lost on the way back.
        var handler = new FlakyHandler { LoseResponses = 1 };
        await using var run = await Client(handler).StartRunAsync();
        for (var step = 0; step < 1500; step++)
        {
            run.LogMetric("loss", step, step);
        }

        await run.FlushAsync();

        Assert.True(handler.Lost == 1);
        Assert.Equal(1500, await HistoryCountAsync(run.RunId, "loss"));
    }

    [Fact]
    public async Task Flush_RetriesWhileTheServerIsUnreachable()
    {
        var handler = new FlakyHandler();
        await using var run = await Client(handler).StartRunAsync();
        run.LogMetric("loss", 1);
        handler.RefuseRequests = 3;

        await run.FlushAsync();

        Assert.Equal(3, handler.Refused);
        Assert.Equal(1, await HistoryCountAsync(run.RunId, "loss"));
    }

    [Fact]
    public async Task Flush_WhenEveryAttemptFails_KeepsThePointsForTheNextFlush()
    {
        var handler = new FlakyHandler();
        await using var run = await Client(handler).StartRunAsync();
        run.LogMetric("loss", 1);
        handler.RefuseRequests = Options.MaxAttempts;

        await Assert.ThrowsAsync<CairnClientException>(() => run.FlushAsync());
        await run.FlushAsync();

        Assert.Equal(1, await HistoryCountAsync(run.RunId, "loss"));
    }

    [Fact]
    public async Task ACallerMistake_IsReportedWithoutRetrying()
    {
        var handler = new FlakyHandler();

        var e = await Assert.ThrowsAsync<CairnClientException>(() => Client(handler).StartRunAsync(experimentId: "404"));

        Assert.Equal(404, e.StatusCode);
        Assert.Equal(1, handler.Sent);
    }

    private sealed class FlakyHandler() : DelegatingHandler(new HttpClientHandler())
    {
        public int LoseResponses { get; set; }

        public int RefuseRequests { get; set; }

        public int Lost { get; private set; }

        public int Refused { get; private set; }

        public int Sent { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (RefuseRequests > 0)
            {
                RefuseRequests--;
                Refused++;
                throw new HttpRequestException("Connection refused (simulated).");
            }

            Sent++;
            var response = await base.SendAsync(request, cancellationToken);
            if (LoseResponses > 0 && request.RequestUri!.AbsolutePath.EndsWith("/log", StringComparison.Ordinal))
            {
                LoseResponses--;
                Lost++;
                response.Dispose();
                throw new HttpRequestException("Connection reset while reading the response (simulated).");
            }

            return response;
        }
    }
}
