using System.CommandLine;
using System.Net.Http.Json;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Models;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn deploy</c> and <c>cairn deployments list | show | update | delete</c>.</summary>
internal static class DeploymentsCommands
{
    /// <summary><c>cairn deploy NAME --model M@alias</c>.</summary>
    public static Command CreateDeploy(CliApp app)
    {
        var name = NameArgument();
        var model = new Option<string>("--model") { Description = "The model that answers: NAME@alias (followed as the alias moves) or NAME@VERSION", Required = true };
        var options = new SpecOptions();
        var command = new Command("deploy", "Create a deployment: a named endpoint that serves a model, with an optional canary and shadow") { name, model };
        options.AddTo(command);
        DeploymentSpec Spec(CommandContext context) => options.Apply(context, new DeploymentSpec { Model = ModelRef.Parse(context.Parse.GetValue(model)!) });
        command.SetAction(app.Handler(
            async (context, ct) => Written(context, await context.Get<DeploymentService>().CreateAsync(context.Parse.GetValue(name)!, Spec(context), ct), "Deployed"),
            async (context, ct) => Written(context, await context.Remote.SendAsync(HttpMethod.Post, ApiPath(context.Parse.GetValue(name)!),
                JsonContent.Create(Spec(context), CairnJson.Default.DeploymentSpec), CairnJson.Default.Deployment, ct), "Deployed")));
        return command;
    }

    /// <summary><c>cairn deployments …</c>.</summary>
    public static Command Create(CliApp app)
    {
        var command = new Command("deployments", "List, show, change and delete deployments; servers pick changes up within a second");

        var list = new Command("list", "List deployments");
        list.SetAction(app.Handler(
            async (context, ct) => WriteList(context, await context.Get<DeploymentService>().ListAsync(ct)),
            async (context, ct) => WriteList(context, await context.Remote.GetAsync("api/deployments?stored=true", CairnJson.Default.IReadOnlyListDeployment, ct))));
        command.Subcommands.Add(list);

        var shown = NameArgument();
        var show = new Command("show", "Show a deployment and the versions its references resolve to now") { shown };
        show.SetAction(app.Handler(
            async (context, ct) =>
            {
                var service = context.Get<DeploymentService>();
                var deployment = await service.GetAsync(context.Parse.GetValue(shown)!, ct);
                return WriteShown(context, deployment, context.Json ? [] : await service.ResolveAsync(deployment.Spec, ct));
            },
            async (context, ct) =>
            {
                var path = ApiPath(context.Parse.GetValue(shown)!);
                var deployment = await context.Remote.GetAsync(path + "?stored=true", CairnJson.Default.Deployment, ct);
                return WriteShown(context, deployment, context.Json ? [] : await context.Remote.GetAsync(path + "/versions", CairnJson.Default.IReadOnlyListModelVersion, ct));
            }));
        command.Subcommands.Add(show);

        var updated = NameArgument();
        var model = new Option<string?>("--model") { Description = "A new model reference (NAME@alias or NAME@VERSION)" };
        var noCanary = new Option<bool>("--no-canary") { Description = "Remove the canary: the model answers every request" };
        var noShadow = new Option<bool>("--no-shadow") { Description = "Remove the shadow" };
        var promote = new Option<bool>("--promote-canary") { Description = "Make the canary the model and remove the canary" };
        var options = new SpecOptions();
        var update = new Command("update", "Change a deployment; servers load and warm new versions, then switch without failing a request")
        {
            updated, model, noCanary, noShadow, promote,
        };
        options.AddTo(update);
        DeploymentSpec Change(CommandContext context, DeploymentSpec spec)
        {
            if (context.Parse.GetValue(promote))
            {
                spec = spec.PromoteCanary();
            }

            if (context.Parse.GetValue(model) is { } reference)
            {
                spec = spec with { Model = ModelRef.Parse(reference) };
            }

            if (context.Parse.GetValue(noCanary))
            {
                spec = spec with { Canary = null, CanaryPercent = 0 };
            }

            if (context.Parse.GetValue(noShadow))
            {
                spec = spec with { Shadow = null };
            }

            return options.Apply(context, spec);
        }

        update.SetAction(app.Handler(
            async (context, ct) => Written(context, await context.Get<DeploymentService>().UpdateAsync(context.Parse.GetValue(updated)!, spec => Change(context, spec), ct), "Updated"),
            async (context, ct) =>
            {
                // Changed from what was read, and refused if someone else changed it in between.
                var path = ApiPath(context.Parse.GetValue(updated)!);
                var current = await context.Remote.GetAsync(path + "?stored=true", CairnJson.Default.Deployment, ct);
                var changed = await context.Remote.SendAsync(HttpMethod.Put, $"{path}?revision={current.Revision}",
                    JsonContent.Create(Change(context, current.Spec), CairnJson.Default.DeploymentSpec), CairnJson.Default.Deployment, ct);
                return Written(context, changed, "Updated");
            }));
        command.Subcommands.Add(update);

        var deleted = NameArgument();
        var delete = new Command("delete", "Delete a deployment; servers stop serving it") { deleted };
        delete.SetAction(app.Handler(
            (context, ct) => Deleted(context, context.Get<DeploymentService>().DeleteAsync(context.Parse.GetValue(deleted)!, ct)),
            (context, ct) => Deleted(context, context.Remote.SendAsync(HttpMethod.Delete, ApiPath(context.Parse.GetValue(deleted)!), null, ct))));
        command.Subcommands.Add(delete);
        return command;

        async Task<int> Deleted(CommandContext context, Task deleting)
        {
            await deleting;
            var target = context.Parse.GetValue(deleted)!;
            if (!context.Json)
            {
                context.Console.Out.MarkupLineInterpolated($"[green]Deleted deployment {target}[/]");
            }

            return 0;
        }
    }

