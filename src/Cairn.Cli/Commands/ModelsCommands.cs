using System.CommandLine;
using System.Globalization;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Models;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn models register | list | show | set-alias</c>.</summary>
internal static class ModelsCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("models", "Register trained models as versions and point aliases at them");

        var run = new Argument<string>("run") { Description = "The id of a finished training run" };
        var name = new Option<string>("--name") { Description = "The registered model to add a version to", Required = true };
        var alias = new Option<string?>("--alias") { Description = "Point this alias (such as champion) at the new version" };
        var register = new Command("register", "Register a run's model as the next version of a model") { run, name, alias };
        register.SetAction(app.Handler((context, ct) =>
            RegisterAsync(context, context.Parse.GetValue(run)!, context.Parse.GetValue(name)!, context.Parse.GetValue(alias), ct)));
        command.Subcommands.Add(register);

        var list = new Command("list", "List registered models");
        list.SetAction(app.Handler(ListAsync));
        command.Subcommands.Add(list);

        var model = new Argument<string>("model") { Description = "The registered model's name" };
        var show = new Command("show", "Show a model's versions, aliases and signature") { model };
        show.SetAction(app.Handler((context, ct) => ShowAsync(context, context.Parse.GetValue(model)!, ct)));
        command.Subcommands.Add(show);

        var aliasModel = new Argument<string>("model") { Description = "The registered model's name" };
        var aliasName = new Argument<string>("alias") { Description = "The alias, such as champion" };
        var aliasVersion = new Argument<int>("version") { Description = "The version it should point to" };
        var setAlias = new Command("set-alias", "Point an alias at a version") { aliasModel, aliasName, aliasVersion };
        setAlias.SetAction(app.Handler(async (context, ct) =>
        {
            var (m, a, v) = (context.Parse.GetValue(aliasModel)!, context.Parse.GetValue(aliasName)!, context.Parse.GetValue(aliasVersion));
            await context.Get<ModelRegistry>().SetAliasAsync(m, a, v, ct);
            context.Console.Out.MarkupLineInterpolated($"[green]{m}@{a}[/] now points to version {v}");
            return 0;
        }));
        command.Subcommands.Add(setAlias);
        return command;
    }

    private static async Task<int> RegisterAsync(CommandContext context, string runId, string name, string? alias, CancellationToken cancellationToken)
    {
        var version = await context.Get<ModelRegistry>().RegisterAsync(runId, name, alias, cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(version, CairnJson.Readable.ModelVersion);
            return 0;
        }

        var aliases = version.Aliases.Count > 0 ? $" (alias {string.Join(", ", version.Aliases)})" : "";
        context.Console.Out.MarkupLineInterpolated($"[green]Registered[/] {version.Model} version {version.Version}{aliases} from run {version.RunId}");
        return 0;
    }

    private static async Task<int> ListAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var models = await context.Get<ModelRegistry>().ListAsync(cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(models, CairnJson.Readable.IReadOnlyListRegisteredModel);
            return 0;
        }

        if (models.Count == 0)
        {
            context.Console.Out.MarkupLine("No registered models yet. Register a run's model with: cairn models register RUN --name NAME");
            return 0;
        }

        var table = new Table().AddColumns("model", "latest", "aliases", "updated");
        foreach (var m in models)
        {
            table.AddRow(Markup.Escape(m.Name), $"v{m.LatestVersion}", Markup.Escape(Aliases(m.Aliases)), Format.Time(m.UpdatedAt));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static async Task<int> ShowAsync(CommandContext context, string name, CancellationToken cancellationToken)
    {
        var registry = context.Get<ModelRegistry>();
        var model = await registry.GetModelAsync(name, cancellationToken);
        var versions = await registry.ListVersionsAsync(name, cancellationToken);
        if (context.Json)
        {
            context.Console.WriteJson(versions, CairnJson.Readable.IReadOnlyListModelVersion);
            return 0;
        }

        var console = context.Console.Out;
        console.MarkupLineInterpolated($"[bold]{model.Name}[/]  aliases: {Aliases(model.Aliases)}");
        var table = new Table().AddColumns("version", "aliases", "run", "registered");
        foreach (var v in versions)
        {
            table.AddRow(v.Version.ToString(CultureInfo.InvariantCulture), Markup.Escape(string.Join(", ", v.Aliases)), v.RunId, Format.Time(v.CreatedAt));
        }

        console.Write(table);
        var latest = versions[0].Signature;
        var classes = latest.Classes is { } c ? $" classes: {string.Join(", ", c)}" : "";
        console.MarkupLineInterpolated($"Signature of version {versions[0].Version}: {latest.Task.ToString().ToLowerInvariant()} on '{latest.Label}'{classes}");
        var signature = new Table().AddColumns("input", "type", "tensor");
        foreach (var input in latest.Inputs)
        {
            signature.AddRow(Markup.Escape(input.Name), input.Type.ToString().ToLowerInvariant(), input.TensorType == TensorType.Fp32 ? "FP32" : "BYTES");
        }

        console.Write(signature);
        console.MarkupLineInterpolated($"Outputs: {string.Join(", ", latest.Outputs.Select(o => o.Name))}");
        return 0;
    }

    private static string Aliases(IReadOnlyDictionary<string, int> aliases) =>
        aliases.Count == 0 ? "-" : string.Join(", ", aliases.Select(a => $"{a.Key} → v{a.Value}"));
}
