using System.CommandLine;
using System.Globalization;
using Cairn.Application;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Models;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn models register | import | evaluate | create | list | show | set-alias | delete-alias | update | rename | tag | untag | delete</c>.</summary>
internal static class ModelsCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("models", "Register trained models as versions, describe, tag, rename and delete them, and point aliases at them");

        var run = new Argument<string>("run") { Description = "The id of a finished training run" };
        var name = new Option<string>("--name") { Description = "The registered model to add a version to", Required = true };
        var alias = new Option<string?>("--alias") { Description = "Point this alias (such as champion) at the new version" };
        var register = new Command("register", "Register a run's model as the next version of a model") { run, name, alias };
        register.SetAction(app.Handler(
            (context, ct) => RegisterAsync(context, context.Parse.GetValue(run)!, context.Parse.GetValue(name)!, context.Parse.GetValue(alias), ct),
            async (context, ct) =>
            {
                var body = new Server.Api.CreateVersionBody(context.Parse.GetValue(run), null, context.Parse.GetValue(alias), null, null, null);
                return Registered(context, await context.Remote.SendAsync(HttpMethod.Post, $"api/models/{Uri.EscapeDataString(context.Parse.GetValue(name)!)}/versions",
                    System.Net.Http.Json.JsonContent.Create(body, Server.Api.ApiJson.Default.CreateVersionBody), CairnJson.Default.ModelVersion, ct));
            }));
        command.Subcommands.Add(register);

        var file = new Argument<string>("file") { Description = "An ONNX model file (from scikit-learn with zipmap disabled, PyTorch, …), an XGBoost JSON model or a LightGBM text model" };
        var importName = new Option<string>("--name") { Description = "The registered model to add a version to", Required = true };
        var importAlias = new Option<string?>("--alias") { Description = "Point this alias at the new version" };
        var task = new Option<string?>("--task") { Description = "binary, multiclass or regression (default: read from the outputs)" };
        var label = new Option<string>("--label") { Description = "The name of the column the model predicts", DefaultValueFactory = _ => "label" };
        var classes = new Option<string?>("--classes") { Description = "Class names in output order, comma-separated (default: 0, 1, …)" };
        var features = new Option<string?>("--features") { Description = "Names for the columns of a single [rows, features] input, comma-separated (default: f0, f1, …)" };
        var import = new Command("import", "Register a model trained elsewhere (ONNX, XGBoost JSON, LightGBM text); its signature is read from the graph or the model")
        {
            file, importName, importAlias, task, label, classes, features,
        };
        import.SetAction(app.Handler(
            async (context, ct) =>
            {
                var options = Core.Models.ImportOptions.Parse(context.Parse.GetValue(task), context.Parse.GetValue(label), context.Parse.GetValue(classes), context.Parse.GetValue(features));
                var version = await context.Get<ModelImporter>().ImportAsync(context.ResolvePath(context.Parse.GetValue(file)!), context.Parse.GetValue(importName)!,
                    context.Parse.GetValue(importAlias), options, ct);
                return Imported(context, await context.Get<ModelLoader>().RecordEngineAsync(version, ct));
            },
            async (context, ct) =>
            {
                // The model file is checked here first (it exists), then streamed to the server, which reads and registers it.
                _ = Core.Models.ImportOptions.Parse(context.Parse.GetValue(task), context.Parse.GetValue(label), context.Parse.GetValue(classes), context.Parse.GetValue(features));
                var path = context.ResolvePath(context.Parse.GetValue(file)!);
                if (!File.Exists(path))
                {
                    throw CairnException.NotFound($"Model file '{path}' does not exist.");
                }

                var query = string.Concat(new[] { ("file", (string?)Path.GetFileName(path)), ("alias", context.Parse.GetValue(importAlias)), ("task", context.Parse.GetValue(task)),
                    ("label", context.Parse.GetValue(label)), ("classes", context.Parse.GetValue(classes)), ("features", context.Parse.GetValue(features)) }
                    .Where(p => p.Item2 is not null).Select((p, i) => $"{(i == 0 ? '?' : '&')}{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
                await using var model = File.OpenRead(path);
                using var content = new StreamContent(model);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
                return Imported(context, await context.Remote.SendAsync(HttpMethod.Post, $"api/models/{Uri.EscapeDataString(context.Parse.GetValue(importName)!)}/import{query}",
                    content, CairnJson.Default.ModelVersion, ct));
            }));
        command.Subcommands.Add(import);

        var evaluated = new Argument<string>("model") { Description = "NAME, NAME@alias, NAME@VERSION or a training run id" };
        var evaluationData = new Option<string>("--dataset") { Description = "The dataset version to evaluate on (NAME or NAME@VERSION); it needs the label column", Required = true };
        var slices = new Option<string[]>("--slice") { Description = "Break the metrics down by this column (repeatable)", AllowMultipleArgumentsPerToken = true };
        var remoteEvaluation = JobsCommands.RemoteOption();
        var evaluate = new Command("evaluate", "Evaluate a model on a dataset version; the result is recorded as a run with an HTML report")
        {
            evaluated, evaluationData, slices, remoteEvaluation,
        };
        evaluate.SetAction(app.Handler(async (context, ct) =>
        {
            JobsCommands.RefuseRemoteLocally(context, remoteEvaluation);
            var outcome = await context.Get<EvaluationService>().EvaluateAsync(context.Parse.GetValue(evaluated)!,
                Core.Data.DatasetRef.Parse(context.Parse.GetValue(evaluationData)!), new Core.Evaluation.EvaluationOptions(context.Parse.GetValue(slices) ?? []), ct);
            if (context.Json)
            {
                context.Console.WriteJson(outcome.Run, CairnJson.Readable.Run);
                return 0;
            }

            context.Console.Out.MarkupLineInterpolated($"Evaluated {outcome.Run.Params["model"]} on {outcome.Run.Params["dataset"]} ({outcome.Report.Rows:N0} labelled rows)");
            TrainCommand.WriteSummary(context.Console.Out, outcome.Run);
            context.Console.Out.MarkupLineInterpolated($"Report: [bold]cairn runs report {outcome.Run.Id}[/]");
            return 0;
        },
        (context, ct) =>
        {
            JobsCommands.RequireRemote(context, remoteEvaluation, "cairn models evaluate");
            var arguments = new Dictionary<string, string>
            {
                ["model"] = context.Parse.GetValue(evaluated)!,
                ["dataset"] = context.Parse.GetValue(evaluationData)!,
            };
            if (context.Parse.GetValue(slices) is { Length: > 0 } chosen)
            {
                arguments["slices"] = string.Join(',', chosen);
            }

            return JobsCommands.SubmitAsync(context, Core.Jobs.JobKind.Evaluate, arguments, ct);
        }));
        command.Subcommands.Add(evaluate);

        var newModel = ModelArgument();
        var description = new Option<string?>("--description") { Description = "What the model is for" };
        var create = new Command("create", "Create a registered model before its first version") { newModel, description };
        create.SetAction(app.Handler(
            async (context, ct) =>
            {
                var model = await context.Get<ModelRegistry>().CreateModelAsync(context.Parse.GetValue(newModel), context.Parse.GetValue(description), [], ct);
                return Done(context, $"Created registered model '{model.Name}'");
            },
            async (context, ct) =>
            {
                var body = new Server.Api.CreateModelBody(context.Parse.GetValue(newModel), context.Parse.GetValue(description), null);
                var model = await context.Remote.SendAsync(HttpMethod.Post, "api/models", Json(body, Server.Api.ApiJson.Default.CreateModelBody), CairnJson.Default.RegisteredModel, ct);
                return Done(context, $"Created registered model '{model.Name}'");
            }));
        command.Subcommands.Add(create);

        var filter = new Option<string?>("--filter") { Description = "Only models matching a filter, such as \"name LIKE 'fraud%' AND tags.team = 'risk'\"" };
        var list = new Command("list", "List registered models") { filter };
        list.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (models, _) = await context.Get<ModelRegistry>().SearchModelsAsync(context.Parse.GetValue(filter), null, ModelRegistry.MaxPageSize, null, ct);
                return WriteList(context, models, context.Parse.GetValue(filter));
            },
            async (context, ct) =>
            {
                var query = $"api/models?maxResults={ModelRegistry.MaxPageSize}" + (context.Parse.GetValue(filter) is { } f ? $"&filter={Uri.EscapeDataString(f)}" : "");
                var page = await context.Remote.GetAsync(query, Server.Api.ApiJson.Default.ModelPage, ct);
                return WriteList(context, page.Models, context.Parse.GetValue(filter));
            }));
        command.Subcommands.Add(list);

        var shown = ModelArgument();
        var show = new Command("show", "Show a model's versions, aliases, tags and signature") { shown };
        show.SetAction(app.Handler(
            async (context, ct) =>
            {
                var registry = context.Get<ModelRegistry>();
                var name = context.Parse.GetValue(shown)!;
                return WriteModel(context, await registry.GetModelAsync(name, ct), await registry.ListVersionsAsync(name, ct));
            },
            async (context, ct) =>
            {
                var path = $"api/models/{Uri.EscapeDataString(context.Parse.GetValue(shown)!)}";
                return WriteModel(context, await context.Remote.GetAsync(path, CairnJson.Default.RegisteredModel, ct),
                    await context.Remote.GetAsync(path + "/versions", CairnJson.Default.IReadOnlyListModelVersion, ct));
            }));
        command.Subcommands.Add(show);

        var aliasModel = ModelArgument();
        var aliasName = new Argument<string>("alias") { Description = "The alias, such as champion" };
        var aliasVersion = new Argument<int>("version") { Description = "The version it should point to (2 or v2)", CustomParser = ParseVersion };
        var setAlias = new Command("set-alias", "Point an alias at a version") { aliasModel, aliasName, aliasVersion };
        setAlias.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (m, a, v) = (context.Parse.GetValue(aliasModel)!, context.Parse.GetValue(aliasName)!, context.Parse.GetValue(aliasVersion));
                await context.Get<ModelRegistry>().SetAliasAsync(m, a, v, ct);
                return Done(context, $"{m}@{a} now points to version {v}");
            },
            async (context, ct) =>
            {
                var (m, a, v) = (context.Parse.GetValue(aliasModel)!, context.Parse.GetValue(aliasName)!, context.Parse.GetValue(aliasVersion));
                await context.Remote.SendAsync(HttpMethod.Put, $"api/models/{Uri.EscapeDataString(m)}/aliases/{Uri.EscapeDataString(a)}",
                    System.Net.Http.Json.JsonContent.Create(new Server.Api.AliasBody(v), Server.Api.ApiJson.Default.AliasBody), ct);
                return Done(context, $"{m}@{a} now points to version {v}");
            }));
        command.Subcommands.Add(setAlias);

        var unaliasModel = ModelArgument();
        var unaliasName = new Argument<string>("alias") { Description = "The alias to remove" };
        var deleteAlias = new Command("delete-alias", "Remove an alias") { unaliasModel, unaliasName };
        deleteAlias.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (m, a) = (context.Parse.GetValue(unaliasModel)!, context.Parse.GetValue(unaliasName)!);
                await context.Get<ModelRegistry>().DeleteAliasAsync(m, a, ct);
                return Done(context, $"Removed alias {m}@{a}");
            },
            async (context, ct) =>
            {
                var (m, a) = (context.Parse.GetValue(unaliasModel)!, context.Parse.GetValue(unaliasName)!);
                await context.Remote.SendAsync(HttpMethod.Delete, $"{ModelPath(m)}/aliases/{Uri.EscapeDataString(a)}", null, ct);
                return Done(context, $"Removed alias {m}@{a}");
            }));
        command.Subcommands.Add(deleteAlias);

        var updated = ModelArgument();
        var newDescription = new Option<string>("--description") { Description = "The new description", Required = true };
        var updateVersion = VersionOption("Describe this version instead of the model");
        var update = new Command("update", "Change the description of a model or one of its versions") { updated, newDescription, updateVersion };
        update.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (m, d, v) = (context.Parse.GetValue(updated)!, context.Parse.GetValue(newDescription), context.Parse.GetValue(updateVersion));
                var registry = context.Get<ModelRegistry>();
                await (v is { } version ? registry.UpdateVersionAsync(m, version, d, ct) : registry.UpdateModelAsync(m, d, ct));
                return Done(context, $"Updated the description of {(v is { } n ? $"{m}@{n}" : m)}");
            },
            async (context, ct) =>
            {
                var (m, d, v) = (context.Parse.GetValue(updated)!, context.Parse.GetValue(newDescription), context.Parse.GetValue(updateVersion));
                using var body = v is { } ? Json(new Server.Api.UpdateVersionBody(d, null, null), Server.Api.ApiJson.Default.UpdateVersionBody)
                    : Json(new Server.Api.UpdateModelBody(null, d), Server.Api.ApiJson.Default.UpdateModelBody);
                await context.Remote.SendAsync(HttpMethod.Patch, v is { } version ? $"{ModelPath(m)}/versions/{version}" : ModelPath(m), body, ct);
                return Done(context, $"Updated the description of {(v is { } n ? $"{m}@{n}" : m)}");
            }));
        command.Subcommands.Add(update);

        var renamed = ModelArgument();
        var renamedTo = new Argument<string>("new-name") { Description = "The model's new name" };
        var rename = new Command("rename", "Rename a model; its versions, aliases and tags move with it") { renamed, renamedTo };
        rename.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (m, to) = (context.Parse.GetValue(renamed)!, context.Parse.GetValue(renamedTo)!);
                await context.Get<ModelRegistry>().RenameModelAsync(m, to, ct);
                return Done(context, $"Renamed '{m}' to '{to}'");
            },
            async (context, ct) =>
            {
                var (m, to) = (context.Parse.GetValue(renamed)!, context.Parse.GetValue(renamedTo)!);
                await context.Remote.SendAsync(HttpMethod.Patch, ModelPath(m), Json(new Server.Api.UpdateModelBody(to, null), Server.Api.ApiJson.Default.UpdateModelBody), ct);
                return Done(context, $"Renamed '{m}' to '{to}'");
            }));
        command.Subcommands.Add(rename);

        var tagged = ModelArgument();
        var tagKey = new Argument<string>("key") { Description = "The tag key" };
        var tagValue = new Argument<string>("value") { Description = "The tag value" };
        var tagVersion = VersionOption("Tag this version instead of the model");
        var tag = new Command("tag", "Set a tag on a model or one of its versions") { tagged, tagKey, tagValue, tagVersion };
        tag.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (m, k, v) = (context.Parse.GetValue(tagged)!, context.Parse.GetValue(tagKey)!, context.Parse.GetValue(tagVersion));
                await context.Get<ModelRegistry>().SetTagAsync(m, v, k, context.Parse.GetValue(tagValue), ct);
                return Done(context, $"Tagged {(v is { } n ? $"{m}@{n}" : m)} with {k}");
            },
            async (context, ct) =>
            {
                var (m, k, v) = (context.Parse.GetValue(tagged)!, context.Parse.GetValue(tagKey)!, context.Parse.GetValue(tagVersion));
                await context.Remote.SendAsync(HttpMethod.Put, TagPath(m, v, k), Json(new Server.Api.TagBody(context.Parse.GetValue(tagValue)), Server.Api.ApiJson.Default.TagBody), ct);
                return Done(context, $"Tagged {(v is { } n ? $"{m}@{n}" : m)} with {k}");
            }));
        command.Subcommands.Add(tag);

        var untagged = ModelArgument();
        var untagKey = new Argument<string>("key") { Description = "The tag key to remove" };
        var untagVersion = VersionOption("Remove the tag from this version instead of the model");
        var untag = new Command("untag", "Remove a tag from a model or one of its versions") { untagged, untagKey, untagVersion };
        untag.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (m, k, v) = (context.Parse.GetValue(untagged)!, context.Parse.GetValue(untagKey)!, context.Parse.GetValue(untagVersion));
                await context.Get<ModelRegistry>().DeleteTagAsync(m, v, k, ct);
                return Done(context, $"Removed tag {k} from {(v is { } n ? $"{m}@{n}" : m)}");
            },
            async (context, ct) =>
            {
                var (m, k, v) = (context.Parse.GetValue(untagged)!, context.Parse.GetValue(untagKey)!, context.Parse.GetValue(untagVersion));
                await context.Remote.SendAsync(HttpMethod.Delete, TagPath(m, v, k), null, ct);
                return Done(context, $"Removed tag {k} from {(v is { } n ? $"{m}@{n}" : m)}");
            }));
        command.Subcommands.Add(untag);

        var deleted = ModelArgument();
        var deleteVersion = VersionOption("Delete only this version");
        var delete = new Command("delete", "Delete a model with all its versions, or one version") { deleted, deleteVersion };
        delete.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (m, v) = (context.Parse.GetValue(deleted)!, context.Parse.GetValue(deleteVersion));
                var registry = context.Get<ModelRegistry>();
                await (v is { } version ? registry.DeleteVersionAsync(m, version, ct) : registry.DeleteModelAsync(m, ct));
                return Done(context, v is { } n ? $"Deleted {m}@{n}" : $"Deleted model '{m}' and all its versions");
            },
            async (context, ct) =>
            {
                var (m, v) = (context.Parse.GetValue(deleted)!, context.Parse.GetValue(deleteVersion));
                await context.Remote.SendAsync(HttpMethod.Delete, v is { } version ? $"{ModelPath(m)}/versions/{version}" : ModelPath(m), null, ct);
                return Done(context, v is { } n ? $"Deleted {m}@{n}" : $"Deleted model '{m}' and all its versions");
            }));
        command.Subcommands.Add(delete);
        return command;
    }

    private static string ModelPath(string model) => $"api/models/{Uri.EscapeDataString(model)}";

    private static string TagPath(string model, int? version, string key) =>
        $"{ModelPath(model)}{(version is { } v ? $"/versions/{v}" : "")}/tags/{Uri.EscapeDataString(key)}";

    private static System.Net.Http.Json.JsonContent Json<T>(T body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        System.Net.Http.Json.JsonContent.Create(body, type);

    private static Argument<string> ModelArgument() => new("model") { Description = "The registered model's name" };

    private static Option<int?> VersionOption(string description) => new("--version") { Description = $"{description} (2 or v2)", CustomParser = r => ParseVersion(r) };

    // Versions are typed as lists show them (v2) or as bare numbers, by the one rule every surface uses.
    private static int ParseVersion(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (VersionNumber.TryParse(text, out var version))
        {
            return version;
        }

        result.AddError($"'{text}' is not a version number; give one such as 2 or v2.");
        return 0;
    }

    private static int Done(CommandContext context, string message)
    {
        if (context.Json)
        {
            context.Console.WriteJson(new Dictionary<string, string> { ["result"] = message }, CairnJson.Readable.DictionaryStringString);
        }
        else
        {
            context.Console.Out.MarkupLineInterpolated($"[green]{message}[/]");
        }

        return 0;
    }

    // Which engine will answer for the version, and why not the compiled one when it is not.
    private static void WriteEngine(CommandContext context, Core.Models.ModelVersion version)
    {
        var engine = version.Tags.GetValueOrDefault(ModelLoader.EngineTag);
        var why = version.Tags.GetValueOrDefault(ModelLoader.NotCompiledTag);
        if (engine is not null)
        {
            context.Console.Out.MarkupLineInterpolated($"Scored by: {engine}{(why is null ? "" : $" ({why})")}");
        }
    }

    private static int Imported(CommandContext context, Core.Models.ModelVersion version)
    {
        if (context.Json)
        {
            context.Console.WriteJson(version, CairnJson.Readable.ModelVersion);
            return 0;
        }

        var signature = version.RequirePackage().Signature;
        context.Console.Out.MarkupLineInterpolated(
            $"Imported {version.Model} version {version.Version}: {signature.Task.ToString().ToLowerInvariant()}, inputs {string.Join(", ", signature.Inputs.Select(i => i.Name))}");
        WriteEngine(context, version);
        return 0;
    }

    private static async Task<int> RegisterAsync(CommandContext context, string runId, string name, string? alias, CancellationToken cancellationToken)
    {
        var version = await context.Get<ModelRegistry>().RegisterAsync(await context.Get<RunService>().ResolveIdAsync(runId, cancellationToken), name, alias, cancellationToken);
        return Registered(context, await context.Get<ModelLoader>().RecordEngineAsync(version, cancellationToken));
    }

    private static int Registered(CommandContext context, Core.Models.ModelVersion version)
    {
        if (context.Json)
        {
            context.Console.WriteJson(version, CairnJson.Readable.ModelVersion);
            return 0;
        }

        var aliases = version.Aliases.Count > 0 ? $" (alias {string.Join(", ", version.Aliases)})" : "";
        context.Console.Out.MarkupLineInterpolated($"[green]Registered[/] {version.Model} version {version.Version}{aliases} from run {version.RunId}");
        WriteEngine(context, version);
        return 0;
    }

    private static int WriteList(CommandContext context, IReadOnlyList<Core.Models.RegisteredModel> models, string? filter)
    {
        if (context.Json)
        {
            context.Console.WriteJson(models, CairnJson.Readable.IReadOnlyListRegisteredModel);
            return 0;
        }

        if (models.Count == 0)
        {
            context.Console.Out.MarkupLine(filter is null
                ? "No registered models yet. Register a run's model with: cairn models register RUN --name NAME"
                : "No registered model matches the filter.");
            return 0;
        }

        var table = new Table().AddColumns("model", "latest", "aliases", "tags", "updated", "description");
        foreach (var m in models)
        {
            table.AddRow(Markup.Escape(m.Name), m.LatestVersion > 0 ? $"v{m.LatestVersion}" : "-", Markup.Escape(Aliases(m.Aliases)), Markup.Escape(Tags(m.Tags)),
                Format.Time(m.UpdatedAt), Markup.Escape(m.Description ?? ""));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static int WriteModel(CommandContext context, Core.Models.RegisteredModel model, IReadOnlyList<Core.Models.ModelVersion> versions)
    {
        if (context.Json)
        {
            context.Console.WriteJson(versions, CairnJson.Readable.IReadOnlyListModelVersion);
            return 0;
        }

        var console = context.Console.Out;
        console.MarkupLineInterpolated($"[bold]{model.Name}[/]  aliases: {Aliases(model.Aliases)}  tags: {Tags(model.Tags)}");
        if (model.Description is { } description)
        {
            console.MarkupLineInterpolated($"{description}");
        }

        if (versions.Count == 0)
        {
            console.MarkupLine("No versions yet.");
            return 0;
        }

        var table = new Table().AddColumns("version", "aliases", "stage", "source", "registered", "tags", "description");
        foreach (var v in versions)
        {
            table.AddRow(v.Version.ToString(CultureInfo.InvariantCulture), Markup.Escape(string.Join(", ", v.Aliases)), v.Stage.ToString(), Markup.Escape(v.Source),
                Format.Time(v.CreatedAt), Markup.Escape(Tags(v.Tags)), Markup.Escape(v.Description ?? ""));
        }

        console.Write(table);
        if (versions[0].Package is not { Signature: var latest })
        {
            console.MarkupLineInterpolated($"Version {versions[0].Version} holds no model Cairn can serve.");
            return 0;
        }

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

    private static string Tags(IReadOnlyDictionary<string, string> tags) =>
        tags.Count == 0 ? "-" : string.Join(", ", tags.Select(t => $"{t.Key}={t.Value}"));
}
