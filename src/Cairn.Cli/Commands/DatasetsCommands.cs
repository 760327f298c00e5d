using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Data;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn datasets add | list | show | log | get</c>.</summary>
internal static class DatasetsCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("datasets", "Version tables by content and infer their schema");

        var file = new Argument<string>("file") { Description = "A CSV file (UTF-8, header row)" };
        var name = new Option<string>("--name") { Description = "The dataset to add a version to", Required = true };
        var message = new Option<string?>("--message", "-m") { Description = "What changed in this version" };
        var tags = new Option<string[]>("--tag") { Description = "A tag KEY=VALUE (repeatable)", AllowMultipleArgumentsPerToken = false };
        var add = new Command("add", "Add a CSV file as a new dataset version (identical content returns the existing version)") { file, name, message, tags };
        add.SetAction(app.Handler((context, ct) => AddAsync(context, context.Parse.GetValue(file)!, context.Parse.GetValue(name)!, context.Parse.GetValue(message),
            ParseTags(context.Parse.GetValue(tags) ?? []), ct)));
        command.Subcommands.Add(add);

        var list = new Command("list", "List datasets");
        list.SetAction(app.Handler(ListAsync));
        command.Subcommands.Add(list);

        var reference = new Argument<string>("dataset") { Description = "NAME (the latest version) or NAME@VERSION" };
        var show = new Command("show", "Show a dataset version and its schema") { reference };
        show.SetAction(app.Handler((context, ct) => ShowAsync(context, context.Parse.GetValue(reference)!, ct)));
        command.Subcommands.Add(show);

        var logged = new Argument<string>("name") { Description = "The dataset" };
        var log = new Command("log", "Show a dataset's versions, newest first, with their lineage, messages and tags") { logged };
        log.SetAction(app.Handler((context, ct) => LogAsync(context, context.Parse.GetValue(logged)!, ct)));
        command.Subcommands.Add(log);

        var restored = new Argument<string>("dataset") { Description = "NAME (the latest version) or NAME@VERSION" };
        var output = new Option<string>("--output", "-o") { Description = "The folder to restore the file into", DefaultValueFactory = _ => "." };
        var get = new Command("get", "Restore a version's file into a folder, verified against its content hash") { restored, output };
        get.SetAction(app.Handler(async (context, ct) =>
        {
            var path = await context.Get<DatasetService>().RestoreAsync(DatasetRef.Parse(context.Parse.GetValue(restored)!),
                context.ResolvePath(context.Parse.GetValue(output)!), ct);
            if (context.Json)
            {
                context.Console.WriteJson(new Dictionary<string, string> { ["path"] = path }, CairnJson.Readable.DictionaryStringString);
            }
            else
            {
                context.Console.Out.MarkupLineInterpolated($"[green]Restored[/] {path}");
            }

            return 0;
        }));
        command.Subcommands.Add(get);
        return command;
    }

    private static Dictionary<string, string> ParseTags(string[] tags)
    {
        var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            var equals = tag.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw CairnException.Invalid($"--tag '{tag}' is not KEY=VALUE.");
            }

            parsed[tag[..equals]] = tag[(equals + 1)..];
        }

        return parsed;
    }

    private static async Task<int> LogAsync(CommandContext context, string name, CancellationToken cancellationToken)
    {
        var versions = await context.Get<DatasetService>().ListVersionsAsync(Names.Validate(name, "dataset"), cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(versions, CairnJson.Readable.IReadOnlyListDatasetVersion);
            return 0;
        }

        var table = new Table().AddColumns("version", "parent", "added", "rows", "sha256", "source", "message", "tags");
        foreach (var v in versions)
        {
            table.AddRow(v.Reference, v.ParentVersion is { } p ? $"{v.Name}@{p}" : "-", Format.Time(v.CreatedAt), Format.Count(v.RowCount), v.ContentHash.Short,
                Markup.Escape(v.Source), Markup.Escape(v.Message ?? ""), Markup.Escape(string.Join(", ", v.Tags.Select(t => $"{t.Key}={t.Value}"))));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static async Task<int> AddAsync(CommandContext context, string path, string name, string? message, Dictionary<string, string> tags,
        CancellationToken cancellationToken)
    {
        var (version, created) = await context.Get<DatasetService>().AddAsync(context.ResolvePath(path), name, message, tags, cancellationToken);
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
