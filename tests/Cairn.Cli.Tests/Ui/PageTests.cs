using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Cairn.Cli.Tests.Ui;

/// <summary>Every page of the web UI opened in Chromium against a real server with real data on the embedded stores (SQLite and local files).</summary>
public sealed class PageTests(UiFixture fixture) : PageTestsBase(fixture), IClassFixture<UiFixture>;

/// <summary>The same pages in team mode: the server's store is PostgreSQL and its artifacts live in an S3-compatible bucket.</summary>
public sealed class TeamModePageTests(TeamUiFixture fixture) : PageTestsBase(fixture), IClassFixture<TeamUiFixture>;

/// <summary>Every page of the web UI opened in Chromium against a real server with real data: its content, its actions, checked in the store.</summary>
public abstract class PageTestsBase(UiFixture fixture)
{
    private CairnHarness Cairn => fixture.Cairn;

    [Fact]
    public async Task TheRunsPage_ListsRuns_FiltersAndSortsOnTheServer_AndPointsAtAFilterError()
    {
        var page = await OpenAsync("experiments");
        await page.GetByRole(AriaRole.Link, new() { Name = "Default" }).ClickAsync();
        await page.WaitForURLAsync("**/experiments/0");
        var rows = page.Locator("table[aria-label=Runs] tbody tr");
        await Assertions.Expect(page.Locator($"input[name=run][value='{fixture.RunId}']")).ToHaveCountAsync(1);
        Assert.Contains("auc", await page.Locator("table[aria-label=Runs] thead").InnerTextAsync(), StringComparison.Ordinal);
        await ScreenshotAsync(page, "runs");

        await page.Locator("#filter").FillAsync("params.seed = '2' OR metrics.auc > 2");
        await page.Locator("#filter").PressAsync("Enter");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        Assert.Contains("seed", page.Url, StringComparison.Ordinal);

        await page.GotoAsync("experiments/0?filter=" + Uri.EscapeDataString("metrics.auc >> 1"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("position");
        await ScreenshotAsync(page, "runs-filter-error");
        fixture.Chromium.Errors[page].Clear(); // the browser logs the page's 400, which is the point here

        await page.GotoAsync("experiments/0?cols=params.seed&sort=" + Uri.EscapeDataString("params.seed DESC"));
        await Assertions.Expect(rows.First.Locator("td").Last).ToHaveTextAsync(new Regex("^[2-9]$"));
        // Descending, and runs without a seed (other tests add some) come last.
        var seeds = (await rows.Locator("td:last-child").AllInnerTextsAsync()).Select(s => s.Trim()).ToList();
        var given = seeds.TakeWhile(s => s.Length > 0).ToList();
        Assert.Equal(given.OrderDescending(StringComparer.Ordinal), given);
        Assert.Equal("1", given[^1]);
        Assert.All(seeds.Skip(given.Count), s => Assert.Empty(s));
        AssertNoScriptErrors(page);
    }

    [Fact]
    public async Task ComparingRuns_ShowsTheParallelPlotTheScatterAndOnlyTheDifferences()
    {
        var page = await OpenAsync("experiments/0?filter=" + Uri.EscapeDataString("params.seed IN ('1', '2')"));
        await page.Locator("input[data-select-all=run]").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare selected" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("compare\\?runs="));
        await page.Locator("[data-chart='parallel-chart'] canvas").First.WaitForAsync();
        await page.Locator("[data-chart='scatter-chart'] canvas").First.WaitForAsync();
        var table = page.Locator("#table + .scroll table");
        await Assertions.Expect(table).ToContainTextAsync("params.trainer");
        await ScreenshotAsync(page, "compare");

        await page.Locator("input[name=diff]").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(table).Not.ToContainTextAsync("params.trainer");
        await Assertions.Expect(table).ToContainTextAsync("params.seed");
        AssertNoScriptErrors(page);

        // Runs named by id or prefix are read together; one that does not exist is named.
        // A page about something missing answers 404 and still says what is missing (the component endpoint would send no body).
        var missing = await page.GotoAsync($"compare?runs={fixture.RunId[..20]},0123456789abcdef0123456789abcdef");
        Assert.Equal(404, missing!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("There is no run '0123456789abcdef0123456789abcdef'");
        fixture.Chromium.Errors[page].Clear(); // the browser logs the 404
    }

    [Fact]
    public async Task BulkTaggingAndDeleting_FromTheRunsPage_ChangeTheStore()
    {
        var other = (await Cairn.RunOkAsync("train", "--config", Cairn.WriteFile("bulk.yaml", AdultModelFixture.Spec.Replace("seed: 1", "seed: 9", StringComparison.Ordinal)), "--json"))
            .Json.GetProperty("id").GetString()!;
        var page = await OpenAsync("experiments/0?filter=" + Uri.EscapeDataString("params.seed = '9'"));
        await page.Locator($"input[name=run][value='{other}']").CheckAsync();
        await page.Locator("#tag").FillAsync("review=done");
        await page.GetByRole(AriaRole.Button, new() { Name = "Tag selected" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Tagged 1 run");
        var shown = await Cairn.RunOkAsync("runs", "show", other, "--json");
        Assert.Equal("done", shown.Json.GetProperty("tags").GetProperty("review").GetString());

        await page.Locator($"input[name=run][value='{other}']").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete selected" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Deleted 1 run");
        Assert.Equal("deleted", (await Cairn.RunOkAsync("runs", "show", other, "--json")).Json.GetProperty("lifecycle").GetString());
        AssertNoScriptErrors(page);
    }

    [Fact]
    public async Task ARunPage_ShowsParamsMetricsInputsAndArtifacts_WithPreviewsAndTheEvaluation()
    {
        var page = await OpenAsync($"runs/{fixture.RunId}");
        Assert.Contains("auc", await page.Locator("#metrics + table").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("num_iterations", await page.Locator("#params + table").InnerTextAsync(), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Link, new() { Name = "adult@1" }).First.WaitForAsync();
        Assert.Equal(1, await page.Locator("iframe[title='Evaluation report']").CountAsync());
        await Assertions.Expect(page.FrameLocator("iframe[title='Evaluation report']").Locator("body")).ToContainTextAsync("baseline");
        await page.Locator("iframe[title='Evaluation report']").ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "run-report.png") });
        await ScreenshotAsync(page, "run");

        await page.GetByRole(AriaRole.Link, new() { Name = "train.yaml" }).ClickAsync();
        await Assertions.Expect(page.Locator("pre.preview")).ToContainTextAsync("label: income");

        await page.GetByRole(AriaRole.Link, new() { Name = "adult@1" }).First.ClickAsync();
        await Assertions.Expect(page.Locator("#profile + .scroll table")).ToContainTextAsync("hours_per_week");
        Assert.True(await page.Locator("svg[aria-label=histogram]").CountAsync() > 3);
        await ScreenshotAsync(page, "dataset-version");
        AssertNoScriptErrors(page);
    }

    [Fact]
    public async Task AMetricHistory_IsChartedFromItsSummary()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server };
        using var created = await http.PostAsync("api/runs", Json("""{"name": "curve"}"""));
        var run = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        foreach (var chunk in Enumerable.Range(0, 5000).Chunk(1000))
        {
            var points = string.Join(",", chunk.Select(i => $"{{\"key\":\"loss\",\"value\":{1.0 / (i + 1)},\"step\":{i}}}"));
            using var logged = await http.PostAsync($"api/runs/{run}/log", Json($"{{\"metrics\":[{points}]}}"));
            Assert.True(logged.IsSuccessStatusCode, await logged.Content.ReadAsStringAsync());
        }

        var page = await OpenAsync($"runs/{run}");
        await page.Locator("[data-chart='metric-loss'] canvas").First.WaitForAsync();
        await ScreenshotAsync(page, "run-metric-chart");
        const string series = "echarts.getInstanceByDom(document.querySelector(\"[data-chart='metric-loss']\")).getOption().series";
        Assert.True(await page.EvaluateAsync<int>($"{series}[0].data.length") < 5000);
        Assert.Equal(3, await page.EvaluateAsync<int>($"{series}.length")); // the last values, and the min-max band of each bucket

        // Zooming in asks the server for the visible steps at full resolution: every point, no band.
        var requery = page.WaitForResponseAsync(r => r.Url.Contains("/metrics/loss/summary?", StringComparison.Ordinal));
        await page.EvaluateAsync("echarts.getInstanceByDom(document.querySelector(\"[data-chart='metric-loss']\")).dispatchAction({type: 'dataZoom', startValue: 1000, endValue: 1500})");
        var response = await requery;
        Assert.Contains("from_step=1000&to_step=1500", response.Url, StringComparison.Ordinal);
        await page.WaitForFunctionAsync($"() => {series}.length === 1");
        Assert.Equal(501, await page.EvaluateAsync<int>($"{series}[0].data.length"));
        Assert.Equal(1000, await page.EvaluateAsync<int>($"{series}[0].data[0][0]"));
        AssertNoScriptErrors(page);
    }

