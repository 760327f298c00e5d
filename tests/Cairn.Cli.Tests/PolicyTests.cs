using Cairn.Application;
using Cairn.Application.Serving;
using Cairn.Core.Monitoring;
using Cairn.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;

namespace Cairn.Cli.Tests;

/// <summary>The closed loop through a real server and the CLI: retrain on an alert, the gate, a canary rolled back, and the drift demo end to end.</summary>
public sealed class PolicyTests : IAsyncLifetime
{
    // The server's clock runs a day ahead of the CLI's, so what it sees happens after the monitor and the first run.
    private static readonly DateTimeOffset Start = MonitorSpec.WindowOf(DateTimeOffset.UtcNow.AddDays(1), TimeSpan.FromHours(1)).Start;

    // The server's own timers stay idle; the test moves the loop on, as the server's timer would.
    private static readonly CairnServerOptions Manual = new() { MonitorFlush = TimeSpan.FromHours(1), MonitorInterval = TimeSpan.FromDays(1), GrpcPort = null };

    private readonly CairnHarness _cairn = new();
    private readonly FakeTimeProvider _time = new(Start);

    public async Task InitializeAsync()
    {
        // A weak champion (5 boosting rounds), so the retrained challenger (60) is surely better.
        await _cairn.TrainAndRegisterAsync("adult.csv", "adult", AdultModelFixture.Spec.Replace("num_iterations: 60", "num_iterations: 5", StringComparison.Ordinal), AdultModelFixture.Model);
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@champion");
        await _cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("adult_test.csv"), "--name", "adult-test");
        _cairn.WriteFile("train.yaml", AdultModelFixture.Spec);
        _cairn.WriteFile("retrain.yaml", """
            name: adult-retrain
            steps:
            - {name: train, kind: train, with: {config: train.yaml}, inputs: [dataset:adult, file:train.yaml], outputs: [run:train]}
            - {name: register, kind: register, with: {run: train, model: adult-income}, inputs: [run:train], outputs: [model:adult-income]}
            """);
    }

    public Task DisposeAsync() => _cairn.DisposeAsync().AsTask();

    [Fact]
    public async Task APolicy_RetrainsOnItsAlert_GatesTheChallenger_AndRollsBackACanaryOutsideItsBounds()
    {
        // A policy whose pipeline does not exist is refused with the monitor.
        var missing = await _cairn.RunAsync("monitors", "create", "adult", "--reference", "adult@1", "--config", Settings(pipeline: "nowhere.yaml", minImprovement: 0, maxLatencyMs: 1000));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nowhere.yaml' does not exist", missing.Error, StringComparison.Ordinal);

        // Run by hand with a gate no model can pass: the challenger is trained, evaluated beside the champion and rejected.
        await _cairn.RunOkAsync("monitors", "create", "adult", "--reference", "adult@1", "--config", Settings("retrain.yaml", minImprovement: 0.5, maxLatencyMs: 1000));
        var rejected = (await _cairn.RunOkAsync("policies", "run", "adult", "--json")).Json;
        Assert.Equal("rejected", rejected.GetProperty("state").GetString());
        Assert.Equal(2, rejected.GetProperty("challenger").GetInt32());
        Assert.Equal(1, rejected.GetProperty("champion").GetInt32());
        Assert.Equal("adult-test@1", rejected.GetProperty("holdout").GetString());
        Assert.Contains("the policy asks for 50.0%", rejected.GetProperty("gate").GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);

        // Now a passable gate but a latency bound no server meets. The alert on traffic starts the policy.
        await _cairn.RunOkAsync("monitors", "update", "adult", "--config", Settings("retrain.yaml", minImprovement: 0, maxLatencyMs: 0.000001));
        var client = await _cairn.StartServerAsync(time: _time, options: Manual);
        var services = _cairn.Services!;
        var recorder = services.GetRequiredService<PredictionRecorder>();
        var policies = services.GetRequiredService<PolicyRunner>();
        await recorder.RefreshMonitorsAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(1));
        await MonitoringTests.SendDriftedTrafficAsync(client, requests: 5, rowsPerRequest: 2);
        await recorder.FlushAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(1));
        await services.GetRequiredService<MonitorService>().EvaluateAsync("adult", includeOpen: false, CancellationToken.None);

        var started = await OneMovedAsync(policies);
        Assert.True(started.State == PolicyRunState.Canary, string.Join(" | ", started.Events.Select(e => e.Message)));
        Assert.StartsWith("alert:busy:", started.Trigger, StringComparison.Ordinal);
        Assert.True(started.Gate!.Passed, string.Join("; ", started.Gate.Reasons));
        var deployment = (await _cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json;
        Assert.Equal("adult-income@2", deployment.GetProperty("spec").GetProperty("canary").GetString());
        Assert.Equal(50, deployment.GetProperty("spec").GetProperty("canary_percent").GetInt32());

        // Nothing happens before the canary has answered enough requests; then it is rolled back.
        Assert.Empty(await policies.TickAsync(null, CancellationToken.None));
        await services.GetRequiredService<DeploymentHost>().RefreshAsync(CancellationToken.None);
        // 100 requests at 50%: fewer than the 20 the canary needs is a one-in-a-billion chance.
        await MonitoringTests.SendDriftedTrafficAsync(client, requests: 100, rowsPerRequest: 1);
        await recorder.FlushAsync(CancellationToken.None);
        var rolledBack = await OneMovedAsync(policies);
        Assert.Equal(PolicyRunState.RolledBack, rolledBack.State);
        Assert.Contains("p99 latency above", rolledBack.Events[^1].Message, StringComparison.Ordinal);
        deployment = (await _cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json;
        Assert.False(deployment.GetProperty("spec").TryGetProperty("canary", out _));
        Assert.Equal(1, (await services.GetRequiredService<ModelRegistry>().GetByAliasAsync("adult-income", "champion", CancellationToken.None)).Version);

        // The history, from the CLI and the audit log.
        var runs = (await _cairn.RunOkAsync("policies", "runs", "adult", "--json")).Json;
        Assert.Equal(["rolled_back", "rejected"], runs.EnumerateArray().Select(r => r.GetProperty("state").GetString()));
        var shown = await _cairn.RunOkAsync("policies", "show", rolledBack.Id);
        foreach (var step in new[] { "triggered", "retrained", "evaluated", "gate", "canary", "rolled_back" })
        {
            Assert.Contains(step, shown.Output, StringComparison.Ordinal);
        }

        var events = (await _cairn.RunOkAsync("events", "--json")).Json.EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Contains("policy.rolled_back", events);
        Assert.Contains("policy.canary", events);
    }

    [Fact]
    public async Task APolicyThatAsksForApproval_WaitsForAMaintainerOfTheModel_BeforeTheCanary_AndBeforePromotion()
    {
        var settings = File.ReadAllText(Settings("retrain.yaml", minImprovement: 0, maxLatencyMs: 1000)) + "\n  approve_before: [canary, promotion]\n";
        await _cairn.RunOkAsync("monitors", "create", "adult", "--reference", "adult@1", "--config", _cairn.WriteFile("approvals.yaml", settings));
        var waiting = (await _cairn.RunOkAsync("policies", "run", "adult", "--json")).Json;
        Assert.Equal("awaiting_approval", waiting.GetProperty("state").GetString());
        Assert.Equal("canary", waiting.GetProperty("awaiting").GetString());
        var id = waiting.GetProperty("id").GetString()!;
        var deployment = (await _cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json;
        Assert.False(deployment.GetProperty("spec").TryGetProperty("canary", out _));

        // Through an authenticated server: a viewer of the model cannot approve; a maintainer of it can, and the canary starts.
        await _cairn.RunOkAsync("users", "create", "vic", "--no-token");
        await _cairn.RunOkAsync("users", "create", "mia", "--role", "viewer", "--no-token");
        await _cairn.RunOkAsync("grants", "set", "mia", "maintainer", "--on", "model:adult-income");
        var vic = (await _cairn.RunOkAsync("tokens", "create", "--user", "vic", "--name", "t", "--json")).Json.GetProperty("secret").GetString();
        var mia = (await _cairn.RunOkAsync("tokens", "create", "--user", "mia", "--name", "t", "--json")).Json.GetProperty("secret").GetString();
        await _cairn.RunOkAsync("users", "create", "ops", "--admin", "--no-token");
        var admin = (await _cairn.RunOkAsync("tokens", "create", "--user", "ops", "--name", "t", "--json")).Json.GetProperty("secret").GetString();
        var client = await _cairn.StartServerAsync(time: _time, options: Manual with { Authentication = true });
        async Task<(int, string)> DecideAsync(string verb, string? token, string comment)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/policy-runs/{id}/{verb}")
            {
                Content = new StringContent($$"""{"comment": "{{comment}}"}""", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var response = await client.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var (status, body) = await DecideAsync("approve", vic, "looks fine");
        Assert.Equal(403, status);
        Assert.Contains("maintainer", body, StringComparison.Ordinal);
        (status, body) = await DecideAsync("approve", mia, "gate numbers look right");
        Assert.True(status == 200, body);
        Assert.Contains("\"state\": \"canary\"", body.Replace("\":\"", "\": \"", StringComparison.Ordinal), StringComparison.Ordinal);
        deployment = (await _cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json;
        Assert.Equal("adult-income@2", deployment.GetProperty("spec").GetProperty("canary").GetString());

        // A healthy canary waits for its promotion (still serving its share); a rejection takes it out and the champion stays.
        var services = _cairn.Services!;
        var recorder = services.GetRequiredService<PredictionRecorder>();
        var policies = services.GetRequiredService<PolicyRunner>();
        await recorder.RefreshMonitorsAsync(CancellationToken.None);
        await services.GetRequiredService<DeploymentHost>().RefreshAsync(CancellationToken.None);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin);
        await MonitoringTests.SendDriftedTrafficAsync(client, requests: 100, rowsPerRequest: 1);
        await recorder.FlushAsync(CancellationToken.None);
        var awaiting = await OneMovedAsync(policies);
        Assert.Equal((PolicyRunState.AwaitingApproval, "promotion"), (awaiting.State, awaiting.Awaiting));
        Assert.Empty(await policies.TickAsync(null, CancellationToken.None));
        deployment = (await _cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json;
        Assert.Equal("adult-income@2", deployment.GetProperty("spec").GetProperty("canary").GetString());

        var rejected = await _cairn.RunOkAsync("policies", "reject", id, "--comment", "not before the audit");
        Assert.Contains("taken out of serving: its promotion was rejected", rejected.Output, StringComparison.Ordinal);
        var run = (await _cairn.RunOkAsync("policies", "show", id, "--json")).Json;
        Assert.Equal("rolled_back", run.GetProperty("state").GetString());
        var steps = run.GetProperty("events").EnumerateArray().Select(e => (e.GetProperty("step").GetString(), e.GetProperty("message").GetString())).ToList();
        Assert.Contains(steps, s => s.Item1 == "approved" && s.Item2!.Contains("by mia/t: gate numbers look right", StringComparison.Ordinal));
        Assert.Contains(steps, s => s.Item1 == "rejected" && s.Item2!.Contains("not before the audit", StringComparison.Ordinal));
        deployment = (await _cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json;
        Assert.False(deployment.GetProperty("spec").TryGetProperty("canary", out _));
        Assert.Equal(1, (await services.GetRequiredService<ModelRegistry>().GetByAliasAsync("adult-income", "champion", CancellationToken.None)).Version);
    }

    [Fact]
    public async Task ARunAwaitingApproval_IsRejectedAndApproved_FromTheLoopPage()
    {
        var settings = File.ReadAllText(Settings("retrain.yaml", minImprovement: 0, maxLatencyMs: 1000)) + "\n  approve_before: [canary]\n";
        await _cairn.RunOkAsync("monitors", "create", "adult", "--reference", "adult@1", "--config", _cairn.WriteFile("approvals.yaml", settings));
        var first = (await _cairn.RunOkAsync("policies", "run", "adult", "--json")).Json.GetProperty("id").GetString()!;
        var client = await _cairn.StartServerAsync(time: _time, options: Manual);
        await using var chromium = await Ui.Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync(client.BaseAddress!);
        await page.GotoAsync("loop?deployment=adult");

        var run = page.Locator($"section[aria-label='Policy run {first}']");
        await Assertions.Expect(run).ToContainTextAsync("Waiting for approval before the canary");
        await run.Locator("input[name=Comment]").FillAsync("not this one");
        await run.GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Rejected: the run is now rejected");
        var shown = (await _cairn.RunOkAsync("policies", "show", first, "--json")).Json;
        Assert.Equal("rejected", shown.GetProperty("state").GetString());
        Assert.Contains(shown.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains("not this one", StringComparison.Ordinal));
        Assert.False((await _cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json.GetProperty("spec").TryGetProperty("canary", out _));

        var second = (await _cairn.RunOkAsync("policies", "run", "adult", "--json")).Json.GetProperty("id").GetString()!;
        await page.ReloadAsync();
        run = page.Locator($"section[aria-label='Policy run {second}']");
        await run.Locator("input[name=Comment]").FillAsync("go ahead");
        await run.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Approved: the run is now canary");
        await Assertions.Expect(run).Not.ToContainTextAsync("Waiting for approval");
        await Ui.Chromium.ScreenshotAsync(page, "loop-approved");
        var challenger = (await _cairn.RunOkAsync("policies", "show", second, "--json")).Json.GetProperty("challenger").GetInt32();
        var deployment = (await _cairn.RunOkAsync("deployments", "show", "adult", "--json")).Json;
        Assert.Equal($"adult-income@{challenger}", deployment.GetProperty("spec").GetProperty("canary").GetString());
        Assert.Empty(chromium.Errors[page]);
    }

    [Fact]
    public async Task ASchedule_AndNewVersionsOfADataset_TriggerThePolicy_OneRunAtATime()
    {
        var settings = _cairn.WriteFile("scheduled.yaml", """
            policy:
              schedule: "0 * * * *"
              on_new_version: adult-test
              pipeline: retrain.yaml
              model: adult-income
              holdout: adult-test
              min_improvement: 0.9
            """);
        await _cairn.RunOkAsync("monitors", "create", "adult", "--reference", "adult@1", "--config", settings);
        await _cairn.StartServerAsync(time: _time, options: Manual);
        var policies = _cairn.Services!.GetRequiredService<PolicyRunner>();

        // The server's clock is a day past the monitor's creation: the hourly schedule is due at once, and once only.
        var scheduled = Assert.Single(await policies.TickAsync(null, CancellationToken.None));
        Assert.StartsWith("schedule:", scheduled.Trigger, StringComparison.Ordinal);
        Assert.Equal(PolicyRunState.Rejected, scheduled.State);
        Assert.Empty(await policies.TickAsync(null, CancellationToken.None));

        // A new version of the watched dataset starts the next run, evaluated on that version.
        var lines = File.ReadLines(CairnHarness.DataFile("adult_test.csv")).Take(4001);
        await _cairn.RunOkAsync("datasets", "add", _cairn.WriteFile("adult_test_part.csv", string.Join('\n', lines) + "\n"), "--name", "adult-test");
        var onData = Assert.Single(await policies.TickAsync(null, CancellationToken.None));
        Assert.Equal(("dataset:adult-test@2", "adult-test@2"), (onData.Trigger, onData.Holdout));
        Assert.Empty(await policies.TickAsync(null, CancellationToken.None));

        _time.Advance(TimeSpan.FromHours(1));
        Assert.StartsWith("schedule:", Assert.Single(await policies.TickAsync(null, CancellationToken.None)).Trigger, StringComparison.Ordinal);

        // A run whose process died while retraining is ended, so that it does not hold the deployment's loop forever.
        var orphan = new PolicyRun { Id = "orphan", Deployment = "adult", Trigger = "manual", StartedAt = _time.GetUtcNow(), Model = "adult-income", Process = $"{Environment.MachineName}:{int.MaxValue}" }
            .Then(_time.GetUtcNow(), "triggered", "started by a process that then died");
        await _cairn.Services!.GetRequiredService<Core.Ports.IMonitoringStore>().AddPolicyRunAsync(orphan, CancellationToken.None);
        var ended = Assert.Single(await policies.TickAsync(null, CancellationToken.None));
        Assert.Equal(("orphan", PolicyRunState.Failed), (ended.Id, ended.State));
        Assert.Contains("interrupted", ended.Events[^1].Message, StringComparison.Ordinal);

        // One whose process is on another machine is ended by hand, once.
        await _cairn.Services!.GetRequiredService<Core.Ports.IMonitoringStore>().AddPolicyRunAsync(
            orphan with { Id = "elsewhere", Process = "another-machine:42" }, CancellationToken.None);
        Assert.Empty(await policies.TickAsync(null, CancellationToken.None));
        Assert.Contains("cancelled by", (await _cairn.RunOkAsync("policies", "cancel", "elsewhere")).Output, StringComparison.Ordinal);
        var again = await _cairn.RunAsync("policies", "cancel", "elsewhere");
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("already ended", again.Error, StringComparison.Ordinal);

        // A bad cron expression is refused with the monitor.
        var bad = await _cairn.RunAsync("monitors", "update", "adult", "--config", _cairn.WriteFile("bad.yaml", "policy: {schedule: \"every day\", pipeline: retrain.yaml, model: adult-income, holdout: adult-test}"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("every day", bad.Error, StringComparison.Ordinal);
    }

    // The one run a tick moved on; otherwise a failure that shows every run of the deployment step by step.
    private async Task<PolicyRun> OneMovedAsync(PolicyRunner policies)
    {
        var moved = await policies.TickAsync(null, CancellationToken.None);
        if (moved.Count == 1)
        {
            return moved[0];
        }

        var runs = await policies.ListAsync("adult", 10, CancellationToken.None);
        Assert.Fail($"{moved.Count} runs moved on; the runs: " + string.Join(" || ", runs.Select(r => $"{r.Id} {r.State}: {string.Join(" | ", r.Events.Select(e => e.Message))}")));
        return null!;
    }

    private string Settings(string pipeline, double minImprovement, double maxLatencyMs) => _cairn.WriteFile("monitor.yaml", $"""
        alerts:
          - {"{"}name: busy, metric: rows, above: 0{"}"}
        policy:
          on_alert: busy
          pipeline: {pipeline}
          model: adult-income
          holdout: adult-test
          min_improvement: {minImprovement.ToString(System.Globalization.CultureInfo.InvariantCulture)}
          slices: [sex]
          max_slice_regression: 0.5
          canary_percent: 50
          canary_requests: 20
          max_latency_ms: {maxLatencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture)}
        """);
}
