using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Monitoring;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn monitors …</c>, <c>cairn feedback</c> and <c>cairn alerts</c>.</summary>
internal static class MonitorsCommands
{
    /// <summary><c>cairn monitors create | update | list | show | evaluate | report | delete</c>.</summary>
    public static Command Create(CliApp app)
    {
        var command = new Command("monitors", "Watch deployments: drift, data quality and performance per window of live traffic, with alerts");
        command.Subcommands.Add(Save(app, create: true));
        command.Subcommands.Add(Save(app, create: false));

        var list = new Command("list", "List monitors");
        list.SetAction(app.Handler(
            async (context, ct) => WriteList(context, await context.Get<MonitorService>().ListAsync(ct)),
            async (context, ct) => WriteList(context, await context.Remote.GetAsync("api/monitors", CairnJson.Default.IReadOnlyListDeploymentMonitor, ct))));
        command.Subcommands.Add(list);

        var shown = DeploymentArgument();
        var show = new Command("show", "Show a monitor's settings and its latest window results") { shown };
        show.SetAction(app.Handler(
            async (context, ct) =>
            {
                var service = context.Get<MonitorService>();
                var monitor = await service.GetAsync(context.Parse.GetValue(shown)!, ct);
                var windows = await service.ResultsAsync(monitor.Deployment, null, null, ct);
                return WriteShown(context, monitor, windows, context.Json ? null : await service.BaselineAsync(monitor, ct));
            },
            async (context, ct) =>
            {
                var path = ApiPath(context.Parse.GetValue(shown)!);
                var monitor = await context.Remote.GetAsync(path, CairnJson.Default.DeploymentMonitor, ct);
                var windows = await context.Remote.GetAsync(path + "/windows", CairnJson.Default.IReadOnlyListWindowResult, ct);
                return WriteShown(context, monitor, windows, context.Json ? null : await context.Remote.GetAsync(path + "/baseline", CairnJson.Default.MonitorBaseline, ct));
            }));
        command.Subcommands.Add(show);

        var evaluated = DeploymentArgument();
        var open = new Option<bool>("--include-open") { Description = "Also evaluate the window still open (its results change as traffic comes)" };
        var evaluate = new Command("evaluate", "Evaluate the windows that need it now (the server also does this every few seconds)") { evaluated, open };
        evaluate.SetAction(app.Handler(
            async (context, ct) => WriteEvaluated(context, await context.Get<MonitorService>().EvaluateAsync(context.Parse.GetValue(evaluated)!, context.Parse.GetValue(open), ct)),
            async (context, ct) => WriteEvaluated(context, await context.Remote.SendAsync(HttpMethod.Post,
                $"{ApiPath(context.Parse.GetValue(evaluated)!)}/evaluate?include_open={(context.Parse.GetValue(open) ? "true" : "false")}", null,
                CairnJson.Default.IReadOnlyListWindowResult, ct))));
        command.Subcommands.Add(evaluate);

        var reported = DeploymentArgument();
        var output = new Option<string>("--output", "-o") { Description = "Where to write the report: FILE.html, or FILE.json with --json", Required = true };
        var report = new Command("report", "Write a self-contained HTML report (or JSON with --json): drift over time, distributions, performance, alerts") { reported, output };
        report.SetAction(app.Handler(
            async (context, ct) => await WriteReportAsync(context, await context.Get<MonitorService>().ReportAsync(context.Parse.GetValue(reported)!, ct), ct),
            async (context, ct) => await WriteReportAsync(context, await context.Remote.GetAsync(ApiPath(context.Parse.GetValue(reported)!) + "/report",
                CairnJson.Default.MonitorReport, ct), ct)));
        command.Subcommands.Add(report);

        async Task<int> WriteReportAsync(CommandContext context, MonitorReport result, CancellationToken ct)
        {
            var path = context.ResolvePath(context.Parse.GetValue(output)!);
            var bytes = context.Json ? JsonSerializer.SerializeToUtf8Bytes(result, CairnJson.Readable.MonitorReport) : Encoding.UTF8.GetBytes(result.ToHtml());
            await FileOutput.WriteAtomicallyAsync(path, new MemoryStream(bytes), ct);
            context.Console.Out.MarkupLineInterpolated($"Wrote {path}: {result.Windows.Count} window(s), {result.Alerts.Count} alert(s).");
            return 0;
        }

        var deleted = DeploymentArgument();
        var delete = new Command("delete", "Delete a monitor with its results and alerts") { deleted };
        delete.SetAction(app.Handler(
            (context, ct) => Deleted(context, context.Get<MonitorService>().DeleteAsync(context.Parse.GetValue(deleted)!, ct)),
            (context, ct) => Deleted(context, context.Remote.SendAsync(HttpMethod.Delete, ApiPath(context.Parse.GetValue(deleted)!), null, ct))));
        command.Subcommands.Add(delete);
        return command;

        async Task<int> Deleted(CommandContext context, Task deleting)
        {
            await deleting;
            context.Console.Out.MarkupLineInterpolated($"Deleted the monitor of {context.Parse.GetValue(deleted)}.");
            return 0;
        }
    }