    [Fact]
    public async Task TheModelPages_ShowVersionsAndACard_AndMoveAnAlias()
    {
        var page = await OpenAsync("models");
        await page.GetByRole(AriaRole.Link, new() { Name = AdultModelFixture.Model }).ClickAsync();
        await Assertions.Expect(page.Locator("table.data tbody tr")).ToHaveCountAsync(2);
        await ScreenshotAsync(page, "model");

        await page.Locator("input[name=Alias]").FillAsync("staging");
        await page.Locator("select[name=Version]").SelectOptionAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Move" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("staging now points at v2");
        var versions = (await Cairn.RunOkAsync("models", "show", AdultModelFixture.Model, "--json")).Json.EnumerateArray();
        Assert.Contains(versions, v => v.GetProperty("version").GetInt32() == 2 && v.GetProperty("aliases").EnumerateArray().Any(a => a.GetString() == "staging"));

        await page.GotoAsync($"models/{AdultModelFixture.Model}/versions/1");
        var card = await page.Locator("main").InnerTextAsync();
        Assert.Contains("Signature", card, StringComparison.Ordinal);
        Assert.Contains("Trivial baseline", card, StringComparison.Ordinal);
        Assert.Contains("ONNX parity", card, StringComparison.Ordinal);
        Assert.Contains("adult (model)", card, StringComparison.Ordinal);
        await ScreenshotAsync(page, "model-card");
        AssertNoScriptErrors(page);
    }

