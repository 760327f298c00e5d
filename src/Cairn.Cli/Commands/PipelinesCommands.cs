using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Pipelines;
using Cairn.Core.Runs;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn pipelines run FILE [--param k=v] [--force]</c>.</summary>
internal static class PipelinesCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("pipelines", "Run declarative pipelines: steps ordered by what they read and write, cached by their inputs");
        var file = new Argument<string>("file") { Description = "A YAML pipeline (name, params, steps)" };
        var parameters = new Option<string[]>("--param") { Description = "A parameter NAME=VALUE (repeatable)", AllowMultipleArgumentsPerToken = false };
        var force = new Option<bool>("--force") { Description = "Run every step even when a cached result exists" };
        var run = new Command("run", $"Run a pipeline; steps whose inputs and settings are unchanged are served from the cache. Exits {CliApp.CheckFailed} if a step fails")
        {
            file, parameters, force,
        };
        run.SetAction(app.Handler((context, ct) => RunAsync(context, context.Parse.GetValue(file)!, context.Parse.GetValue(parameters) ?? [], context.Parse.GetValue(force), ct)));
        command.Subcommands.Add(run);
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, string file, string[] parameters, bool force, CancellationToken cancellationToken)
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
            context.Json ? null : new TrainCommand.Progress(context.Console.Out), cancellationToken);
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
