using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Cairn.Adapters.Webhooks;
using Cairn.Application;
using Cairn.Application.Serving;
using Cairn.Core.Monitoring;
using Cairn.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cairn.Cli.Tests;

/// <summary>Monitoring through a real server and the CLI: live profiles, the prediction log, feedback, window results, alerts and webhooks.</summary>
public sealed class MonitoringTests : IAsyncLifetime
{
    private const string Secret = "s3cret-for-tests";
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    private readonly CairnHarness _cairn = new();
    private readonly FakeTimeProvider _time = new(Start);
    private readonly string _secretVariable = $"CAIRN_TEST_WEBHOOK_SECRET_{Guid.NewGuid():N}";

    public async Task InitializeAsync()
    {
        await _cairn.TrainAndRegisterAsync("adult.csv", "adult", AdultModelFixture.Spec, AdultModelFixture.Model);
        await _cairn.RunOkAsync("deploy", "adult", "--model", "adult-income@champion");
        Environment.SetEnvironmentVariable(_secretVariable, Secret);
    }

    public Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable(_secretVariable, null);
        return _cairn.DisposeAsync().AsTask();
    }

    [Fact]
    public async Task ALiveWindow_IsProfiledLabeledAndEvaluated_AndItsAlertsFire()
    {
        var config = _cairn.WriteFile("monitor.yaml", """
            segment: sex
            alerts:
              - {name: drift, metric: drift_share, above: 0.1}
              - {name: quiet, metric: rows, below: 1}
              - {name: accuracy, metric: performance.accuracy, below: 0.99}
            """);
        var created = await _cairn.RunOkAsync("monitors", "create", "adult", "--reference", "adult@1", "--config", config);
        Assert.Contains("Monitoring adult against adult@1", created.Output);

        var client = await _cairn.StartServerAsync(time: _time, options: Fast);
        var (ids, labels) = await SendDriftedTrafficAsync(client, requests: 30, rowsPerRequest: 10);

        // Labels minutes later, as JSON strings: all 300 are recorded at once.
        _time.Advance(TimeSpan.FromMinutes(20));
        var feedback = await PostFeedbackAsync(client, ids.Zip(labels, (id, label) => (id, (object)label)));
        Assert.Equal(HttpStatusCode.OK, feedback.StatusCode);
        Assert.Contains("\"recorded\":300", await feedback.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The window closes; the server's monitor evaluates it and fires its alerts.
        _time.Advance(TimeSpan.FromMinutes(41));
        var monitors = _cairn.Services!.GetRequiredService<MonitorService>();
        var result = Assert.Single(await monitors.EvaluateAsync("adult", includeOpen: false, CancellationToken.None));

        Assert.Equal(Start, result.Start);
        Assert.Equal(300, result.Rows);
        Assert.True(result.Drift!.DriftedShare > 0.1, $"drift share {result.Drift.DriftedShare}");
        Assert.True(result.Drift.Columns.Single(c => c.Column == "age").Drifted);
        var newCategory = Assert.Single(result.Quality, q => q.Column == "workclass" && q.Check == "new_category");
        Assert.Contains("Space-agency", newCategory.Message, StringComparison.Ordinal);
        Assert.Equal(300, result.Performance!.LabeledRows);
        Assert.InRange(result.Performance.Metrics["accuracy"], 0.3, 1);
        Assert.InRange(result.Estimated["accuracy"], 0.3, 1);
        Assert.Contains("Male", result.Segments.Keys);
        var traffic = Assert.Single(result.Traffic);
        Assert.Equal((30, 300, "model"), (traffic.Requests, traffic.Rows, traffic.Role));

        var alerts = (await _cairn.RunOkAsync("alerts", "adult", "--json")).Json.EnumerateArray().ToList();
        Assert.Equal(["accuracy", "drift"], alerts.Select(a => a.GetProperty("rule").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(alerts, a => Assert.Equal("logged", a.GetProperty("status").GetString()));

        // Evaluating again changes nothing and fires nothing twice.
        Assert.Empty(await monitors.EvaluateAsync("adult", includeOpen: false, CancellationToken.None));
        var shown = (await _cairn.RunOkAsync("monitors", "show", "adult", "--json")).Json;
        Assert.Equal(300, Assert.Single(shown.EnumerateArray()).GetProperty("rows").GetInt64());

        var html = Path.Combine(_cairn.WorkingDirectory, "report.html");
        await _cairn.RunOkAsync("monitors", "report", "adult", "-o", html);
        var page = await File.ReadAllTextAsync(html);
        Assert.Contains("<svg", page, StringComparison.Ordinal);
        Assert.Contains("Space-agency", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.Ordinal);
        var json = Path.Combine(_cairn.WorkingDirectory, "report.json");
        await _cairn.RunOkAsync("monitors", "report", "adult", "-o", json, "--json");
        Assert.Equal(2, JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement.GetProperty("alerts").GetArrayLength());
    }

    [Fact]
    public async Task BadFeedback_IsRefusedWhole_AndNamesWhatIsWrong()
    {
        await _cairn.RunOkAsync("monitors", "create", "adult", "--reference", "adult@1");
        var client = await _cairn.StartServerAsync(time: _time, options: Fast);
        var (ids, labels) = await SendDriftedTrafficAsync(client, requests: 2, rowsPerRequest: 2);

        await AssertRefusedAsync(client, [(ids[0], labels[0]), ("0000-no-such-prediction", "<=50K")], HttpStatusCode.NotFound, "0000-no-such-prediction");
        await AssertRefusedAsync(client, [(ids[0], labels[0]), (ids[0], labels[0])], HttpStatusCode.BadRequest, "labeled 2 times");
        await AssertRefusedAsync(client, [(ids[0], labels[0]), (ids[1], 42)], HttpStatusCode.BadRequest, "not one of the classes");
        await AssertRefusedAsync(client, [(ids[0], labels[0]), (ids[1], true)], HttpStatusCode.BadRequest, "not one of the classes");
        using (var malformed = await client.PostAsync(new Uri("/api/deployments/adult/feedback", UriKind.Relative), new StringContent("{\"labels\": 3}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }

        using (var missing = await PostFeedbackAsync(client, [(ids[0], labels[0])], deployment: "no-such-deployment"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // Nothing above was recorded: every id can still be labeled once, and only once — here through the SDK.
        var sdk = new Client.CairnClient(client);
        Assert.Equal(4, await sdk.SendFeedbackAsync("adult", [.. ids.Zip(labels, (id, label) => new Client.PredictionLabel(id, label))]));
        await AssertRefusedAsync(client, [(ids[2], labels[2])], HttpStatusCode.Conflict, "already have a label");
        var twice = await Assert.ThrowsAsync<Client.CairnClientException>(() => sdk.SendFeedbackAsync("adult", [new Client.PredictionLabel(ids[1], labels[1])]));
        Assert.Equal(409, twice.StatusCode);
        Assert.Contains(ids[1], twice.Message, StringComparison.Ordinal);

        // The CLI sends labels from a CSV file, with the same checks.
        var file = _cairn.WriteFile("labels.csv", $"prediction_id,label\n{ids[3]},>50K\nnope,<=50K\n");
        var refused = await _cairn.RunAsync("feedback", "adult", "--file", file);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("nope", refused.Error + refused.Output);
    }

    [Fact]
    public async Task Monitors_OnMissingDeploymentsOrBadSettings_AreRefused()
    {
        var missing = await _cairn.RunAsync("monitors", "create", "ghost", "--reference", "adult@1");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no deployment named 'ghost'", missing.Error + missing.Output);

        var badConfig = _cairn.WriteFile("bad.yaml", "window: soon\nalerts:\n  - {name: x, metric: nonsense, above: 1}\n  - {metric: rows}\n");
        var bad = await _cairn.RunAsync("monitors", "create", "adult", "--reference", "adult@1", "--config", badConfig);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("window 'soon'", bad.Error + bad.Output);
        Assert.Contains("unknown metric 'nonsense'", bad.Error + bad.Output);
        Assert.Contains("exactly one of above or below", bad.Error + bad.Output);

        var segment = await _cairn.RunAsync("monitors", "create", "adult", "--reference", "adult@1", "--segment", "income");
        Assert.Equal(2, segment.ExitCode);
        Assert.Contains("segment column 'income'", segment.Error + segment.Output);
        Assert.Empty((await _cairn.RunOkAsync("monitors", "list", "--json")).Json.EnumerateArray());
    }

    [Fact]
    public async Task Alerts_ReachAWebhookSigned_AndARefusingOrDeadEndpointIsRetriedWithoutBlockingServing()
    {
        var received = new ConcurrentQueue<(string Body, string? Signature)>();
        var failuresLeft = 1;
        await using var webhook = await StartWebhookAsync(async http =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            if (Interlocked.Decrement(ref failuresLeft) >= 0)
            {
                http.Response.StatusCode = 500;
                return;
            }

            received.Enqueue((body, http.Request.Headers[WebhookNotifier.SignatureHeader].ToString()));
        });
        var deadPort = CairnHarness.FreePort();
        var config = _cairn.WriteFile("monitor.yaml", $"""
            alerts: [{"{"}name: traffic, metric: rows, above: 0{"}"}]
            webhooks:
              - {"{"}url: "{webhook.Urls.First()}/hook", secret_env: {_secretVariable}{"}"}
            """);
        await _cairn.RunOkAsync("monitors", "create", "adult", "--reference", "adult@1", "--config", config);
        await _cairn.RunOkAsync("deploy", "other", "--model", "adult-income@champion");
        var deadConfig = _cairn.WriteFile("dead.yaml", $"alerts: [{{name: traffic, metric: rows, above: 0}}]\nwebhooks: [{{url: \"http://127.0.0.1:{deadPort}/hook\"}}]\n");
        await _cairn.RunOkAsync("monitors", "create", "other", "--reference", "adult@1", "--config", deadConfig);

        var client = await _cairn.StartServerAsync(time: _time, options: Fast);
        await SendDriftedTrafficAsync(client, requests: 3, rowsPerRequest: 2);
        await SendDriftedTrafficAsync(client, requests: 3, rowsPerRequest: 2, deployment: "other");
        // The recorder writes on a wall-clock cadence; under load the test must not outrun it.
        await _cairn.Services!.GetRequiredService<PredictionRecorder>().FlushAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(1));
        var monitors = _cairn.Services!.GetRequiredService<MonitorService>();
        var dispatcher = _cairn.Services!.GetRequiredService<AlertDispatcher>();
        Assert.Empty(await monitors.EvaluateAllAsync(CancellationToken.None));

        // First attempt: the endpoint answers 500, the dead one refuses the connection; both stay pending with the reason.
        Assert.Equal(0, await dispatcher.DeliverDueAsync(CancellationToken.None));
        var pending = (await monitors.AlertsAsync(null, 10, CancellationToken.None)).ToDictionary(a => a.Deployment);
        Assert.All(pending.Values, a => Assert.Equal((AlertStatus.Pending, 1), (a.Status, a.Attempts)));
        Assert.Contains("answered 500", pending["adult"].LastError, StringComparison.Ordinal);
        Assert.Contains("could not be reached", pending["other"].LastError, StringComparison.Ordinal);
        Assert.DoesNotContain("/hook", pending["adult"].LastError, StringComparison.Ordinal);

        // Serving is untouched while deliveries fail.
        await SendDriftedTrafficAsync(client, requests: 1, rowsPerRequest: 1);

        // Not due before the backoff has passed; then delivered, signed.
        Assert.Equal(0, await dispatcher.DeliverDueAsync(CancellationToken.None));
        _time.Advance(AlertDeliveryOptions.Default.FirstRetry);
        Assert.Equal(1, await dispatcher.DeliverDueAsync(CancellationToken.None));
        var (body, signature) = Assert.Single(received);
        var stamp = long.Parse(signature!.Split(',')[0][2..], CultureInfo.InvariantCulture);
        Assert.Equal(WebhookNotifier.Sign(Secret, stamp, Encoding.UTF8.GetBytes(body)), signature);
        Assert.Equal("traffic", JsonDocument.Parse(body).RootElement.GetProperty("rule").GetString());
        var after = (await monitors.AlertsAsync(null, 10, CancellationToken.None)).ToDictionary(a => a.Deployment);
        Assert.Equal((AlertStatus.Delivered, 2), (after["adult"].Status, after["adult"].Attempts));
        Assert.Equal((AlertStatus.Pending, 2), (after["other"].Status, after["other"].Attempts));
    }

    private static readonly CairnServerOptions Fast = new() { MonitorFlush = TimeSpan.FromMilliseconds(200), MonitorInterval = TimeSpan.FromHours(1), GrpcPort = null };

    // Adult rows aged by 25 years and working 70 hours; every tenth row from a workclass the reference never had.
    internal static async Task<(List<string> Ids, List<string> Labels)> SendDriftedTrafficAsync(HttpClient client, int requests, int rowsPerRequest, string deployment = "adult")
    {
        using var reader = Core.Data.CsvReader.Open(File.OpenRead(CairnHarness.DataFile("adult.csv")));
        var header = reader.Header.ToList();
        var ids = new List<string>();
        var labels = new List<string>();
        for (var request = 0; request < requests; request++)
        {
            var rows = new List<Dictionary<string, object?>>();
            for (var i = 0; i < rowsPerRequest && reader.TryRead(out var record); i++)
            {
                var row = new Dictionary<string, object?>();
                foreach (var (name, value) in header.Zip(record))
                {
                    row[name] = name switch
                    {
                        "income" or "fnlwgt" => null,
                        "age" => double.Parse(value, CultureInfo.InvariantCulture) + 25,
                        "hours_per_week" => 70,
                        "workclass" when rows.Count == 0 => "Space-agency",
                        "education_num" or "capital_gain" or "capital_loss" => double.Parse(value, CultureInfo.InvariantCulture),
                        _ => value.Length == 0 ? null : value,
                    };
                }

                row.Remove("income");
                row.Remove("fnlwgt");
                rows.Add(row);
                labels.Add(record[header.IndexOf("income")]);
            }

            using var response = await client.PostAsync(new Uri($"/api/deployments/{deployment}/predict", UriKind.Relative),
                new StringContent(JsonSerializer.Serialize(new Dictionary<string, object> { ["rows"] = rows }), Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            var id = JsonDocument.Parse(text).RootElement.GetProperty("prediction_id").GetString()!;
            ids.AddRange(rows.Count == 1 ? [id] : Enumerable.Range(0, rows.Count).Select(i => $"{id}/{i}"));
        }

        return (ids, labels);
    }

    private static Task<HttpResponseMessage> PostFeedbackAsync(HttpClient client, IEnumerable<(string Id, object Label)> labels, string deployment = "adult") =>
        client.PostAsync(new Uri($"/api/deployments/{deployment}/feedback", UriKind.Relative), new StringContent(
            JsonSerializer.Serialize(new { labels = labels.Select(l => new Dictionary<string, object> { ["prediction_id"] = l.Id, ["label"] = l.Label }) }),
            Encoding.UTF8, "application/json"));

    private static async Task AssertRefusedAsync(HttpClient client, IEnumerable<(string Id, object Label)> labels, HttpStatusCode status, string message)
    {
        using var response = await PostFeedbackAsync(client, labels);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, body, StringComparison.Ordinal);
    }

    private static async Task<WebApplication> StartWebhookAsync(RequestDelegate handle)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/hook", handle);
        await app.StartAsync();
        return app;
    }
}
