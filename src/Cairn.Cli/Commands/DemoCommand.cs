using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cairn.Application;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Monitoring;
using Cairn.Server;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn demo drift</c>: the closed loop on the bundled bike-sharing data, in a home of its own.</summary>
internal static class DemoCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("demo", "Demonstrations on bundled data, each in a Cairn home of its own");
        var drift = new Command("drift",
            "Train on 2011 bike rentals, replay 2012 through a monitored deployment with labels a day late, and watch drift and error rise, " +
            "the policy retrain on recent data, the gate, the canary and the promotion");
        drift.SetAction(app.ServerSideHandler((context, ct) => new DriftDemo(context).RunAsync(ct)));
        command.Subcommands.Add(drift);
        return command;
    }
}

/// <summary>
/// The drift demonstration. A replay clock stands in for time: every hour of 2012 is sent to the deployment over HTTP
/// when the clock reaches it, its true count is sent as feedback at the end of the day, and at the end of each day the
/// monitor evaluates closed weekly windows and the policy runner does what the server does on its timer.
/// </summary>
internal sealed class DriftDemo(CommandContext context)
{
    private const string Deployment = "bike";
    private const string Model = "bike-demand";
    private const string Recent = "bike-recent";
    private const string Holdout = "bike-holdout";
    private const string Label = "cnt";
    private const int RecentWeeks = 16;
    private const int HoldoutDays = 14;

