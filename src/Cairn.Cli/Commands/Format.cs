using System.Globalization;
using Cairn.Core.Data;
using Cairn.Core.Runs;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace Cairn.Cli.Commands;

/// <summary>How values look in human output.</summary>
internal static class Format
{
    /// <summary>A table whose id columns (named in <paramref name="ids"/>) never wrap, so an id can be copied whole.</summary>
    public static Table Table(string[] ids, params string[] columns)
    {
        var table = new Table();
        foreach (var column in columns)
        {
            var added = new Spectre.Console.TableColumn(column);
            table.AddColumn(ids.Contains(column) ? added.NoWrap() : added);
        }

        return table;
    }

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";

    public static string Duration(TimeSpan span) => span.TotalSeconds < 60
        ? span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s"
        : span.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture);

    public static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Status(RunStatus status) => status switch
    {
        RunStatus.Finished => "[green]FINISHED[/]",
        RunStatus.Failed => "[red]FAILED[/]",
        RunStatus.Killed => "[red]KILLED[/]",
        RunStatus.Scheduled => "[grey]SCHEDULED[/]",
        _ => "[yellow]RUNNING[/]",
    };

    public static Table SchemaTable(TableSchema schema)
    {
        var table = new Table().AddColumns("column", "type", "role", "nullable", "missing", "distinct", "levels");
        foreach (var column in schema.Columns)
        {
            var levels = column.Categories is { } categories
                ? string.Join(", ", categories.Take(5)) + (categories.Count > 5 ? $", … ({categories.Count})" : "")
                : "";
            table.AddRow(
                Markup.Escape(column.Name),
                column.Type.ToString().ToLowerInvariant(),
                column.Role.ToString().ToLowerInvariant(),
                column.Nullable ? "yes" : "no",
                Count(column.MissingCount),
                Count(column.DistinctCount),
                Markup.Escape(levels));
        }

        return table;
    }
}
