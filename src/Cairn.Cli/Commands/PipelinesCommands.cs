using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Pipelines;
using Cairn.Core.Runs;
using Cairn.Scheduling;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn pipelines run | schedule | schedules | unschedule | worker | status | list | show</c>.</summary>
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
        var remote = JobsCommands.RemoteOption();
        var run = new Command("run", $"Run a pipeline; steps whose inputs and settings are unchanged are served from the cache. Exits {CliApp.CheckFailed} if a step fails")
        {
            file, parameters, force, from, parallel, remote,
        };
        run.SetAction(app.Handler(
            (context, ct) =>
            {
                JobsCommands.RefuseRemoteLocally(context, remote);
                return RunAsync(context, context.Parse.GetValue(file)!, context.Parse.GetValue(parameters) ?? [], context.Parse.GetValue(force),
                    context.Parse.GetValue(from), context.Parse.GetValue(parallel), ct);
            },
            (context, ct) =>
            {
                JobsCommands.RequireRemote(context, remote, "cairn pipelines run");
                if (new Option[] { force, from, parallel }.FirstOrDefault(o => context.Parse.GetResult(o) is { Implicit: false }) is { } local)
                {
                    throw CairnException.Invalid($"{local.Name} is not taken with --remote yet; the worker runs the pipeline from its cache.");
                }

                return JobsCommands.SubmitAsync(context, Core.Jobs.JobKind.Pipeline, context.Parse.GetValue(file)!, Parameters(context.Parse.GetValue(parameters) ?? []), ct);
            }));
        command.Subcommands.Add(run);

        var list = new Command("list", "Recent pipeline runs, newest first");
        list.SetAction(app.Handler((context, ct) => ListAsync(context, LocalSearch(context), ct), (context, ct) => ListAsync(context, RemoteSearch(context), ct)));
        command.Subcommands.Add(list);

        var scheduled = new Argument<string>("file") { Description = "A YAML pipeline" };
        var cron = new Option<string>("--cron") { Description = "When to run: five Unix cron fields (\"0 3 * * *\" is 03:00 daily) or Quartz's six or seven, seconds first", Required = true };
        var scheduleName = new Option<string?>("--name") { Description = "The schedule's name (default: the pipeline's name)" };
        var scheduleParameters = new Option<string[]>("--param") { Description = "A parameter NAME=VALUE for every run (repeatable)" };
        var remoteSchedule = JobsCommands.RemoteOption();
        var schedule = new Command("schedule", "Run a pipeline on a cron schedule; a worker (cairn pipelines worker) runs it. Schedules survive restarts")
        {
            scheduled, cron, scheduleName, scheduleParameters, remoteSchedule,
        };
        schedule.SetAction(app.Handler(
            async (context, ct) =>
            {
                JobsCommands.RefuseRemoteLocally(context, remoteSchedule);
                var path = context.ResolvePath(context.Parse.GetValue(scheduled)!);
                var name = await ScheduleNameAsync(context, path, scheduleName, ct);
                await using var scheduler = await OpenSchedulerAsync(context, 1, ct);
                return Scheduled(context, await scheduler.ScheduleAsync(name, path, context.Parse.GetValue(cron)!, Parameters(context.Parse.GetValue(scheduleParameters) ?? []), ct));
            },
            async (context, ct) =>
            {
                JobsCommands.RequireRemote(context, remoteSchedule, "cairn pipelines schedule");
                var name = await ScheduleNameAsync(context, context.ResolvePath(context.Parse.GetValue(scheduled)!), scheduleName, ct);
                return Scheduled(context, await JobsCommands.ScheduleAsync(context, name, context.Parse.GetValue(cron)!, context.Parse.GetValue(scheduled)!,
                    Parameters(context.Parse.GetValue(scheduleParameters) ?? []), ct));
            }));
        command.Subcommands.Add(schedule);

        var schedules = new Command("schedules", "List pipeline schedules with their next and previous runs");
        schedules.SetAction(app.Handler(
            async (context, ct) =>
            {
                await using var scheduler = await OpenSchedulerAsync(context, 1, ct);
                WriteSchedules(context, await scheduler.ListAsync(ct));
                return 0;
            },
            async (context, ct) =>
            {
                WriteSchedules(context, await context.Remote.GetAsync("api/schedules", CairnJson.Default.IReadOnlyListPipelineSchedule, ct));
                return 0;
            }));
        command.Subcommands.Add(schedules);

        var unscheduledName = new Argument<string>("name") { Description = "The schedule to remove" };
        var unschedule = new Command("unschedule", "Remove a pipeline schedule") { unscheduledName };
        unschedule.SetAction(app.Handler(
            async (context, ct) =>
            {
                await using (var scheduler = await OpenSchedulerAsync(context, 1, ct))
                {
                    await scheduler.UnscheduleAsync(context.Parse.GetValue(unscheduledName)!, ct);
                }

                await context.Get<Core.Ports.IJobStore>().DeleteScheduleFilesAsync(context.Parse.GetValue(unscheduledName)!, ct);
                context.Console.Out.MarkupLineInterpolated($"Removed schedule {context.Parse.GetValue(unscheduledName)}");
                return 0;
            },
            async (context, ct) =>
            {
                await context.Remote.SendAsync(HttpMethod.Delete, $"api/schedules/{Uri.EscapeDataString(context.Parse.GetValue(unscheduledName)!)}", null, ct);
                context.Console.Out.MarkupLineInterpolated($"Removed schedule {context.Parse.GetValue(unscheduledName)}");
                return 0;
        }));
        command.Subcommands.Add(unschedule);

        var maxRuns = new Option<int?>("--max-runs") { Description = "Stop after this many pipeline runs (default: run until stopped)" };
        var concurrency = new Option<int>("--concurrency") { Description = "Scheduled pipelines run at once", DefaultValueFactory = _ => 1 };
        var worker = new Command("worker", "Run scheduled pipelines until stopped (Ctrl+C waits for running pipelines); restarts resume interrupted runs")
        {
            maxRuns, concurrency,
        };
        worker.SetAction(app.ServerSideHandler(async (context, ct) =>
        {
            var limit = context.Parse.GetValue(concurrency);
            await using var scheduler = await OpenSchedulerAsync(context, limit >= 1 ? limit : throw CairnException.Invalid($"--concurrency is {limit}; it must be at least 1."), ct);
            context.Console.Out.MarkupLine("Worker started; waiting for scheduled pipelines.");
            await scheduler.RunAsync(context.Parse.GetValue(maxRuns), new TrainCommand.Progress(context.Console.Out), ct);
            return 0;
        }));
        command.Subcommands.Add(worker);

        var stepKind = new Argument<string>("kind") { Description = "train, sweep or evaluate" };
        var stepName = new Option<string>("--name") { Description = "The step's name in its pipeline", Required = true };
        var stepDirectory = new Option<string>("--directory") { Description = "The pipeline's folder", Required = true };
        var step = new Command("step", "Run one heavy step in this process (what a pipeline's child process does); settings come in CAIRN_STEP_SETTINGS")
        {
            stepKind, stepName, stepDirectory,
        };
        step.Hidden = true;
        step.SetAction(app.ServerSideHandler(async (context, ct) =>
        {
            var settings = System.Text.Json.JsonSerializer.Deserialize(app.Environment("CAIRN_STEP_SETTINGS") ?? "{}", CairnJson.Compact.DictionaryStringString) ?? [];
            var log = new System.Text.StringBuilder();
            var outputs = await context.Get<PipelineRunner>().ExecuteStepAsync(context.Parse.GetValue(stepName)!, context.Parse.GetValue(stepKind)!, settings,
                context.Parse.GetValue(stepDirectory)!, log, ct);
            context.Console.RawOut.Write(log.ToString());
            context.Console.RawOut.WriteLine(ChildProcessStepHost.OutputsMarker +
                System.Text.Json.JsonSerializer.Serialize(outputs.ToDictionary(o => o.Key, o => o.Value), CairnJson.Compact.DictionaryStringString));
            context.Console.RawOut.Flush();
            return 0;
        }));
        command.Subcommands.Add(step);

        var status = new Command("status", "Pipelines running now, with their steps, and the schedules");
        status.SetAction(app.Handler(
            async (context, ct) =>
            {
                await context.Get<PipelineRunner>().RecoverInterruptedAsync(ct);
                await using var scheduler = await OpenSchedulerAsync(context, 1, ct);
                return await StatusAsync(context, LocalSearch(context), () => scheduler.ListAsync(ct), ct);
            },
            (context, ct) => StatusAsync(context, RemoteSearch(context), () => context.Remote.GetAsync("api/schedules", CairnJson.Default.IReadOnlyListPipelineSchedule, ct), ct)));
        command.Subcommands.Add(status);

        var runId = new Argument<string>("run") { Description = "A pipeline run id (from pipelines list)" };
        var show = new Command("show", "A pipeline run and its steps: status, cached or not, errors") { runId };
        show.SetAction(app.Handler(
            async (context, ct) =>
            {
                var runs = context.Get<RunService>();
                return await ShowAsync(context, await runs.GetAsync(await runs.ResolveIdAsync(context.Parse.GetValue(runId), ct), ct), LocalSearch(context), ct);
            },
            async (context, ct) => await ShowAsync(context,
                await context.Remote.GetAsync($"api/runs/{Uri.EscapeDataString(context.Parse.GetValue(runId)!)}", CairnJson.Default.Run, ct), RemoteSearch(context), ct)));
        command.Subcommands.Add(show);
        return command;
    }

    // Runs of the default experiment (where pipelines record) matching a filter, from the store or through the server.
    private delegate Task<IReadOnlyList<Run>> RunSearch(string filter, string orderBy, int limit, CancellationToken cancellationToken);

    private static RunSearch LocalSearch(CommandContext context) => async (filter, orderBy, limit, cancellationToken) =>
        (await context.Get<RunService>().SearchAsync([Experiment.DefaultId], filter, LifecycleStage.Active, [orderBy], limit, null, cancellationToken)).Item1;

    private static RunSearch RemoteSearch(CommandContext context) => async (filter, orderBy, limit, cancellationToken) =>
        (await context.Remote.SendAsync(HttpMethod.Post, "api/runs/search", System.Net.Http.Json.JsonContent.Create(
            new Server.Api.SearchRunsBody([Experiment.DefaultId], filter, [orderBy], limit, null, null), Server.Api.ApiJson.Default.SearchRunsBody),
            Server.Api.ApiJson.Default.RunPage, cancellationToken)).Runs;

    private static async Task<int> ListAsync(CommandContext context, RunSearch search, CancellationToken cancellationToken)
    {
        var runs = await search("tags.`cairn.kind` = 'pipeline'", "attributes.start_time DESC", 100, cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(runs, CairnJson.Readable.IReadOnlyListRun);
            return 0;
        }

        var table = Format.Table(["run"], "run", "pipeline", "status", "started", "duration");
        foreach (var run in runs)
        {
            table.AddRow(run.Id, Markup.Escape(run.Tags.GetValueOrDefault("cairn.pipeline") ?? ""), Format.Status(run.Status), Format.Time(run.StartedAt),
                run.EndedAt is { } ended ? Format.Duration(ended - run.StartedAt) : "");
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static async Task<PipelineScheduler> OpenSchedulerAsync(CommandContext context, int concurrency, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(context.Home.Path);
        return await PipelineScheduler.OpenAsync(Composition.JobStoreOf(context.Home), context.Services, concurrency, cancellationToken);
    }

    private static Dictionary<string, string> Parameters(string[] parameters)
    {
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in parameters)
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            overrides[equals > 0 ? parameter[..equals] : throw CairnException.Invalid($"--param '{parameter}' is not NAME=VALUE.")] = parameter[(equals + 1)..];
        }

        return overrides;
    }

    private static async Task<string> ScheduleNameAsync(CommandContext context, string path, Option<string?> scheduleName, CancellationToken cancellationToken) =>
        context.Parse.GetValue(scheduleName)
            ?? (File.Exists(path) ? PipelineSpec.Parse(await File.ReadAllTextAsync(path, cancellationToken), path).Name : throw CairnException.NotFound($"Pipeline file '{path}' does not exist."));

    private static int Scheduled(CommandContext context, PipelineSchedule added)
    {
        context.Console.Out.MarkupLineInterpolated($"Scheduled [bold]{added.Name}[/] ({added.Cron}); next run {(added.NextRun is { } next ? Format.Time(next) : "never")}");
        return 0;
    }

    private static void WriteSchedules(CommandContext context, IReadOnlyList<PipelineSchedule> schedules)
    {
        var table = new Table().AddColumns("schedule", "cron", "next run", "previous run", "state", "pipeline");
        foreach (var s in schedules)
        {
            table.AddRow(Markup.Escape(s.Name), Markup.Escape(s.Cron), s.NextRun is { } next ? Format.Time(next) : "", s.PreviousRun is { } previous ? Format.Time(previous) : "",
                s.State, Markup.Escape(s.Pipeline));
        }

        context.Console.Out.Write(schedules.Count == 0 ? new Markup("No schedules. Add one with: cairn pipelines schedule FILE --cron \"0 3 * * *\"\n") : table);
    }

    private static async Task<int> StatusAsync(CommandContext context, RunSearch search, Func<Task<IReadOnlyList<PipelineSchedule>>> schedules,
        CancellationToken cancellationToken)
    {
        var running = await search("tags.`cairn.kind` = 'pipeline' and attributes.status = 'RUNNING'", "attributes.start_time DESC", 100, cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(running, CairnJson.Readable.IReadOnlyListRun);
            return 0;
        }

        if (running.Count == 0)
        {
            context.Console.Out.MarkupLine("No pipeline is running.");
        }

        foreach (var pipeline in running)
        {
            var steps = await search($"attributes.parent_run_id = '{pipeline.Id}'", "attributes.start_time ASC", 1000, cancellationToken);
            var (done, active) = (steps.Count(s => s.Status == RunStatus.Finished), string.Join(", ", steps.Where(s => s.Status == RunStatus.Running).Select(s => s.Name)));
            context.Console.Out.MarkupLineInterpolated(
                $"[bold]{pipeline.Tags.GetValueOrDefault("cairn.pipeline")}[/] run {pipeline.Id}, started {Format.Time(pipeline.StartedAt)}: {done} step(s) done, running: {active}");
        }

        WriteSchedules(context, await schedules());
        return 0;
    }

    private static async Task<int> ShowAsync(CommandContext context, Run pipeline, RunSearch search, CancellationToken cancellationToken)
    {
        if (pipeline.Tags.GetValueOrDefault("cairn.kind") != "pipeline")
        {
            throw CairnException.NotFound($"Run {pipeline.Id} is not a pipeline run; list them with: cairn pipelines list");
        }

        var steps = await search($"attributes.parent_run_id = '{pipeline.Id}'", "attributes.start_time ASC", 1000, cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson([pipeline, .. steps], CairnJson.Readable.IReadOnlyListRun);
            return 0;
        }

        context.Console.Out.MarkupLineInterpolated($"[bold]{pipeline.Tags.GetValueOrDefault("cairn.pipeline")}[/] run {pipeline.Id}: {pipeline.Status.ToString().ToUpperInvariant()}");
        var table = Format.Table(["run"], "step", "kind", "status", "run", "note");
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

        var spec = PipelineSpec.Parse(await File.ReadAllTextAsync(path, cancellationToken), path);
        var overrides = Parameters(parameters);

        var result = await context.Get<PipelineRunner>().RunAsync(spec, overrides, Path.GetDirectoryName(path)!, force,
            context.Json ? null : new TrainCommand.Progress(context.Console.Out), cancellationToken, from, parallel,
            await SourceControl.TagsAsync(path, cancellationToken));
        var exit = result.Status == RunStatus.Finished ? 0 : CliApp.CheckFailed;
        if (context.Json)
        {
            context.Console.WriteJson(result, CairnJson.Readable.PipelineResult);
            return exit;
        }

        var table = Format.Table(["run"], "step", "status", "run", "note");
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