    private static readonly string[] Features = ["season", "yr", "mnth", "hr", "holiday", "weekday", "workingday", "weathersit", "temp", "atemp", "hum", "windspeed"];
    private static readonly DateTimeOffset ReplayStart = new(2012, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly IAnsiConsole _console = context.Console.Out;
    private readonly List<(DateTimeOffset At, string[] Fields, string? Id)> _hours = [];
    private List<string> _header = [];
    private DateTimeOffset _datasetsAt = ReplayStart;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var folder = Path.Combine(context.Home.Path, "demos", "drift");
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(folder);
        var home = CairnHome.Resolve(folder, null, null, _ => null, context.WorkingDirectory);
        _console.MarkupLineInterpolated($"[bold]Cairn drift demo[/] — a home of its own: {folder}");
        ReadHours(Path.Combine(AppContext.BaseDirectory, "examples", "bike-sharing", "bike_sharing_hour.csv"));
        var clock = new ReplayClock(ReplayStart.AddMonths(-1));

        await using var server = ServeCommand.Build(home, new CairnServerOptions { Port = 0, MonitorInterval = TimeSpan.FromDays(1), LogLevel = Microsoft.Extensions.Logging.LogLevel.Error }, clock);
        var services = server.Services;
        var datasets = services.GetRequiredService<DatasetService>();
        var policies = services.GetRequiredService<PolicyRunner>();
        var monitors = services.GetRequiredService<MonitorService>();

        // 1. The champion: trained on 2011 up to December by the same pipeline the policy will run.
        var pipeline = WriteSettings(folder);
        await AddAsync(datasets, folder, Recent, _hours.Where(h => h.At < ReplayStart.AddMonths(-1)), cancellationToken);
        await AddAsync(datasets, folder, Holdout, _hours.Where(h => h.At >= ReplayStart.AddMonths(-1) && h.At < ReplayStart), cancellationToken);
        Step(1, $"Training the champion on 2011 (January–November, {_hours.Count(h => h.At < ReplayStart.AddMonths(-1)):N0} hours)");
        var trained = await services.GetRequiredService<PipelineRunner>().RunAsync(Core.Pipelines.PipelineSpec.Parse(await File.ReadAllTextAsync(pipeline, cancellationToken), pipeline),
            new Dictionary<string, string>(), folder, force: false, null, cancellationToken);
        if (trained.Status != Core.Runs.RunStatus.Finished)
        {
            throw new CairnException(ErrorCode.Unavailable, $"Training the champion failed: {trained.Steps.LastOrDefault()?.Error}");
        }

        var registry = services.GetRequiredService<ModelRegistry>();
        var champion = int.Parse(trained.Steps.Select(s => s.Outputs.GetValueOrDefault($"model:{Model}")).Last(v => v is not null)!, CultureInfo.InvariantCulture);
        await registry.SetAliasAsync(Model, "champion", champion, cancellationToken);
        await services.GetRequiredService<DeploymentService>().CreateAsync(Deployment,
            new Core.Models.DeploymentSpec { Model = new Core.Models.ModelRef(Model, "champion", null) }, cancellationToken);
        _console.MarkupLineInterpolated($"      {Model} version {champion} ← @champion, deployed as '{Deployment}'");

        // 2. The monitor: weekly windows against December 2011, an alert when the error grows by a third, and the policy.
        Step(2, "Monitoring the deployment against December 2011");
        var reference = (await datasets.GetAsync(new DatasetRef(Holdout, null), cancellationToken)).Reference;
        var monitor = await monitors.CreateAsync(Deployment, MonitorSpec.Parse(null, reference, "7d", null), cancellationToken);
        var referenceRmse = (await monitors.BaselineAsync(monitor, cancellationToken)).Metrics["rmse"];
        var threshold = Math.Round(referenceRmse * 1.35, 1);
        var spec = MonitorSpec.Parse(Settings(threshold, pipeline), reference, "7d", null);
        await monitors.UpdateAsync(Deployment, spec, cancellationToken);
        _console.MarkupLineInterpolated($"      reference RMSE {referenceRmse:0.0} rentals/hour; alert 'error' when a week's RMSE is above {threshold:0.0}");
        _console.MarkupLineInterpolated($"      policy: retrain on the last {RecentWeeks} weeks of labeled traffic, gate on the last {HoldoutDays} days (RMSE at least 5% better, no weather or working-day slice 10% worse), canary 50% for 60 requests");

        // 3. Replay 2012.
        Step(3, "Replaying 2012 hour by hour over HTTP; true counts arrive as feedback at the end of each day");
        var address = await CairnServer.StartAsync(server, cancellationToken);
        await services.GetRequiredService<PredictionRecorder>().RefreshMonitorsAsync(cancellationToken);
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        var client = new Client.CairnClient(http);
        var host = services.GetRequiredService<DeploymentHost>();
        var weeks = new List<WindowResult>();
        var progress = new LineProgress(_console);
        foreach (var day in _hours.Where(h => h.At >= ReplayStart).Select(h => h.At.Date).Distinct().ToList())
        {
            var dayStart = new DateTimeOffset(day, TimeSpan.Zero);
            await host.RefreshAsync(cancellationToken);
            for (var i = 0; i < _hours.Count; i++)
            {
                if (_hours[i].At >= dayStart && _hours[i].At < dayStart.AddDays(1))
                {
                    clock.Set(_hours[i].At);
                    _hours[i] = await PredictAsync(client, _hours[i], cancellationToken);
                }
            }

            clock.Set(dayStart.AddDays(1));
            await SendLabelsAsync(client, dayStart, cancellationToken);
            await services.GetRequiredService<PredictionRecorder>().FlushAsync(cancellationToken);
            foreach (var result in (await monitors.EvaluateAsync(Deployment, includeOpen: false, cancellationToken)).Where(r => r.Performance is not null))
            {
                var fired = (await monitors.AlertsAsync(Deployment, 5, cancellationToken)).FirstOrDefault(a => a.WindowStart == result.Start);
                weeks.Add(result);
                var rmse = result.Performance!.Metrics["rmse"];
                _console.MarkupLineInterpolated(
                    $"  week from {result.Start:yyyy-MM-dd}: {result.Rows,4} requests, {result.Drift?.Columns.Count(c => c.Drifted) ?? 0,2}/{result.Drift?.Columns.Count ?? 0} features drifted, RMSE {rmse,6:0.0} — {Serving(result)}{(fired is null ? "" : $" [red]alert: {fired.Message}[/]")}");
            }

            // Labeled traffic lands in the datasets the policy reads once a week, as a data pipeline would put it there.
            if (clock.GetUtcNow() - _datasetsAt >= TimeSpan.FromDays(7))
            {
                await RefreshDatasetsAsync(datasets, folder, clock.GetUtcNow(), cancellationToken);
            }

            // What the server does on its timer: start a policy whose alert fired, move canaries on.
            await policies.TickAsync(progress, cancellationToken);
        }

        await server.StopAsync(CancellationToken.None);

        // 4. Before and after: what the deployment answered with the loop, against the first champion alone on the same hours.
        Step(4, "Before and after, on the 2012 hours of every evaluated week");
        var (from, to) = (weeks[0].Start < ReplayStart ? ReplayStart : weeks[0].Start, weeks[^1].End);
        await AddAsync(datasets, folder, "bike-2012", _hours.Where(h => h.At >= from && h.At < to && h.Id is not null), cancellationToken);
        var alone = (await services.GetRequiredService<EvaluationService>().EvaluateAsync($"{Model}@{champion}", new DatasetRef("bike-2012", null),
            EvaluationOptions.MetricsOnly, cancellationToken)).Report;
        var labeled = weeks.Sum(w => w.Performance!.LabeledRows);
        var served = (Rmse: Math.Sqrt(weeks.Sum(w => Math.Pow(w.Performance!.Metrics["rmse"], 2) * w.Performance.LabeledRows) / labeled),
            Mae: weeks.Sum(w => w.Performance!.Metrics["mae"] * w.Performance.LabeledRows) / labeled);
        var final = await registry.ResolveAsync(new Core.Models.ModelRef(Model, "champion", null), cancellationToken);
        var comparison = new Table().AddColumns("2012 answers", "hours", "RMSE", "MAE");
        comparison.AddRow($"without the loop: {Model}@{champion} (trained on 2011) all year", alone.Rows.ToString("N0", CultureInfo.InvariantCulture),
            alone.Metrics["rmse"].ToString("0.0", CultureInfo.InvariantCulture), alone.Metrics["mae"].ToString("0.0", CultureInfo.InvariantCulture));
        comparison.AddRow($"with the loop: what '{Deployment}' answered (champion now {Model}@{final.Version})", labeled.ToString("N0", CultureInfo.InvariantCulture),
            served.Rmse.ToString("0.0", CultureInfo.InvariantCulture), served.Mae.ToString("0.0", CultureInfo.InvariantCulture));
        _console.Write(comparison);
        var runs = await policies.ListAsync(Deployment, 100, cancellationToken);
        _console.MarkupLineInterpolated($"Policy runs: {runs.Count} ({string.Join(", ", runs.GroupBy(r => r.State).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"))}).");
        _console.MarkupLineInterpolated($"[green]Done[/] in {Format.Duration(total.Elapsed)}. Explore what happened:");
        _console.WriteLine($"  ./cairn --home {folder} policies runs");
        _console.WriteLine($"  ./cairn --home {folder} monitors show {Deployment}");
        _console.WriteLine($"  ./cairn --home {folder} monitors report {Deployment} -o drift-report.html");
        _console.WriteLine($"  ./cairn --home {folder} events");
        return runs.Any(r => r.State == PolicyRunState.Promoted) ? 0 : 1;

        string Serving(WindowResult result) => string.Join(", ", result.Traffic.Where(t => t.Role != "shadow")
            .Select(t => $"v{t.Version}{(t.Role == "canary" ? " (canary)" : "")} {t.Requests}"));
    }

    private void Step(int number, string title) => _console.MarkupLineInterpolated($"[blue][[{number}/4]][/] {title}");

    private void ReadHours(string path)
    {
        using var reader = CsvReader.Open(File.OpenRead(path));
        _header = [.. reader.Header];
        var (date, hour) = (_header.IndexOf("dteday"), _header.IndexOf("hr"));
        while (reader.TryRead(out var record))
        {
            var at = DateTimeOffset.ParseExact(record[date], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
                .AddHours(int.Parse(record[hour], CultureInfo.InvariantCulture));
            _hours.Add((at, record, null));
        }
    }

    // The policy's pipeline and training settings, written beside the demo's home.
    private static string WriteSettings(string folder)
    {
        File.WriteAllText(Path.Combine(folder, "train.yaml"), $"""
            # Hourly rentals from the calendar and the weather, trained on whatever {Recent} holds now.
            dataset: {Recent}
            label: {Label}
            task: regression
            trainer: lightgbm
            hyperparameters: {"{"}num_leaves: 31, learning_rate: 0.05, num_iterations: 300{"}"}
            ignore: [instant, dteday, casual, registered]
            split: {"{"}method: time, column: dteday, test_fraction: 0.2{"}"}
            seed: 42
            """);
        var pipeline = Path.Combine(folder, "retrain.yaml");
        File.WriteAllText(pipeline, $"""
            name: bike-retrain
            steps:
            - name: train
              kind: train
              with: {"{"}config: train.yaml{"}"}
              inputs: [dataset:{Recent}, file:train.yaml]
              outputs: [run:train]
            - name: register
              kind: register
              with: {"{"}run: train, model: {Model}{"}"}
              inputs: [run:train]
              outputs: [model:{Model}]
            """);
        return pipeline;
    }

    private static string Settings(double threshold, string pipeline) => $"""
        log: {"{"}retention: 60d{"}"}
        cooldown: 28d
        alerts:
          - {"{"}name: error, metric: performance.rmse, above: {threshold.ToString(CultureInfo.InvariantCulture)}{"}"}
        policy:
          on_alert: error
          pipeline: {pipeline}
          model: {Model}
          holdout: {Holdout}
          metric: rmse
          min_improvement: 0.05
          slices: [weathersit, workingday]
          max_slice_regression: 0.10
          canary_percent: 50
          canary_requests: 60
          max_error_rate: 0.01
          max_latency_ms: 1000
        """;

    // The last weeks of labeled hours (2011 is all labeled; 2012 once served and its feedback sent), less the newest days, which are the holdout.
    private async Task RefreshDatasetsAsync(DatasetService datasets, string folder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var labeled = _hours.Where(h => h.At < now && (h.At < ReplayStart || h.Id is not null)).ToList();
        var split = now.AddDays(-HoldoutDays);
        await AddAsync(datasets, folder, Recent, labeled.Where(h => h.At >= split.AddDays(-7 * RecentWeeks) && h.At < split), cancellationToken);
        await AddAsync(datasets, folder, Holdout, labeled.Where(h => h.At >= split), cancellationToken);
        _datasetsAt = now;
    }

    private async Task AddAsync(DatasetService datasets, string folder, string name,
        IEnumerable<(DateTimeOffset At, string[] Fields, string? Id)> rows, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, $"{name}.csv");
        var text = new StringBuilder().AppendJoin(',', _header).Append('\n');
        foreach (var row in rows)
        {
            text.AppendJoin(',', row.Fields).Append('\n');
        }

        await File.WriteAllTextAsync(path, text.ToString(), cancellationToken);
        await datasets.AddAsync(path, name, cancellationToken);
    }

    private async Task<(DateTimeOffset At, string[] Fields, string? Id)> PredictAsync(Client.CairnClient client,
        (DateTimeOffset At, string[] Fields, string? Id) hour, CancellationToken cancellationToken)
    {
        var row = Features.ToDictionary(f => f, f => (object?)double.Parse(hour.Fields[_header.IndexOf(f)], CultureInfo.InvariantCulture));
        var answer = await client.PredictAsync(Deployment, [row], cancellationToken);
        return hour with { Id = answer.PredictionId };
    }

    private async Task SendLabelsAsync(Client.CairnClient client, DateTimeOffset day, CancellationToken cancellationToken)
    {
        var labels = _hours.Where(h => h.Id is not null && h.At >= day && h.At < day.AddDays(1))
            .Select(h => new Client.PredictionLabel(h.Id!, double.Parse(h.Fields[^1], CultureInfo.InvariantCulture)))
            .ToList();
        await client.SendFeedbackAsync(Deployment, labels, cancellationToken);
    }

    private sealed class LineProgress(IAnsiConsole console) : IProgress<string>
    {
        public void Report(string value) => console.MarkupLineInterpolated($"      [yellow]policy[/] {value}");
    }
}

/// <summary>A clock the demo moves by hand, so a year of traffic replays in seconds.</summary>
internal sealed class ReplayClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Set(DateTimeOffset at) => Interlocked.Exchange(ref _ticks, at.UtcTicks);
}