    private static string ApiPath(string deployment) => $"api/deployments/{Uri.EscapeDataString(deployment)}";

    private static int WriteList(CommandContext context, IReadOnlyList<Deployment> deployments)
    {
        if (context.Json)
        {
            context.Console.WriteJson(deployments, CairnJson.Readable.IReadOnlyListDeployment);
            return 0;
        }

        if (deployments.Count == 0)
        {
            context.Console.Out.MarkupLine("No deployments yet. Create one with: cairn deploy NAME --model MODEL@champion");
            return 0;
        }

        var table = new Table().AddColumns("deployment", "model", "canary", "shadow", "revision", "updated");
        foreach (var d in deployments)
        {
            var spec = d.Spec;
            table.AddRow(Markup.Escape(d.Name), Markup.Escape(spec.Model.ToString()),
                Markup.Escape(spec.Canary is { } canary ? $"{canary} ({spec.CanaryPercent}%)" : "-"), Markup.Escape(spec.Shadow?.ToString() ?? "-"),
                d.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Time(d.UpdatedAt));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static int WriteShown(CommandContext context, Deployment deployment, IReadOnlyList<ModelVersion> versions)
    {
        if (context.Json)
        {
            context.Console.WriteJson(deployment, CairnJson.Readable.Deployment);
            return 0;
        }

        var spec = deployment.Spec;
        var console = context.Console.Out;
        console.MarkupLineInterpolated($"[bold]{deployment.Name}[/]  revision {deployment.Revision}, updated {Format.Time(deployment.UpdatedAt)} by {deployment.UpdatedBy}");
        var table = new Table().AddColumns("role", "reference", "resolves to", "traffic");
        var roles = new List<(string Role, ModelRef Reference, string Traffic)> { ("model", spec.Model, $"{100 - spec.CanaryPercent}%") };
        if (spec.Canary is { } canary)
        {
            roles.Add(("canary", canary, $"{spec.CanaryPercent}%"));
        }

        if (spec.Shadow is { } shadow)
        {
            roles.Add(("shadow", shadow, "copy of all, answers not returned"));
        }

        foreach (var ((role, reference, traffic), version) in roles.Zip(versions))
        {
            table.AddRow(role, Markup.Escape(reference.ToString()), $"{Markup.Escape(version.Model)}@{version.Version}", traffic);
        }

        console.Write(table);
        console.MarkupLineInterpolated(
            $"Batching: up to {spec.Batching.MaxBatchRows} rows per model call, waiting at most {spec.Batching.MaxDelay.TotalMilliseconds} ms. Limits: {spec.Limits.MaxQueuedRequests} queued requests and {spec.Limits.MaxQueuedBytes >> 20} MiB of request bodies per version, {spec.Limits.Timeout.TotalMilliseconds} ms per request.");
        return 0;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The deployment's name" };

    private static int Written(CommandContext context, Deployment deployment, string verb)
    {
        if (context.Json)
        {
            context.Console.WriteJson(deployment, CairnJson.Readable.Deployment);
            return 0;
        }

        var spec = deployment.Spec;
        var canary = spec.Canary is { } c ? $", canary {c} on {spec.CanaryPercent}%" : "";
        var shadow = spec.Shadow is { } s ? $", shadow {s}" : "";
        context.Console.Out.MarkupLineInterpolated($"[green]{verb}[/] {deployment.Name} (revision {deployment.Revision}): {spec.Model}{canary}{shadow}");
        context.Console.Out.MarkupLineInterpolated($"Serve it with: cairn serve   (then POST /v2/models/{deployment.Name}/infer or /api/deployments/{deployment.Name}/invocations)");
        return 0;
    }

    // The options deploy and update share: canary, shadow, batching and limits. Unset options leave the spec as it is.
    private sealed class SpecOptions
    {
        private readonly Option<string?> _canary = new("--canary") { Description = "A second model that answers --percent of requests" };
        private readonly Option<int?> _percent = new("--percent") { Description = "The share of requests (1-99) the canary answers (default 10)" };
        private readonly Option<string?> _shadow = new("--shadow") { Description = "A model that scores a copy of every request; its answers are compared, never returned" };
        private readonly Option<int?> _maxBatchRows = new("--max-batch-rows") { Description = "The most rows one model call scores (default 256)" };
        private readonly Option<double?> _batchDelay = new("--batch-delay-ms") { Description = "How long a request may wait for others to batch with (default 0: batch only what is already queued)" };
        private readonly Option<int?> _maxQueue = new("--max-queue") { Description = "Requests waiting per version before more are refused with 429 (default 512)" };
        private readonly Option<int?> _maxQueueMib = new("--max-queue-mib") { Description = "Request bodies in hand per version, in MiB, before more are refused with 429 unread (default 4)" };
        private readonly Option<double?> _timeout = new("--timeout-ms") { Description = "How long a request may wait before it is answered 503 (default 10000)" };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { _canary, _percent, _shadow, _maxBatchRows, _batchDelay, _maxQueue, _maxQueueMib, _timeout })
            {
                command.Options.Add(option);
            }
        }

        public DeploymentSpec Apply(CommandContext context, DeploymentSpec spec)
        {
            var parse = context.Parse;
            if (parse.GetValue(_canary) is { } canary)
            {
                spec = spec with { Canary = ModelRef.Parse(canary), CanaryPercent = parse.GetValue(_percent) ?? 10 };
            }
            else if (parse.GetValue(_percent) is { } percent)
            {
                spec = spec with { CanaryPercent = percent };
            }

            if (parse.GetValue(_shadow) is { } shadow)
            {
                spec = spec with { Shadow = ModelRef.Parse(shadow) };
            }

            var batching = spec.Batching;
            batching = parse.GetValue(_maxBatchRows) is { } rows ? batching with { MaxBatchRows = rows } : batching;
            batching = parse.GetValue(_batchDelay) is { } delay ? batching with { MaxDelay = TimeSpan.FromMilliseconds(delay) } : batching;
            var limits = spec.Limits;
            limits = parse.GetValue(_maxQueue) is { } queue ? limits with { MaxQueuedRequests = queue } : limits;
            limits = parse.GetValue(_maxQueueMib) is { } mib ? limits with { MaxQueuedBytes = mib * (1L << 20) } : limits;
            limits = parse.GetValue(_timeout) is { } timeout ? limits with { Timeout = TimeSpan.FromMilliseconds(timeout) } : limits;
            return spec with { Batching = batching, Limits = limits };
        }
    }
}
