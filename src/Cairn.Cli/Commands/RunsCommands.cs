using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn runs list | search | show | report | reproduce</c>.</summary>
internal static class RunsCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("runs", "Inspect training runs");

        var limit = new Option<int>("--limit") { Description = "How many of the newest runs to list", DefaultValueFactory = _ => 20 };
        var list = new Command("list", "List the newest runs") { limit };
        list.SetAction(app.Handler(
            (context, ct) => ListAsync(context, context.Parse.GetValue(limit), ct),
            async (context, ct) => Write(context, await context.Remote.GetAsync($"api/runs?limit={context.Parse.GetValue(limit)}", CairnJson.Default.IReadOnlyListRun, ct))));
        command.Subcommands.Add(list);

        var experiments = new Option<string[]>("--experiment") { Description = "Experiment ids to search (default: 0)", AllowMultipleArgumentsPerToken = true };
        var filter = new Option<string?>("--filter") { Description = "For example: metrics.auc > 0.9 and params.trainer = 'lightgbm'" };
        var orderBy = new Option<string[]>("--order-by") { Description = "Keys such as 'metrics.auc DESC'", AllowMultipleArgumentsPerToken = true };
        var searchLimit = new Option<int>("--limit") { Description = "How many runs to show", DefaultValueFactory = _ => 50 };
        var search = new Command("search", "Find runs by metrics, params, tags and attributes") { experiments, filter, orderBy, searchLimit };
        search.SetAction(app.Handler(
            async (context, ct) =>
            {
                var ids = context.Parse.GetValue(experiments) is { Length: > 0 } chosen ? chosen : ["0"];
                var (runs, _) = await context.Get<RunService>().SearchAsync(ids, context.Parse.GetValue(filter), Core.Runs.LifecycleStage.Active,
                    context.Parse.GetValue(orderBy) ?? [], context.Parse.GetValue(searchLimit), null, ct);
                return Write(context, runs);
            },
            async (context, ct) =>
            {
                var ids = context.Parse.GetValue(experiments) is { Length: > 0 } chosen ? chosen : ["0"];
                var body = new Server.Api.SearchRunsBody([.. ids], context.Parse.GetValue(filter), [.. context.Parse.GetValue(orderBy) ?? []], context.Parse.GetValue(searchLimit), null, null);
                var page = await context.Remote.SendAsync(HttpMethod.Post, "api/runs/search",
                    System.Net.Http.Json.JsonContent.Create(body, Server.Api.ApiJson.Default.SearchRunsBody), Server.Api.ApiJson.Default.RunPage, ct);
                return Write(context, page.Runs);
            }));
        command.Subcommands.Add(search);

        var id = new Argument<string>("run") { Description = "The run id, or enough of its start to name one run" };
        var show = new Command("show", "Show a run's params, metrics, inputs and artifacts") { id };
        show.SetAction(app.Handler(
            async (context, ct) =>
            {
                var runs = context.Get<RunService>();
                return Show(context, await runs.GetAsync(await runs.ResolveIdAsync(context.Parse.GetValue(id), ct), ct));
            },
            async (context, ct) => Show(context, await GetRemoteAsync(context, context.Parse.GetValue(id)!, ct))));
        command.Subcommands.Add(show);

        var reportRun = new Argument<string>("run") { Description = "A training or evaluation run" };
        var output = new Option<string?>("--output", "-o") { Description = "The HTML file to write (default: RUN-report.html)" };
        var report = new Command("report", "Write a run's evaluation report: metrics, ROC/PR and calibration plots, importance, slices") { reportRun, output };
        report.SetAction(app.Handler(
            async (context, ct) =>
            {
                var runId = await context.Get<RunService>().ResolveIdAsync(context.Parse.GetValue(reportRun), ct);
                var (_, content) = await context.Get<RunArtifacts>().OpenAsync(runId, EvaluationService.ReportPath, ct);
                return await WriteReportAsync(context, runId, content, context.Parse.GetValue(output), ct);
            },
            async (context, ct) =>
            {
                var runId = (await GetRemoteAsync(context, context.Parse.GetValue(reportRun)!, ct)).Id;
                using var response = await context.Remote.SendRawAsync(HttpMethod.Get, $"api/runs/{runId}/artifacts/{EvaluationService.ReportPath}", () => null, ct);
                return await WriteReportAsync(context, runId, await response.Content.ReadAsStreamAsync(ct), context.Parse.GetValue(output), ct);
            }));
        command.Subcommands.Add(report);

        var reproduced = new Argument<string>("run") { Description = "A training run" };
        var reproduce = new Command("reproduce",
            $"Train again from a run's recorded dataset version, spec and seed; compare metrics and the model. Exits {CliApp.CheckFailed} if they differ") { reproduced };
        var remote = JobsCommands.RemoteOption();
        reproduce.Options.Add(remote);
        reproduce.SetAction(app.Handler(
            (context, ct) =>
            {
                JobsCommands.RefuseRemoteLocally(context, remote);
                return ReproduceAsync(context, context.Parse.GetValue(reproduced)!, ct);
            },
            async (context, ct) =>
            {
                JobsCommands.RequireRemote(context, remote, "cairn runs reproduce");
                var run = await GetRemoteAsync(context, context.Parse.GetValue(reproduced)!, ct);
                return await JobsCommands.SubmitAsync(context, Core.Jobs.JobKind.Reproduce, new Dictionary<string, string> { ["run"] = run.Id }, ct);
            }));
        command.Subcommands.Add(reproduce);
        return command;
    }

    // The server resolves a unique start of a run id as the local store does.
    private static Task<Core.Runs.Run> GetRemoteAsync(CommandContext context, string id, CancellationToken cancellationToken) =>
        context.Remote.GetAsync($"api/runs/{Uri.EscapeDataString(id)}", CairnJson.Default.Run, cancellationToken);

    private static async Task<int> WriteReportAsync(CommandContext context, string runId, Stream content, string? output, CancellationToken cancellationToken)
    {
        var target = context.ResolvePath(output ?? $"{runId}-report.html");
        await using (content)
        {
            await FileOutput.WriteAtomicallyAsync(target, content, cancellationToken);
        }

        context.Console.Out.MarkupLineInterpolated($"Wrote {target}");
        return 0;
    }

    private static async Task<int> ReproduceAsync(CommandContext context, string runId, CancellationToken cancellationToken)
    {
        var progress = context.Json ? null : new TrainCommand.Progress(context.Console.Out);
        var outcome = await context.Get<TrainingService>().ReproduceAsync(await context.Get<RunService>().ResolveIdAsync(runId, cancellationToken), progress, cancellationToken);
        var exit = outcome.Matches ? 0 : CliApp.CheckFailed;
        if (context.Json)
        {
            context.Console.WriteJson(outcome.Reproduced, CairnJson.Readable.Run);
            return exit;
        }

        var console = context.Console.Out;
        var table = new Table().AddColumns("metric", outcome.Original.Id[..8], outcome.Reproduced.Id[..8], "");
        foreach (var metric in outcome.Metrics)
        {
            table.AddRow(Markup.Escape(metric.Key), Format.Number(metric.Original), metric.Reproduced is { } r ? Format.Number(r) : "missing",
                metric.Matches ? "[green]same[/]" : "[red]differs[/]");
        }

        console.Write(table);
        console.MarkupLine(outcome.ModelMatches ? "ONNX model: [green]identical bytes[/]" : "ONNX model: [red]different bytes[/]");
        if (outcome.Matches)
        {
            console.MarkupLineInterpolated($"[green]Reproduced[/]: run {outcome.Reproduced.Id} matches run {outcome.Original.Id}");
        }
        else
        {
            console.MarkupLineInterpolated($"[red]Not reproduced[/]: run {outcome.Reproduced.Id} differs from run {outcome.Original.Id}");
        }
        return exit;
    }

    private static async Task<int> ListAsync(CommandContext context, int limit, CancellationToken cancellationToken) =>
        Write(context, await context.Get<RunService>().ListAsync(limit, cancellationToken));

    private static int Write(CommandContext context, IReadOnlyList<Core.Runs.Run> runs)
    {
        if (context.Json)
        {
            context.Console.WriteJson(runs, CairnJson.Readable.IReadOnlyListRun);
            return 0;
        }

        if (runs.Count == 0)
        {
            context.Console.Out.MarkupLine("No runs found. Train one with: cairn train --config FILE.yaml");
            return 0;
        }

        var table = Format.Table(["run"], "run", "name", "status", "started", "duration", "dataset", "metrics");
        foreach (var run in runs)
        {
            var metrics = string.Join("  ", run.Metrics.Where(m => m.Key is "auc" or "accuracy" or "r2" or "rmse").Select(m => $"{m.Key}={Format.Number(m.Value)}"));
            table.AddRow(
                run.Id,
                Markup.Escape(run.Name),
                Format.Status(run.Status),
                Format.Time(run.StartedAt),
                run.EndedAt is { } end ? Format.Duration(end - run.StartedAt) : "",
                Markup.Escape(string.Join(", ", run.Inputs.Select(i => i.Reference))),
                Markup.Escape(metrics));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static int Show(CommandContext context, Core.Runs.Run run)
    {
        if (context.Json)
        {
            context.Console.WriteJson(run, CairnJson.Readable.Run);
            return 0;
        }

        var console = context.Console.Out;
        console.MarkupLineInterpolated($"[bold]Run {run.Id}[/]  {run.Name}");
        console.MarkupLine($"  status    {Format.Status(run.Status)}");
        if (run.ParentRunId is { } parent)
        {
            console.MarkupLineInterpolated($"  parent    {parent}");
        }

        console.MarkupLineInterpolated($"  started   {Format.Time(run.StartedAt)}");
        if (run.EndedAt is { } ended)
        {
            console.MarkupLineInterpolated($"  ended     {Format.Time(ended)} ({Format.Duration(ended - run.StartedAt)})");
        }

        if (run.Error is { } error)
        {
            console.MarkupLineInterpolated($"  [red]error     {error}[/]");
        }

        var details = new Table().AddColumns("kind", "key", "value");
        foreach (var input in run.Inputs)
        {
            details.AddRow("input", Markup.Escape(input.Context), Markup.Escape(input.Reference));
        }

        foreach (var (key, value) in run.Params)
        {
            details.AddRow("param", Markup.Escape(key), Markup.Escape(value));
        }

        foreach (var metric in run.Metrics)
        {
            details.AddRow("metric", Markup.Escape(metric.Key), Format.Number(metric.Value));
        }

        foreach (var (key, value) in run.Tags)
        {
            details.AddRow("tag", Markup.Escape(key), Markup.Escape(value));
        }

        foreach (var artifact in run.Artifacts)
        {
            details.AddRow("artifact", Markup.Escape(artifact.Path), $"sha256:{artifact.ContentHash.Short} ({Format.Count(artifact.SizeBytes)} bytes)");
        }

        console.Write(details);
        return 0;
    }
}
