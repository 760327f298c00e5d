using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn lineage PREDICTION_ID</c>: where one prediction came from, back to the files and the code; <c>cairn lineage
/// KIND:ID</c> (dataset:adult@2, run:ID, model:adult/3, deployment:NAME, file:SHA256, code:COMMIT): the graph around any node.
/// </summary>
internal static class LineageCommand
{
    public static Command Create(CliApp app)
    {
        var id = new Argument<string>("prediction-id")
        {
            Description = "The prediction's id (the Cairn-Prediction-Id header of its response), or any node as KIND:ID: dataset:NAME@VERSION, run:ID, model:NAME/VERSION, deployment:NAME, file:SHA256, code:COMMIT",
        };
        var command = new Command("lineage",
            "Trace one logged prediction to the deployment, model version, run, dataset versions, file hashes and git commit behind it; or show what any node came from and what was made from it") { id };
        command.SetAction(app.Handler(
            async (context, ct) =>
            {
                var text = context.Parse.GetValue(id);
                return IsNode(text)
                    ? WriteGraph(context, await context.Get<LineageService>().GraphAsync(text, ct))
                    : Write(context, await context.Get<LineageService>().OfPredictionAsync(text, ct));
            },
            async (context, ct) =>
            {
                var text = context.Parse.GetValue(id) ?? "";
                // The node's own slashes (model:adult/3, a prediction's row) stay path separators the server's catch-all route takes back.
                var path = string.Join('/', text.Split('/').Select(Uri.EscapeDataString));
                return IsNode(text)
                    ? WriteGraph(context, await context.Remote.GetAsync($"api/lineage/{path}", CairnJson.Default.LineageGraph, ct))
                    : Write(context, await context.Remote.GetAsync($"api/lineage/predictions/{path}", CairnJson.Default.PredictionLineage, ct));
            }));
        return command;
    }

    private static bool IsNode(string? text) => text?.Contains(':', StringComparison.Ordinal) == true;

    private static int Write(CommandContext context, Core.Runs.PredictionLineage lineage)
    {
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
    }

    private static int WriteGraph(CommandContext context, Core.Runs.LineageGraph graph)
    {
        if (context.Json)
        {
            context.Console.WriteJson(graph, CairnJson.Readable.LineageGraph);
            return 0;
        }

        var labels = graph.Nodes.ToDictionary(n => n.Key, n => n.Label, StringComparer.Ordinal);
        var table = new Table().AddColumns("kind", "node", "id", "upstream", "downstream");
        foreach (var node in graph.Nodes.OrderBy(n => n.Kind))
        {
            table.AddRow(node.Kind.ToString().ToLowerInvariant(), Markup.Escape(node.Label), Markup.Escape(node.Id),
                Markup.Escape(string.Join(", ", graph.Edges.Where(e => e.To == node.Key).Select(e => labels[e.From]))),
                Markup.Escape(string.Join(", ", graph.Edges.Where(e => e.From == node.Key).Select(e => labels[e.To]))));
        }

        context.Console.Out.Write(table);
        if (graph.Truncated)
        {
            context.Console.Out.MarkupLine($"The graph stops at {LineageService.MaxGraphNodes} nodes; start from a node further along to see past it.");
        }

        return 0;
    }
}
