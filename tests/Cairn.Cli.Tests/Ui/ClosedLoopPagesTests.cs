using Microsoft.Playwright;

namespace Cairn.Cli.Tests.Ui;

/// <summary>
/// The drift demo end to end — a year of bike rentals replayed, drift, alerts, retraining, gates, canaries, promotions —
/// and then what it left behind, seen in the browser: the monitor's pages and the closed loop's timeline.
/// </summary>
public sealed class ClosedLoopPagesTests : IAsyncLifetime
{
    private readonly CairnHarness _cairn = new();
    private Chromium _chromium = null!;

    public async Task InitializeAsync() => _chromium = await Chromium.LaunchAsync();

    public async Task DisposeAsync()
    {
        await _chromium.DisposeAsync();
        await _cairn.DisposeAsync();
    }

    [Fact]
    public async Task TheDriftDemo_PromotesARetrainedModel_AndTheMonitorAndLoopPagesShowHow()
    {
        var demo = await _cairn.RunOkAsync("demo", "drift");
        Assert.Contains("is the champion (@champion)", demo.Output, StringComparison.Ordinal);
        Assert.Contains("passed: rmse", demo.Output, StringComparison.Ordinal);
        Assert.Contains("with the loop", demo.Output, StringComparison.Ordinal);
        var home = Path.Combine(_cairn.Home, "demos", "drift");
        var runs = (await _cairn.RunOkAsync("--home", home, "policies", "runs", "--json")).Json.EnumerateArray().ToList();
        Assert.Contains(runs, r => r.GetProperty("state").GetString() == "promoted");
        Assert.All(runs, r => Assert.StartsWith("alert:error:", r.GetProperty("trigger").GetString(), StringComparison.Ordinal));

        using var client = await _cairn.StartServerAsync(options: new Server.CairnServerOptions { GrpcPort = null, Monitoring = false }, home: home);
        var page = await _chromium.NewPageAsync(client.BaseAddress!);
        await page.GotoAsync("monitors");
        await page.GetByRole(AriaRole.Link, new() { Name = "bike", Exact = true }).ClickAsync();
        await page.Locator("[data-chart='drift-heatmap'] canvas").First.WaitForAsync();
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("window(s) evaluated");
        await Assertions.Expect(page.Locator("#alerts + table")).ToContainTextAsync("performance.rmse");
        Assert.True(await page.Locator("[data-chart^='metrics-'] canvas").CountAsync() >= 1);
        await Chromium.ScreenshotAsync(page, "monitor");

        // Another feature's reference and live distributions, chosen in the form: the choice is in the URL.
        await page.Locator("select[name=feature]").SelectOptionAsync("temp");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("feature=temp"));
        await page.Locator("[data-chart='distribution-chart'] canvas").First.WaitForAsync();

        await page.GotoAsync("loop?deployment=bike");
        var first = page.Locator("section.loop-run").First;
        await Assertions.Expect(first).ToContainTextAsync("triggered");
        await Assertions.Expect(page.Locator("section.loop-run").Filter(new() { HasText = "promoted" }).First).ToContainTextAsync("gate");
        Assert.Equal(runs.Count, await page.Locator("section.loop-run").CountAsync());
        await Chromium.ScreenshotAsync(page, "loop");

        // The retraining pipeline's run: its DAG, each step's state (cached steps marked) and its log.
        await page.Locator("section.loop-run").Filter(new() { HasText = "promoted" }).First.GetByRole(AriaRole.Link, new() { Name = "trained by" }).Or(
            page.Locator("section.loop-run").Filter(new() { HasText = "promoted" }).First.Locator("dd a.mono")).First.ClickAsync();
        await page.Locator("[data-chart='pipeline-dag'] canvas").First.WaitForAsync();
        var steps = page.Locator("table[aria-label=Steps] tbody tr");
        Assert.True(await steps.CountAsync() >= 2);
        await Assertions.Expect(steps.First).ToContainTextAsync("finished");
        await Chromium.ScreenshotAsync(page, "pipeline");
        await page.GetByRole(AriaRole.Link, new() { Name = "step.log" }).First.ClickAsync();
        await page.Locator("pre.preview").WaitForAsync();

        // The pipelines page: the retraining pipeline's runs (with their step counts) and a schedule added from the CLI.
        var pipeline = Directory.GetFiles(_cairn.Home, "retrain.yaml", SearchOption.AllDirectories).Single();
        await _cairn.RunOkAsync("--home", home, "pipelines", "schedule", pipeline, "--cron", "0 3 * * *", "--name", "nightly");
        await page.GotoAsync("pipelines");
        var schedule = page.Locator("table[aria-label=Schedules] tbody tr");
        await Assertions.Expect(schedule).ToHaveCountAsync(1);
        await Assertions.Expect(schedule).ToContainTextAsync("nightly");
        await Assertions.Expect(schedule).ToContainTextAsync("retrain.yaml");
        await Assertions.Expect(schedule).ToContainTextAsync("0 0 3 * * ?");
        await Assertions.Expect(schedule).ToContainTextAsync("normal");
        var pipelineRuns = page.Locator("table[aria-label='Pipeline runs'] tbody tr");
        // Every retraining the loop started is listed (the demo's first model came from the pipeline too).
        var table = await page.Locator("table[aria-label='Pipeline runs']").InnerHTMLAsync();
        var retrained = runs.Select(r => r.TryGetProperty("pipeline_run", out var id) ? id.GetString() : null).OfType<string>().ToList();
        Assert.NotEmpty(retrained);
        Assert.All(retrained, id => Assert.Contains($"runs/{id}", table, StringComparison.Ordinal));
        await Assertions.Expect(pipelineRuns.First).ToContainTextAsync("bike-retrain");
        await Chromium.ScreenshotAsync(page, "pipelines");
        await pipelineRuns.First.GetByRole(AriaRole.Link).First.ClickAsync();
        await page.Locator("[data-chart='pipeline-dag'] canvas").First.WaitForAsync();
        Assert.Empty(_chromium.Errors[page]);
    }
}
