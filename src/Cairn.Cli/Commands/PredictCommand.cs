using System.CommandLine;
using Cairn.Application;
using Cairn.Core.Data;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn predict --model M@alias --input FILE|--dataset NAME@N --output FILE.csv</c>.</summary>
internal static class PredictCommand
{
    public static Command Create(CliApp app)
    {
        var model = new Option<string>("--model") { Description = "NAME, NAME@alias, NAME@VERSION or a training run id", Required = true };
        var input = new Option<string?>("--input") { Description = "A CSV or Parquet file to score" };
        var dataset = new Option<string?>("--dataset") { Description = "A dataset version to score instead of a file (NAME or NAME@VERSION)" };
        var output = new Option<string>("--output", "-o") { Description = "The file to write, CSV or (ending in .parquet) Parquet: the input rows, then the model's outputs", Required = true };
        var remote = JobsCommands.RemoteOption();
        var command = new Command("predict", "Score every row of a file or dataset version with a model, in chunks on all cores, into a CSV or Parquet file")
        {
            model, input, dataset, output, remote,
        };
        command.SetAction(app.Handler(async (context, ct) =>
        {
            JobsCommands.RefuseRemoteLocally(context, remote);
            var (file, version) = Source(context, input, dataset);

            var target = context.ResolvePath(context.Parse.GetValue(output)!);
            var scoring = context.Get<BatchScoring>();
            var started = System.Diagnostics.Stopwatch.StartNew();
            var outcome = file is not null
                ? await scoring.ScoreFileAsync(context.Parse.GetValue(model)!, context.ResolvePath(file), target, ct)
                : await scoring.ScoreAsync(context.Parse.GetValue(model)!, DatasetRef.Parse(version!), target, ct);
            var seconds = started.Elapsed.TotalSeconds;
            context.Console.Out.MarkupLineInterpolated(
                $"Scored {outcome.Rows:N0} rows of {outcome.Input} with {outcome.Model} into {outcome.Output} in {seconds:0.00} s ({outcome.Rows / Math.Max(seconds, 1e-9):N0} rows/s)");
            return 0;
        },
        (context, ct) =>
        {
            JobsCommands.RequireRemote(context, remote, "cairn predict");
            var (file, version) = Source(context, input, dataset);
            return JobsCommands.PredictAsync(context, context.Parse.GetValue(model)!, file, version, context.ResolvePath(context.Parse.GetValue(output)!), ct);
        }));
        return command;
    }

    private static (string? File, string? Dataset) Source(CommandContext context, Option<string?> input, Option<string?> dataset)
    {
        var (file, version) = (context.Parse.GetValue(input), context.Parse.GetValue(dataset));
        return file is null == version is null ? throw Core.CairnException.Invalid("Give either --input FILE or --dataset NAME@VERSION.") : (file, version);
    }
}