    /// <summary><c>cairn feedback DEPLOYMENT --file labels.csv</c>.</summary>
    public static Command CreateFeedback(CliApp app)
    {
        var deployment = DeploymentArgument();
        var file = new Option<string>("--file") { Description = "A CSV file with the columns prediction_id and label", Required = true };
        var command = new Command("feedback", "Send true labels for logged predictions (all are recorded, or none)") { deployment, file };
        command.SetAction(app.Handler(
            async (context, ct) => Recorded(context, await context.Get<MonitorService>().FeedbackAsync(context.Parse.GetValue(deployment)!,
                ReadLabels(context.ResolvePath(context.Parse.GetValue(file)!)), ct)),
            async (context, ct) =>
            {
                var labels = ReadLabels(context.ResolvePath(context.Parse.GetValue(file)!)).Select(l => new Client.PredictionLabel(l.Id, l.Label)).ToList();
                return Recorded(context, await context.Remote.CallAsync(client => client.SendFeedbackAsync(context.Parse.GetValue(deployment)!, labels, ct)));
            }));
        return command;

        int Recorded(CommandContext context, int recorded)
        {
            context.Console.Out.MarkupLineInterpolated($"Recorded {recorded} label(s) for {context.Parse.GetValue(deployment)}.");
            return 0;
        }
    }

    /// <summary><c>cairn alerts [DEPLOYMENT]</c>.</summary>
    public static Command CreateAlerts(CliApp app)
    {
        var deployment = new Argument<string?>("deployment") { Description = "Only this deployment's alerts", Arity = ArgumentArity.ZeroOrOne };
        var limit = new Option<int>("--limit") { Description = "How many, newest first", DefaultValueFactory = _ => 50 };
        var command = new Command("alerts", "List alerts, newest first, with their notification state") { deployment, limit };
        command.SetAction(app.Handler(
            async (context, ct) => WriteAlerts(context, await context.Get<MonitorService>().AlertsAsync(context.Parse.GetValue(deployment), context.Parse.GetValue(limit), ct)),
            async (context, ct) => WriteAlerts(context, await context.Remote.GetAsync(
                $"api/alerts?limit={context.Parse.GetValue(limit)}" + (context.Parse.GetValue(deployment) is { } d ? $"&deployment={Uri.EscapeDataString(d)}" : ""),
                CairnJson.Default.IReadOnlyListAlert, ct))));
        return command;
    }

