using System.CommandLine;
using System.Diagnostics;
using Cairn.Application;
using Cairn.Core.Data;
using Cairn.Server;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn quickstart</c>: the whole lifecycle on the bundled Adult census data — add the dataset, train, register,
/// serve, and score rows the model never saw over HTTP.
/// </summary>
internal static class QuickstartCommand
{
    private const string DatasetName = "adult";
    private const string ModelName = "adult-income";
    private const string Alias = "champion";
    private const int RowsToShow = 10;
    private const int BatchSize = 1000;

    public static Command Create(CliApp app)
    {
        var port = new Option<int>("--port") { Description = "The port for the demonstration server (0 picks a free one)", DefaultValueFactory = _ => 0 };
        var command = new Command("quickstart", "Run the whole lifecycle on the bundled Adult census data, from CSV to live predictions") { port };
        command.SetAction(app.ServerSideHandler((context, ct) => RunAsync(context, context.Parse.GetValue(port), ct)));
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, int port, CancellationToken cancellationToken)
    {
        var console = context.Console.Out;
        var examples = Path.Combine(AppContext.BaseDirectory, "examples", "adult");
        var total = Stopwatch.StartNew();
        console.MarkupLineInterpolated($"[bold]Cairn quickstart[/] — home: {context.Home.Path}");

        var (dataset, created) = await Step(console, 1, "Adding the Adult census dataset", () =>
            context.Get<DatasetService>().AddAsync(Path.Combine(examples, "adult.csv"), DatasetName, cancellationToken));
        if (created)
        {
            console.MarkupLineInterpolated($"      {dataset.Reference}: {Format.Count(dataset.RowCount)} rows, {dataset.Schema.Columns.Count} columns, sha256:{dataset.ContentHash.Short}");
        }
        else
        {
            console.MarkupLineInterpolated($"      {dataset.Reference} already holds this content (sha256:{dataset.ContentHash.Short}); reusing it");
        }


        var spec = TrainCommand.ReadSpec(Path.Combine(examples, "train.yaml"));
        var outcome = await Step(console, 2, $"Training {spec.Trainer} to predict '{spec.Label}'", () =>
            context.Get<TrainingService>().TrainAsync(spec, new TrainCommand.Progress(console), cancellationToken));
        TrainCommand.WriteSummary(console, outcome.Run);

        var version = await Step(console, 3, $"Registering the model as '{ModelName}' with alias '{Alias}'", () =>
            context.Get<ModelRegistry>().RegisterAsync(outcome.Run.Id, ModelName, Alias, cancellationToken));
        console.MarkupLineInterpolated($"      {ModelName} version {version.Version} ← @{Alias}");

        await using var server = ServeCommand.Build(context, new CairnServerOptions { Port = port, Alias = Alias });
        var address = await Step(console, 4, "Starting the server", () => CairnServer.StartAsync(server, cancellationToken));
        console.MarkupLineInterpolated($"      listening at {address}");

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        var client = new Client.CairnClient(http);
        var heldOut = ReadHeldOut(Path.Combine(examples, "adult_test.csv"), dataset.Schema);
        var predictions = await Step(console, 5, $"Scoring {Format.Count(heldOut.Rows.Count)} held-out rows (adult_test.csv) over HTTP", () =>
            PredictAsync(client, heldOut, cancellationToken));
        ShowPredictions(console, heldOut, predictions, spec.Label);

        await server.StopAsync(CancellationToken.None);
        console.MarkupLineInterpolated($"[green]Done[/] in {Format.Duration(total.Elapsed)}. The server has stopped; everything is recorded in {context.Home.Path}.");
        console.WriteLine();
        console.MarkupLine("[bold]Try next[/]");
        console.WriteLine("  cairn runs list                  the runs, with their hold-out metrics");
        console.WriteLine($"  cairn runs show {outcome.Run.Id}");
        console.WriteLine($"  cairn models show {ModelName}   versions, aliases and the input signature");
        console.WriteLine("  cairn datasets show adult        the inferred schema");
        console.WriteLine("  cairn serve                      then, from another terminal:");
        console.WriteLine($"  curl -s localhost:5000/api/models/{ModelName}/predict -H 'content-type: application/json' -d @examples/adult/request.json");
        return 0;
    }

