using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Data;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn datasets add | list | show</c>.</summary>
internal static class DatasetsCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("datasets", "Version tables by content and infer their schema");

        var file = new Argument<string>("file") { Description = "A CSV file (UTF-8, header row)" };
        var name = new Option<string>("--name") { Description = "The dataset to add a version to", Required = true };
        var add = new Command("add", "Add a CSV file as a new dataset version (identical content returns the existing version)") { file, name };
        add.SetAction(app.Handler((context, ct) => AddAsync(context, context.Parse.GetValue(file)!, context.Parse.GetValue(name)!, ct)));
        command.Subcommands.Add(add);

        var list = new Command("list", "List datasets");
        list.SetAction(app.Handler(ListAsync));
        command.Subcommands.Add(list);

        var reference = new Argument<string>("dataset") { Description = "NAME (the latest version) or NAME@VERSION" };
        var show = new Command("show", "Show a dataset version and its schema") { reference };
        show.SetAction(app.Handler((context, ct) => ShowAsync(context, context.Parse.GetValue(reference)!, ct)));
        command.Subcommands.Add(show);
        return command;
    }

    private static async Task<int> AddAsync(CommandContext context, string path, string name, CancellationToken cancellationToken)
    {
        var (version, created) = await context.Get<DatasetService>().AddAsync(context.ResolvePath(path), name, cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(version, CairnJson.Readable.DatasetVersion);
            return 0;
        }

        var console = context.Console.Out;
        if (created)
        {
            console.MarkupLineInterpolated($"[green]Added[/] {version.Reference}: {Format.Count(version.RowCount)} rows, {version.Schema.Columns.Count} columns, sha256:{version.ContentHash.Short}");
        }
        else
        {
            console.MarkupLineInterpolated($"[yellow]Unchanged[/]: {version.Reference} already has this content (sha256:{version.ContentHash.Short})");
        }

        console.Write(Format.SchemaTable(version.Schema));
        return 0;
    }

    private static async Task<int> ListAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var datasets = await context.Get<DatasetService>().ListAsync(cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(datasets, CairnJson.Readable.IReadOnlyListDatasetSummary);
            return 0;
        }

        if (datasets.Count == 0)
        {
            context.Console.Out.MarkupLine("No datasets yet. Add one with: cairn datasets add FILE --name NAME");
            return 0;
        }

        var table = new Table().AddColumns("name", "latest", "versions", "created", "updated");
        foreach (var d in datasets)
        {
            table.AddRow(Markup.Escape(d.Name), $"v{d.LatestVersion}", d.VersionCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Format.Time(d.CreatedAt), Format.Time(d.UpdatedAt));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static async Task<int> ShowAsync(CommandContext context, string reference, CancellationToken cancellationToken)
    {
        var datasets = context.Get<DatasetService>();
        var version = await datasets.GetAsync(DatasetRef.Parse(reference), cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(version, CairnJson.Readable.DatasetVersion);
            return 0;
        }

        var console = context.Console.Out;
        var versions = await datasets.ListVersionsAsync(version.Name, cancellationToken);
        console.MarkupLineInterpolated($"[bold]{version.Reference}[/]  (of {versions.Count} version(s))");
        console.MarkupLineInterpolated($"  rows      {Format.Count(version.RowCount)}");
        console.MarkupLineInterpolated($"  size      {Format.Count(version.SizeBytes)} bytes");
        console.MarkupLineInterpolated($"  sha256    {version.ContentHash.Hex}");
        console.MarkupLineInterpolated($"  source    {version.Source}");
        console.MarkupLineInterpolated($"  created   {Format.Time(version.CreatedAt)}");
        console.Write(Format.SchemaTable(version.Schema));
        return 0;
    }
}