    private static Command Save(CliApp app, bool create)
    {
        var deployment = DeploymentArgument();
        var reference = new Option<string?>("--reference") { Description = "The dataset version live traffic is compared against, with labels: NAME@N" };
        var window = new Option<string?>("--window") { Description = "Window length, such as 15m, 1h or 1d (default 1h)" };
        var segment = new Option<string?>("--segment") { Description = "An input column whose values get results of their own" };
        var config = new Option<string?>("--config") { Description = "A YAML file with further settings: per-column drift tests, alerts, webhooks, log sampling, the retraining policy" };
        var command = new Command(create ? "create" : "update",
            create ? "Monitor a deployment against a reference dataset version" : "Change a monitor (the reference is scored again by the model served now)")
            { deployment, reference, window, segment, config };
        // The settings: flags and the YAML file, read here; on update the reference stays unless it is given again.
        async Task<MonitorSpec> SpecAsync(CommandContext context, Func<Task<DeploymentMonitor>> current, CancellationToken ct)
        {
            var path = context.Parse.GetValue(config) is { } given ? context.ResolvePath(given) : null;
            var yaml = path is null ? null
                : File.Exists(path) ? await File.ReadAllTextAsync(path, ct)
                : throw CairnException.NotFound($"Monitor settings file '{path}' does not exist.");
            var referenceFlag = context.Parse.GetValue(reference);
            if (!create && referenceFlag is null && (yaml is null || !yaml.Contains("reference:", StringComparison.Ordinal)))
            {
                referenceFlag = (await current()).Spec.Reference;
            }

            var spec = MonitorSpec.Parse(yaml, referenceFlag, context.Parse.GetValue(window), context.Parse.GetValue(segment));
            if (spec.Policy is { } policy)
            {
                // The policy's pipeline is named relative to the settings file; servers read it by its full path.
                spec = spec with { Policy = policy with { Pipeline = Path.GetFullPath(policy.Pipeline, Path.GetDirectoryName(path)!) } };
            }

            return spec;
        }

        command.SetAction(app.Handler(
            async (context, ct) =>
            {
                var service = context.Get<MonitorService>();
                var name = context.Parse.GetValue(deployment)!;
                var spec = await SpecAsync(context, () => service.GetAsync(name, ct), ct);
                var monitor = create ? await service.CreateAsync(name, spec, ct) : await service.UpdateAsync(name, spec, ct);
                return WriteSaved(context, monitor, context.Json ? null : await service.BaselineAsync(monitor, ct), create);
            },
            async (context, ct) =>
            {
                var path = ApiPath(context.Parse.GetValue(deployment)!);
                var spec = await SpecAsync(context, () => context.Remote.GetAsync(path, CairnJson.Default.DeploymentMonitor, ct), ct);
                var monitor = await context.Remote.SendAsync(create ? HttpMethod.Post : HttpMethod.Put, path,
                    System.Net.Http.Json.JsonContent.Create(spec, CairnJson.Default.MonitorSpec), CairnJson.Default.DeploymentMonitor, ct);
                return WriteSaved(context, monitor, context.Json ? null : await context.Remote.GetAsync(path + "/baseline", CairnJson.Default.MonitorBaseline, ct), create);
            }));
        return command;
    }

    private static string ApiPath(string deployment) => $"api/monitors/{Uri.EscapeDataString(deployment)}";

