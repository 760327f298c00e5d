using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Runs;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn experiments create | list</c>.</summary>
internal static class ExperimentsCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("experiments", "Group runs into experiments (the same ones MLflow clients see)");

        var name = new Argument<string>("name") { Description = "A unique experiment name" };
        var create = new Command("create", "Create an experiment") { name };
        create.SetAction(app.Handler(
            async (context, ct) => Created(context, await context.Get<ExperimentService>().CreateAsync(context.Parse.GetValue(name), null, [], ct)),
            async (context, ct) => Created(context, await context.Remote.SendAsync(HttpMethod.Post, "api/experiments",
                System.Net.Http.Json.JsonContent.Create(new Server.Api.CreateExperimentBody(context.Parse.GetValue(name), null), Server.Api.ApiJson.Default.CreateExperimentBody),
                CairnJson.Default.Experiment, ct))));
        command.Subcommands.Add(create);

        var all = new Option<bool>("--all") { Description = "Include deleted experiments" };
        var filter = new Option<string?>("--filter") { Description = "Only experiments matching a filter, such as \"name LIKE 'fraud%' AND tags.team = 'risk'\"" };
        var list = new Command("list", "List experiments") { all, filter };
        list.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (experiments, _) = await context.Get<ExperimentService>().SearchAsync(
                    context.Parse.GetValue(all) ? null : LifecycleStage.Active, context.Parse.GetValue(filter), null, ExperimentService.MaxPageSize, null, ct);
                return WriteList(context, experiments);
            },
            async (context, ct) =>
            {
                var query = $"api/experiments?maxResults={ExperimentService.MaxPageSize}&includeDeleted={(context.Parse.GetValue(all) ? "true" : "false")}"
                    + (context.Parse.GetValue(filter) is { } f ? $"&filter={Uri.EscapeDataString(f)}" : "");
                var page = await context.Remote.GetAsync(query, Server.Api.ApiJson.Default.ExperimentPage, ct);
                return WriteList(context, page.Experiments);
            }));
        command.Subcommands.Add(list);
        return command;
    }

    private static int Created(CommandContext context, Experiment experiment)
    {
        if (context.Json)
        {
            context.Console.WriteJson(experiment, CairnJson.Readable.Experiment);
        }
        else
        {
            context.Console.Out.MarkupLineInterpolated($"[green]Created[/] experiment {experiment.Id} '{experiment.Name}'");
        }

        return 0;
    }

    private static int WriteList(CommandContext context, IReadOnlyList<Core.Runs.Experiment> experiments)
    {
        if (context.Json)
        {
            context.Console.WriteJson(experiments, CairnJson.Readable.IReadOnlyListExperiment);
            return 0;
        }

        var table = new Table().AddColumns("id", "name", "stage", "created", "tags");
        foreach (var e in experiments)
        {
            table.AddRow(e.Id, Markup.Escape(e.Name), e.Lifecycle.ToString().ToLowerInvariant(), Format.Time(e.CreatedAt),
                Markup.Escape(string.Join(", ", e.Tags.Select(t => $"{t.Key}={t.Value}"))));
        }

        context.Console.Out.Write(table);
        return 0;
    }
}