    private static async Task<T> Step<T>(IAnsiConsole console, int number, string title, Func<Task<T>> work)
    {
        console.MarkupLineInterpolated($"[blue][[{number}/5]][/] {title}");
        var clock = Stopwatch.StartNew();
        var result = await work();
        console.MarkupLineInterpolated($"      [grey]done in {Format.Duration(clock.Elapsed)}[/]");
        return result;
    }

    private sealed record HeldOut(List<string> Header, List<string[]> Rows, TableSchema Schema);

    private static HeldOut ReadHeldOut(string path, TableSchema schema)
    {
        using var reader = CsvReader.Open(File.OpenRead(path));
        var rows = new List<string[]>();
        while (reader.TryRead(out var record))
        {
            rows.Add(record);
        }

        return new HeldOut([.. reader.Header], rows, schema);
    }

    // Through Cairn's .NET client, as an application would call the server.
    private static async Task<List<(string Label, double Probability)>> PredictAsync(
        Client.CairnClient client, HeldOut heldOut, CancellationToken cancellationToken)
    {
        var results = new List<(string, double)>(heldOut.Rows.Count);
        for (var start = 0; start < heldOut.Rows.Count; start += BatchSize)
        {
            var batch = heldOut.Rows.GetRange(start, Math.Min(BatchSize, heldOut.Rows.Count - start));
            var answer = await client.PredictWithModelAsync(ModelName, batch.Select(row => Row(heldOut, row)), cancellationToken);
            results.AddRange(answer.Rows.Select(p => (p.GetProperty("predicted_label").GetString()!, p.GetProperty("probability").GetDouble())));
        }

        return results;
    }

    // A row as a client would send it: numbers as numbers, missing values as null, the label included (the server ignores extra keys).
    private static Dictionary<string, object?> Row(HeldOut heldOut, string[] row)
    {
        var values = new Dictionary<string, object?>(heldOut.Header.Count, StringComparer.Ordinal);
        for (var i = 0; i < heldOut.Header.Count; i++)
        {
            var column = heldOut.Schema.Find(heldOut.Header[i]);
            values[heldOut.Header[i]] = MissingValues.IsMissing(row[i]) ? null
                : column?.Type == ColumnType.Numeric && SchemaInference.TryParseNumber(row[i], out var number) ? number
                : row[i];
        }

        return values;
    }

    private static void ShowPredictions(IAnsiConsole console, HeldOut heldOut, List<(string Label, double Probability)> predictions, string label)
    {
        var column = (string name) => heldOut.Header.IndexOf(name);
        var (age, education, occupation, hours, truth) = (column("age"), column("education"), column("occupation"), column("hours_per_week"), column(label));
        var table = new Table().AddColumns("row", "age", "education", "occupation", "hours", "truth", "predicted", "P(>50K)");
        for (var i = 0; i < Math.Min(RowsToShow, predictions.Count); i++)
        {
            var row = heldOut.Rows[i];
            var (predicted, probability) = predictions[i];
            var mark = predicted == row[truth] ? "[green]✓[/]" : "[red]✗[/]";
            table.AddRow(
                (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(row[age]), Markup.Escape(row[education]),
                Markup.Escape(row[occupation]), Markup.Escape(row[hours]), Markup.Escape(row[truth]), $"{Markup.Escape(predicted)} {mark}",
                probability.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture));
        }

        console.Write(table);
        var correct = predictions.Select((p, i) => p.Label == heldOut.Rows[i][truth]).Count(c => c);
        console.MarkupLineInterpolated(
            $"      {Format.Count(correct)} of {Format.Count(predictions.Count)} held-out rows predicted correctly over HTTP: accuracy {(double)correct / predictions.Count:0.0000}");
    }
}
