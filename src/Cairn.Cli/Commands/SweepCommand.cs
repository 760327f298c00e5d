using System.CommandLine;
using System.Globalization;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Training;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn sweep --config FILE.yaml [--parallel N]</c>.</summary>
internal static class SweepCommand
{
    public static Command Create(CliApp app)
    {
        var config = new Option<string>("--config") { Description = "A training spec with a 'sweep' section (space, method, trials, metric, early_stopping)", Required = true };
        var parallel = new Option<int?>("--parallel") { Description = "Trials to run at once (default: the spec's, else the cores)" };
        var remote = JobsCommands.RemoteOption();
        var command = new Command("sweep", "Search hyperparameters: one child training run per trial, the best picked by the declared metric") { config, parallel, remote };
        command.SetAction(app.Handler(async (context, ct) =>
        {
            JobsCommands.RefuseRemoteLocally(context, remote);
            var sweep = ReadSpec(context.ResolvePath(context.Parse.GetValue(config)!));
            if (context.Parse.GetValue(parallel) is { } p)
            {
                sweep = p >= 1 ? sweep with { Parallel = p } : throw CairnException.Invalid($"--parallel is {p}; it must be at least 1.");
            }

            var outcome = await context.Get<SweepService>().RunAsync(sweep, context.Json ? null : new TrainCommand.Progress(context.Console.Out), ct);
            if (context.Json)
            {
                context.Console.WriteJson(outcome.Sweep, CairnJson.Readable.Run);
                return 0;
            }

            var table = new Table().AddColumns("trial run", "round", "hyperparameters", outcome.SelectedOn);
            foreach (var trial in outcome.Trials.OrderBy(t => t.Round).ThenByDescending(t => t.Score))
            {
                var settings = string.Join(" ", trial.Hyperparameters.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}={h.Value.ToString("G4", CultureInfo.InvariantCulture)}"));
                table.AddRow(trial.Run.Id == outcome.Best.Run.Id ? $"[green]{trial.Run.Id}[/]" : trial.Run.Id, (trial.Round + 1).ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(settings), trial.Score is { } s ? Format.Number(s) : $"[red]failed[/] {Markup.Escape(trial.Run.Error ?? "")}");
            }

            context.Console.Out.Write(table);
            context.Console.Out.MarkupLineInterpolated($"Best trial: [bold]{outcome.Best.Run.Id}[/] ({outcome.SelectedOn} = {Format.Number(outcome.Best.Score ?? double.NaN)}); sweep run {outcome.Sweep.Id}");
            context.Console.Out.MarkupLineInterpolated($"Register it with: [bold]cairn models register {outcome.Best.Run.Id} --name NAME --alias champion[/]");
            return 0;
        },
        (context, ct) =>
        {
            JobsCommands.RequireRemote(context, remote, "cairn sweep");
            // The worker's cores decide how many trials run at once there; --parallel speaks of this machine's.
            return context.Parse.GetResult(parallel) is { Implicit: false }
                ? throw CairnException.Invalid("--parallel is not taken with --remote: the spec's 'parallel' (or the worker's cores) decides there.")
                : JobsCommands.SubmitAsync(context, Core.Jobs.JobKind.Sweep, context.Parse.GetValue(config)!, new Dictionary<string, string>(), ct);
        }));
        return command;
    }

    public static SweepSpec ReadSpec(string path) =>
        File.Exists(path) ? SweepSpec.Parse(File.ReadAllText(path), path) : throw CairnException.NotFound($"Sweep spec '{path}' does not exist.");
}
