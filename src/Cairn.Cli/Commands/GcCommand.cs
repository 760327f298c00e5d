using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn gc</c>: removes stored blobs nothing references any more.</summary>
internal static class GcCommand
{
    public static Command Create(CliApp app)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would be removed, and how many bytes, without removing anything" };
        var grace = new Option<string>("--grace")
        {
            Description = "Keep unreferenced blobs written more recently than this (30m, 1h, 7d), so writes in flight are never collected",
            DefaultValueFactory = _ => "1h",
        };
        var command = new Command("gc", "Remove artifacts (datasets, models, run files) that nothing references any more, locally or in S3") { dryRun, grace };
        command.SetAction(app.ServerSideHandler(async (context, ct) =>
        {
            var result = await context.Get<BlobCollector>().CollectAsync(Durations.Parse(context.Parse.GetValue(grace)!, "--grace"), context.Parse.GetValue(dryRun), ct);
            if (context.Json)
            {
                context.Console.WriteJson(result, CairnJson.Readable.BlobCollection);
                return 0;
            }

            var console = context.Console.Out;
            if (result.DryRun && result.Collected.Count > 0)
            {
                var table = Format.Table(["blob"], "blob", "bytes", "written");
                foreach (var blob in result.Collected)
                {
                    table.AddRow($"sha256:{blob.ContentHash}", Format.Count(blob.SizeBytes), Format.Time(blob.LastWritten));
                }

                console.Write(table);
            }

            var verb = result.DryRun ? "Would remove" : "Removed";
            console.MarkupLineInterpolated($"{verb} {result.Collected.Count} unreferenced blobs ({Format.Count(result.Bytes)} bytes); {result.Kept} stay.");
            return 0;
        }));
        return command;
    }
}