    private static int WriteList(CommandContext context, IReadOnlyList<DeploymentMonitor> monitors)
    {
        if (context.Json)
        {
            context.Console.WriteJson(monitors, CairnJson.Readable.IReadOnlyListDeploymentMonitor);
            return 0;
        }

        if (monitors.Count == 0)
        {
            context.Console.Out.MarkupLine("No monitors yet. Create one with: cairn monitors create DEPLOYMENT --reference DATASET@N");
            return 0;
        }

        var table = new Table().AddColumns("deployment", "reference", "window", "segment", "alerts", "policy", "updated");
        foreach (var m in monitors)
        {
            table.AddRow(Markup.Escape(m.Deployment), Markup.Escape(m.Spec.Reference), Durations.Format(m.Spec.Window), Markup.Escape(m.Spec.Segment ?? "-"),
                m.Spec.Alerts.Count.ToString(CultureInfo.InvariantCulture), m.Spec.Policy is null ? "-" : "retrain", Format.Time(m.UpdatedAt));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static int WriteShown(CommandContext context, DeploymentMonitor monitor, IReadOnlyList<WindowResult> windows, MonitorBaseline? baseline)
    {
        if (context.Json)
        {
            context.Console.WriteJson(windows, CairnJson.Readable.IReadOnlyListWindowResult);
            return 0;
        }

        var console = context.Console.Out;
        console.MarkupLineInterpolated($"[bold]{monitor.Deployment}[/] against {monitor.Spec.Reference} (scored by {baseline!.Model}@{baseline.Version}), windows of {Durations.Format(monitor.Spec.Window)}, revision {monitor.Revision}");
        console.MarkupLineInterpolated($"Reference performance: {string.Join(", ", baseline.Metrics.Where(m => Headline(m.Key)).Select(m => $"{m.Key} {Format.Number(m.Value)}"))}");
        WriteWindows(console, windows.TakeLast(12).ToList());
        return 0;
    }

    private static int WriteEvaluated(CommandContext context, IReadOnlyList<WindowResult> results)
    {
        if (context.Json)
        {
            context.Console.WriteJson(results, CairnJson.Readable.IReadOnlyListWindowResult);
            return 0;
        }

        if (results.Count == 0)
        {
            context.Console.Out.MarkupLine("No window needed evaluating (windows are evaluated once closed; --include-open evaluates the current one).");
            return 0;
        }

        WriteWindows(context.Console.Out, results);
        return 0;
    }

    private static int WriteAlerts(CommandContext context, IReadOnlyList<Alert> alerts)
    {
        if (context.Json)
        {
            context.Console.WriteJson(alerts, CairnJson.Readable.IReadOnlyListAlert);
            return 0;
        }

        if (alerts.Count == 0)
        {
            context.Console.Out.MarkupLine("No alerts.");
            return 0;
        }

        var table = Format.Table(["id"], "id", "fired", "deployment", "rule", "message", "status");
        foreach (var a in alerts)
        {
            table.AddRow(a.Id.ToString(CultureInfo.InvariantCulture), Format.Time(a.FiredAt), Markup.Escape(a.Deployment), Markup.Escape(a.Rule), Markup.Escape(a.Message),
                Markup.Escape($"{a.Status.ToString().ToLowerInvariant()}{(a.Attempts > 0 ? $" after {a.Attempts} attempt(s)" : "")}{(a.LastError is { } e ? $": {e}" : "")}"));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static int WriteSaved(CommandContext context, DeploymentMonitor monitor, MonitorBaseline? baseline, bool create)
    {
        if (context.Json)
        {
            context.Console.WriteJson(monitor, CairnJson.Readable.DeploymentMonitor);
            return 0;
        }

        var spec = monitor.Spec;
        context.Console.Out.MarkupLineInterpolated(
            $"{(create ? "Monitoring" : "Updated the monitor of")} [bold]{monitor.Deployment}[/] against {spec.Reference} in windows of {Durations.Format(spec.Window)}: {baseline!.Profile.Rows:N0} reference rows scored by {baseline.Model}@{baseline.Version} ({string.Join(", ", baseline.Metrics.Where(m => Headline(m.Key)).Select(m => $"{m.Key} {Format.Number(m.Value)}"))}); {spec.Alerts.Count} alert rule(s).");
        return 0;
    }

    private static bool Headline(string metric) => metric is "accuracy" or "auc" or "f1" or "rmse" or "mae" or "r2" or "macro_f1";

    private static void WriteWindows(IAnsiConsole console, IReadOnlyList<WindowResult> windows)
    {
        var table = new Table().AddColumns("window", "rows", "drifted features", "prediction drift", "quality issues", "measured", "estimated", "errors", "p99 ms");
        foreach (var w in windows)
        {
            var measured = w.Performance is { } p ? string.Join(" ", p.Metrics.Where(m => Headline(m.Key)).Take(2).Select(m => $"{m.Key} {Format.Number(m.Value)}")) + $" ({p.LabeledRows:N0} labeled)" : "-";
            var estimated = string.Join(" ", w.Estimated.Where(m => Headline(m.Key)).Take(2).Select(m => $"{m.Key} {Format.Number(m.Value)}"));
            table.AddRow(Format.Time(w.Start), Format.Count(w.Rows),
                w.Drift is { } d ? $"{d.Columns.Count(c => c.Drifted)}/{d.Columns.Count}{(d.Drifted ? " [red]drift[/]" : "")}" : "-",
                w.PredictionDrift is { } pd ? (pd.Drifted ? "[red]yes[/]" : "no") : "-",
                w.Quality.Count.ToString(CultureInfo.InvariantCulture), Markup.Escape(measured), Markup.Escape(estimated.Length == 0 ? "-" : estimated),
                Format.Number(w.Metrics.GetValueOrDefault("error_rate")), w.Metrics.TryGetValue("latency_p99_ms", out var p99) ? Format.Number(p99) : "-");
        }

        console.Write(table);
    }

    private static List<Feedback> ReadLabels(string path)
    {
        if (!File.Exists(path))
        {
            throw CairnException.NotFound($"Labels file '{path}' does not exist.");
        }

        using var reader = CsvReader.Open(File.OpenRead(path));
        var header = reader.Header.ToList();
        var (id, label) = (header.IndexOf("prediction_id"), header.IndexOf("label"));
        if (id < 0 || label < 0)
        {
            throw CairnException.Invalid($"'{path}' needs the columns prediction_id and label; it has {string.Join(", ", header)}.");
        }

        var labels = new List<Feedback>();
        while (reader.TryRead())
        {
            var text = reader.GetString(label);
            labels.Add(new Feedback(reader.GetString(id), text, double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)));
        }

        return labels;
    }

    private static Argument<string> DeploymentArgument() => new("deployment") { Description = "The deployment's name" };
}
