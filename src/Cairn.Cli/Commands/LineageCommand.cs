using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn lineage PREDICTION_ID</c>: where one prediction came from, back to the files and the code.</summary>
internal static class LineageCommand
{
    public static Command Create(CliApp app)
    {
        var id = new Argument<string>("prediction-id") { Description = "The prediction's id (the Cairn-Prediction-Id header of its response)" };
        var command = new Command("lineage", "Trace one logged prediction to the deployment, model version, run, dataset versions, file hashes and git commit behind it") { id };
        command.SetAction(app.Handler(async (context, ct) =>
        {
            var lineage = await context.Get<LineageService>().OfPredictionAsync(context.Parse.GetValue(id), ct);
            if (context.Json)
            {
                context.Console.WriteJson(lineage, CairnJson.Readable.PredictionLineage);
                return 0;
            }

            var p = lineage.Prediction;
            var table = new Table().AddColumns("", "");
            table.AddRow("prediction", Markup.Escape($"{p.Id} at {Format.Time(p.At)}"));
            table.AddRow("answered by", Markup.Escape($"deployment {p.Deployment}, {p.Model}@{p.Version} ({p.Role})"));
            table.AddRow("output", Markup.Escape($"{p.Predicted} (score {p.Score.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)})"));
            table.AddRow("label", Markup.Escape(p.Label ?? "no feedback yet"));
            table.AddRow("inputs", Markup.Escape(p.InputsJson));
            table.AddRow("trained by run", Markup.Escape(lineage.Run is { } run ? $"{run.Id} ({run.Name}, {Format.Time(run.StartedAt)})" : "none recorded"));
            foreach (var data in lineage.Data)
            {
                table.AddRow($"data ({Markup.Escape(data.Input.Context)})", Markup.Escape(data.Input.Reference));
                foreach (var file in data.Files)
                {
                    table.AddRow("  file", Markup.Escape($"{file.Path} sha256:{file.ContentHash}"));
                }
            }

            foreach (var (key, value) in lineage.Code)
            {
                table.AddRow(Markup.Escape(key), Markup.Escape(value));
            }

            if (lineage.Code.Count == 0)
            {
                table.AddRow("code", "not recorded (the run's spec was not in a git work tree)");
            }

            context.Console.Out.Write(table);
            return 0;
        }));
        return command;
    }
}
