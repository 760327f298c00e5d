using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Runs;
using Cairn.Core.Training;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn train --config FILE.yaml</c>.</summary>
internal static class TrainCommand
{
    public static Command Create(CliApp app)
    {
        var config = new Option<string>("--config") { Description = "A YAML training spec (dataset, label, task, trainer, hyperparameters, split, seed)", Required = true };
        var remote = JobsCommands.RemoteOption();
        var command = new Command("train", "Train and evaluate a model; the run records params, metrics, the dataset version and the model") { config, remote };
        command.SetAction(app.Handler(
            (context, ct) =>
            {
                JobsCommands.RefuseRemoteLocally(context, remote);
                return RunAsync(context, context.Parse.GetValue(config)!, ct);
            },
            (context, ct) =>
            {
                JobsCommands.RequireRemote(context, remote, "cairn train");
                return JobsCommands.SubmitAsync(context, Core.Jobs.JobKind.Train, context.Parse.GetValue(config)!, new Dictionary<string, string>(), ct);
            }));
        return command;
    }

    public static TrainingSpec ReadSpec(string path)
    {
        if (!File.Exists(path))
        {
            throw CairnException.NotFound($"Training spec '{path}' does not exist.");
        }

        return TrainingSpec.Parse(File.ReadAllText(path), path);
    }

    private static async Task<int> RunAsync(CommandContext context, string configPath, CancellationToken cancellationToken)
    {
        var path = context.ResolvePath(configPath);
        var spec = ReadSpec(path);
        var console = context.Console.Out;
        var progress = context.Json ? null : new Progress(console);
        var outcome = await context.Get<TrainingService>().TrainAsync(spec, await SourceControl.TagsAsync(path, cancellationToken), progress, cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(outcome.Run, CairnJson.Readable.Run);
            return 0;
        }

        foreach (var excluded in outcome.Plan.Excluded)
        {
            console.MarkupLineInterpolated($"  [grey]not a feature: {excluded.Name} ({excluded.Reason})[/]");
        }

        WriteSummary(console, outcome.Run);
        if (outcome.Evaluation.Importance is { Count: > 0 } importance)
        {
            console.MarkupLineInterpolated(
                $"Most important features (drop in {importance[0].Metric} when shuffled): {string.Join(", ", importance.Take(5).Select(i => $"{i.Feature} {Format.Number(i.Drop)}"))}");
        }

        console.MarkupLineInterpolated($"Evaluation report: [bold]cairn runs report {outcome.Run.Id}[/]");
        console.MarkupLineInterpolated($"Register it with: [bold]cairn models register {outcome.Run.Id} --name NAME --alias champion[/]");
        return 0;
    }

    public static void WriteSummary(IAnsiConsole console, Run run)
    {
        console.MarkupLineInterpolated($"[green]Run {run.Id}[/] finished in {Format.Duration((run.EndedAt ?? run.StartedAt) - run.StartedAt)}");
        // Each metric beside the trivial baseline's, where the run recorded one (baseline.NAME).
        var baseline = run.Metrics.Where(m => m.Key.StartsWith("baseline.", StringComparison.Ordinal)).ToDictionary(m => m.Key["baseline.".Length..], m => m.Value);
        var table = baseline.Count > 0 ? new Table().AddColumns("hold-out metric", "model", "baseline") : new Table().AddColumns("hold-out metric", "value");
        foreach (var metric in run.Metrics.Where(m => !m.Key.StartsWith("baseline.", StringComparison.Ordinal)))
        {
            if (baseline.Count > 0)
            {
                table.AddRow(metric.Key, Format.Number(metric.Value), baseline.TryGetValue(metric.Key, out var b) ? Format.Number(b) : "");
            }
            else
            {
                table.AddRow(metric.Key, Format.Number(metric.Value));
            }
        }

        console.Write(table);
    }

    /// <summary>Reports progress as plain lines, which read well on a terminal and in a log alike.</summary>
    public sealed class Progress(IAnsiConsole console) : IProgress<string>
    {
        public void Report(string value) => console.MarkupLineInterpolated($"  [grey]… {value}[/]");
    }
}
