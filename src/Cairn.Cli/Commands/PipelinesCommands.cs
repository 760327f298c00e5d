using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Pipelines;
using Cairn.Core.Runs;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn pipelines run FILE [--param k=v] [--force] [--from STEP] | list | show RUN</c>.</summary>
internal static class PipelinesCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("pipelines", "Run declarative pipelines: steps ordered by what they read and write, cached by their inputs");
        var file = new Argument<string>("file") { Description = "A YAML pipeline (name, params, steps)" };
        var parameters = new Option<string[]>("--param") { Description = "A parameter NAME=VALUE (repeatable)", AllowMultipleArgumentsPerToken = false };
        var force = new Option<bool>("--force") { Description = "Run every step even when a cached result exists" };
        var from = new Option<string?>("--from") { Description = "Run this step and every step after it even when cached (the rest may come from the cache)" };
        var parallel = new Option<int?>("--parallel") { Description = "At most this many independent steps at once (default: the number of cores)" };
        var run = new Command("run", $"Run a pipeline; steps whose inputs and settings are unchanged are served from the cache. Exits {CliApp.CheckFailed} if a step fails")
        {
            file, parameters, force, from, parallel,
        };
        run.SetAction(app.Handler((context, ct) => RunAsync(context, context.Parse.GetValue(file)!, context.Parse.GetValue(parameters) ?? [], context.Parse.GetValue(force),
            context.Parse.GetValue(from), context.Parse.GetValue(parallel), ct)));
        command.Subcommands.Add(run);

        var list = new Command("list", "Recent pipeline runs, newest first");
        list.SetAction(app.Handler(ListAsync));
        command.Subcommands.Add(list);

        var runId = new Argument<string>("run") { Description = "A pipeline run id (from pipelines list)" };
        var show = new Command("show", "A pipeline run and its steps: status, cached or not, errors") { runId };
        show.SetAction(app.Handler((context, ct) => ShowAsync(context, context.Parse.GetValue(runId)!, ct)));
        command.Subcommands.Add(show);
        return command;
    }

    private static async Task<int> ListAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var (runs, _) = await context.Get<RunService>().SearchAsync([Experiment.DefaultId], "tags.`cairn.kind` = 'pipeline'", LifecycleStage.Active,
            ["attributes.start_time DESC"], 100, null, cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(runs, CairnJson.Readable.IReadOnlyListRun);
            return 0;
        }

        var table = new Table().AddColumns("run", "pipeline", "status", "started", "duration");
        foreach (var run in runs)
        {
            table.AddRow(run.Id, Markup.Escape(run.Tags.GetValueOrDefault("cairn.pipeline") ?? ""), Format.Status(run.Status), Format.Time(run.StartedAt),
                run.EndedAt is { } ended ? Format.Duration(ended - run.StartedAt) : "");
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static async Task<int> ShowAsync(CommandContext context, string id, CancellationToken cancellationToken)
    {
        var runs = context.Get<RunService>();
        var pipeline = await runs.GetAsync(id, cancellationToken);
        if (pipeline.Tags.GetValueOrDefault("cairn.kind") != "pipeline")
        {
            throw CairnException.NotFound($"Run {id} is not a pipeline run; list them with: cairn pipelines list");
        }

        var (steps, _) = await runs.SearchAsync([Experiment.DefaultId], $"attributes.parent_run_id = '{pipeline.Id}'", LifecycleStage.Active,
            ["attributes.start_time ASC"], 1000, null, cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson([pipeline, .. steps], CairnJson.Readable.IReadOnlyListRun);
            return 0;
        }

        context.Console.Out.MarkupLineInterpolated($"[bold]{pipeline.Tags.GetValueOrDefault("cairn.pipeline")}[/] run {pipeline.Id}: {pipeline.Status.ToString().ToUpperInvariant()}");
        var table = new Table().AddColumns("step", "kind", "status", "run", "note");
        foreach (var step in steps)
        {
            var note = step.Tags.GetValueOrDefault("cairn.step.error") ?? (step.Tags.TryGetValue("cairn.step.cached_from", out var from) ? $"cached from {from}" : "");
            table.AddRow(Markup.Escape(step.Tags.GetValueOrDefault("cairn.step") ?? step.Name), Markup.Escape(step.Tags.GetValueOrDefault("cairn.step.kind") ?? ""),
                Format.Status(step.Status), step.Id, Markup.Escape(note));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static async Task<int> RunAsync(CommandContext context, string file, string[] parameters, bool force, string? from, int? parallel,
        CancellationToken cancellationToken)
    {
        var path = context.ResolvePath(file);
        if (!File.Exists(path))
        {
            throw CairnException.NotFound($"Pipeline file '{path}' does not exist.");
        }

        var spec = PipelineSpec.Parse(await File.ReadAllTextAsync(path, cancellationToken));
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in parameters)
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            overrides[equals > 0 ? parameter[..equals] : throw CairnException.Invalid($"--param '{parameter}' is not NAME=VALUE.")] = parameter[(equals + 1)..];
        }

        var result = await context.Get<PipelineRunner>().RunAsync(spec, overrides, Path.GetDirectoryName(path)!, force,
            context.Json ? null : new TrainCommand.Progress(context.Console.Out), cancellationToken, from, parallel);
        var exit = result.Status == RunStatus.Finished ? 0 : CliApp.CheckFailed;
        if (context.Json)
        {
            context.Console.WriteJson(result, CairnJson.Readable.PipelineResult);
            return exit;
        }

        var table = new Table().AddColumns("step", "status", "run", "note");
        foreach (var step in result.Steps)
        {
            table.AddRow(Markup.Escape(step.Step), Format.Status(step.Status), step.RunId, Markup.Escape(step.Cached ? "cached" : step.Error ?? ""));
        }

        foreach (var skipped in spec.Steps.Where(s => result.Steps.All(r => r.Step != s.Name)))
        {
            table.AddRow(Markup.Escape(skipped.Name), "[grey]NOT RUN[/]", "-", "an earlier step failed");
        }

        context.Console.Out.Write(table);
        var status = result.Status == RunStatus.Finished ? "[green]FINISHED[/]" : "[red]FAILED[/]";
        context.Console.Out.MarkupLine(
            $"Pipeline {Markup.Escape(result.Pipeline)}: {status} (run {result.RunId}, {result.Steps.Count(s => s.Cached)} of {result.Steps.Count} step(s) cached)");
        return exit;
    }
}