    [Fact]
    public async Task TheDeploymentsDatasetsAndAuditPages_ShowWhatTheStoreHolds()
    {
        var page = await OpenAsync("deployments");
        Assert.Contains($"{AdultModelFixture.Model}@champion", await page.Locator("table.data").InnerTextAsync(), StringComparison.Ordinal);
        await ScreenshotAsync(page, "deployments");

        await page.GotoAsync("datasets");
        await page.GetByRole(AriaRole.Link, new() { Name = "adult", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("table.data")).ToContainTextAsync("adult.csv");
        await ScreenshotAsync(page, "dataset");

        await page.GotoAsync("audit?kind=deployment");
        var audit = await page.Locator("table.data").InnerTextAsync();
        Assert.Contains("deployment.created", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("dataset.", audit, StringComparison.Ordinal);
        await ScreenshotAsync(page, "audit");
        await page.GotoAsync($"audit?kind=deployment.&since={DateTimeOffset.UtcNow.AddDays(-1):yyyy-MM-dd}&until={DateTimeOffset.UtcNow:yyyy-MM-dd}");
        await Assertions.Expect(page.Locator("table.data")).ToContainTextAsync("deployment.created");
        await page.GotoAsync("audit?until=2001-01-01");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("0 event(s)");
        await page.GotoAsync("audit?since=yesterday");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("'yesterday' is not a date");
        fixture.Chromium.Errors[page].Clear(); // the 400 of the bad date
        var events = (await Cairn.RunOkAsync("events", "--kind", "deployment.", "--since", DateTimeOffset.UtcNow.AddHours(-1).ToString("O"), "--json")).Json;
        Assert.All(events.EnumerateArray(), e => Assert.StartsWith("deployment.", e.GetProperty("kind").GetString(), StringComparison.Ordinal));
        Assert.NotEqual(0, events.GetArrayLength());
        Assert.Equal(2, (await Cairn.RunAsync("events", "--since", "2026-13-01")).ExitCode);
        AssertNoScriptErrors(page);
    }

    [Fact]
    public async Task TheDeploymentPage_IsLive_AndSetsAndRollsBackACanary()
    {
        var page = await OpenAsync("deployments/adult");
        await page.WaitForFunctionAsync("() => window.Blazor && document.querySelector('h1')");
        using var http = new HttpClient { BaseAddress = fixture.Server };
        for (var i = 0; i < 5; i++)
        {
            using var answered = await http.PostAsync("api/deployments/adult/predict", Json(AdultModelFixture.TwoRows));
            Assert.True(answered.IsSuccessStatusCode, await answered.Content.ReadAsStringAsync());
        }

        // The page refreshes itself: the requests just made appear without reloading it.
        var traffic = page.Locator("#traffic + table tbody tr").First;
        await Assertions.Expect(traffic.Locator("td").Nth(2)).ToHaveTextAsync(new Regex("^([5-9]|[1-9][0-9]+)$"), new() { Timeout = 10_000 });
        await Assertions.Expect(traffic.Locator("td").Nth(3)).ToHaveTextAsync(new Regex("^[1-9][0-9]*$"));

        await page.Locator("input[placeholder^='adult-income']").FillAsync($"{AdultModelFixture.Model}@2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set canary" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("10% of requests");
        var shown = (await Cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json;
        Assert.Equal($"{AdultModelFixture.Model}@2", shown.GetProperty("spec").GetProperty("canary").GetString());
        await ScreenshotAsync(page, "deployment-live");

        await page.GetByRole(AriaRole.Button, new() { Name = "Roll back (remove the canary)" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("canary is removed");
        shown = (await Cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json;
        Assert.False(shown.GetProperty("spec").TryGetProperty("canary", out var canary) && canary.ValueKind != System.Text.Json.JsonValueKind.Null);
        AssertNoScriptErrors(page);
    }

    [Fact]
    public async Task APrediction_IsTracedToItsDeploymentModelRunDataFilesAndGitCommit()
    {
        // A spec committed to a git repository: the run records the commit, the branch and that nothing was uncommitted.
        var repository = Path.Combine(Cairn.WorkingDirectory, "repo");
        Directory.CreateDirectory(repository);
        await File.WriteAllTextAsync(Path.Combine(repository, "train.yaml"), AdultModelFixture.Spec);
        foreach (var git in new[] { "init -q -b main", "add train.yaml", "-c user.email=t@example.com -c user.name=t commit -q -m spec" })
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", $"-C {repository} {git}") { RedirectStandardOutput = true })!;
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
        }

        var trained = (await Cairn.RunOkAsync("train", "--config", Path.Combine(repository, "train.yaml"), "--json")).Json;
        var tags = trained.GetProperty("tags");
        Assert.Matches("^[0-9a-f]{40}$", tags.GetProperty("mlflow.source.git.commit").GetString());
        Assert.Equal("main", tags.GetProperty("mlflow.source.git.branch").GetString());
        Assert.Equal("false", tags.GetProperty("cairn.source.git.dirty").GetString());
        await Cairn.RunOkAsync("models", "register", trained.GetProperty("id").GetString()!, "--name", "traced-model", "--alias", "champion");
        await Cairn.RunOkAsync("deploy", "traced", "--model", "traced-model@champion");

        using var http = new HttpClient { BaseAddress = fixture.Server };
        string? id = null;
        for (var i = 0; i < 100 && id is null; i++)
        {
            using var answered = await http.PostAsync("api/deployments/traced/predict", Json(AdultModelFixture.TwoRows));
            id = answered.IsSuccessStatusCode ? answered.Headers.GetValues("Cairn-Prediction-Id").First() : null;
            await Task.Delay(id is null ? 100 : 0);
        }

        Assert.NotNull(id);
        // The recorder writes the prediction log every few seconds.
        CliResult lineage = null!;
        for (var i = 0; i < 100 && (lineage = await Cairn.RunAsync("lineage", id!, "--json")).ExitCode != 0; i++)
        {
            await Task.Delay(200);
        }

        Assert.Equal(0, lineage.ExitCode);
        Assert.Equal("traced", lineage.Json.GetProperty("prediction").GetProperty("deployment").GetString());
        Assert.Equal("adult", lineage.Json.GetProperty("data")[0].GetProperty("version").GetProperty("name").GetString());
        Assert.Equal(tags.GetProperty("mlflow.source.git.commit").GetString(), lineage.Json.GetProperty("code").GetProperty("mlflow.source.git.commit").GetString());
        Assert.Equal(3, (await Cairn.RunAsync("lineage", "no-such-prediction")).ExitCode);

        var page = await OpenAsync($"lineage/{id}");
        await page.Locator("[data-chart='lineage-graph'] canvas").First.WaitForAsync();
        await Assertions.Expect(page.Locator("table[aria-label='Lineage nodes']")).ToContainTextAsync($"commit {tags.GetProperty("mlflow.source.git.commit").GetString()![..7]}");
        var text = await page.Locator("main").InnerTextAsync();
        Assert.Contains("traced-model v1", text, StringComparison.Ordinal);
        Assert.Contains("adult@1", text, StringComparison.Ordinal);
        Assert.Contains(tags.GetProperty("mlflow.source.git.commit").GetString()!, text, StringComparison.Ordinal);
        await ScreenshotAsync(page, "lineage");

        // From the dataset version: its file upstream; downstream the runs that read it, their models, deployments and predictions.
        await page.GotoAsync("datasets/adult/1");
        await page.GetByRole(AriaRole.Link, new() { Name = "Lineage graph" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("from=dataset"));
        var nodes = page.Locator("table[aria-label='Lineage nodes']");
        await Assertions.Expect(nodes).ToContainTextAsync("traced-model v1");
        await Assertions.Expect(nodes).ToContainTextAsync("deployment traced");
        await Assertions.Expect(nodes).ToContainTextAsync(id![..12]);
        await page.Locator("[data-chart='lineage-graph'] canvas").First.WaitForAsync();
        await ScreenshotAsync(page, "lineage-dataset");

        // Any node is a new root: the file's graph leads back down through the same dataset version.
        await nodes.Locator("tr").Filter(new() { HasText = "adult.csv" }).GetByRole(AriaRole.Link, new() { Name = "lineage from here" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("from=file"));
        await Assertions.Expect(page.Locator("table[aria-label='Lineage nodes']")).ToContainTextAsync("adult@1");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await http.GetAsync("lineage?from=nonsense")).StatusCode);
        // The same graph from the CLI: the run that trained traced-model, upstream to its commit, downstream to its deployment.
        var graph = (await Cairn.RunOkAsync("lineage", $"run:{trained.GetProperty("id").GetString()}", "--json")).Json;
        var keys = graph.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("kind").GetString() + ":" + n.GetProperty("id").GetString()).ToList();
        Assert.Contains($"code:{tags.GetProperty("mlflow.source.git.commit").GetString()}", keys);
        Assert.Contains("model:traced-model/1", keys);
        Assert.Contains("deployment:traced", keys);
        Assert.Contains("dataset:adult@1", keys);
        Assert.Equal(2, (await Cairn.RunAsync("lineage", "colour:red")).ExitCode);
        AssertNoScriptErrors(page);
    }

    [Fact]
    public async Task ThePagesScripts_AreServedCompressed_AndCachedByTheirFingerprint()
    {
        using var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = System.Net.DecompressionMethods.None }) { BaseAddress = fixture.Server };
        var html = await http.GetStringAsync("experiments");
        var charts = Regex.Match(html, "_content/Cairn.Web/lib/echarts/echarts\\.min\\.[a-z0-9]+\\.js").Value;
        Assert.NotEmpty(charts);
        foreach (var encoding in new[] { "br", "gzip" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, charts);
            request.Headers.AcceptEncoding.ParseAdd(encoding);
            using var response = await http.SendAsync(request);
            Assert.Equal(encoding, Assert.Single(response.Content.Headers.ContentEncoding));
            // ECharts is 1.1 MB as it is; compressed for real it is under a third of that.
            Assert.InRange((await response.Content.ReadAsByteArrayAsync()).Length, 1, 400_000);
            Assert.Contains("immutable", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EveryPage_RendersInTheDarkTheme()
    {
        var page = await fixture.Chromium.NewPageAsync(fixture.Server, ColorScheme.Dark);
        foreach (var (path, name) in new[] { ("experiments/0", "runs-dark"), ($"runs/{fixture.RunId}", "run-dark"), ($"models/{AdultModelFixture.Model}/versions/1", "model-card-dark") })
        {
            await page.GotoAsync(path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await ScreenshotAsync(page, name);
        }

        var background = await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor");
        Assert.NotEqual("rgb(255, 255, 255)", background);
        AssertNoScriptErrors(page);
    }

    // Team mode's screenshots are kept beside the embedded ones, not over them.
    private Task ScreenshotAsync(IPage page, string name) => Chromium.ScreenshotAsync(page, fixture is TeamUiFixture ? "team-" + name : name);

    private async Task<IPage> OpenAsync(string path)
    {
        var page = await fixture.Chromium.NewPageAsync(fixture.Server);
        var response = await page.GotoAsync(path);
        Assert.Equal(200, response!.Status);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        return page;
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private void AssertNoScriptErrors(IPage page) => Assert.Empty(fixture.Chromium.Errors[page]);
}
