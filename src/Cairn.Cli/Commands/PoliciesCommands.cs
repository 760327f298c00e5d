using System.CommandLine;
using System.Globalization;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Monitoring;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn policies run | runs | show | cancel</c>: the closed loop of monitors with a retraining policy.</summary>
internal static class PoliciesCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("policies", "The closed loop: retrain, gate, canary, then promote or roll back (the server runs policies on their triggers)");

        var deployment = new Argument<string>("deployment") { Description = "The monitored deployment whose policy to run" };
        var remote = JobsCommands.RemoteOption();
        var run = new Command("run", "Run a deployment's policy now: retrain, evaluate, gate and start the canary (a running server watches the canary)") { deployment, remote };
        run.SetAction(app.Handler(async (context, ct) =>
        {
            JobsCommands.RefuseRemoteLocally(context, remote);
            var result = await context.Get<PolicyRunner>().StartAsync(context.Parse.GetValue(deployment)!, "manual", context.Json ? null : new TrainCommand.Progress(context.Console.Out), ct);
            if (context.Json)
            {
                context.Console.WriteJson(result, CairnJson.Readable.PolicyRun);
            }
            else
            {
                context.Console.Out.MarkupLineInterpolated($"Policy run {result.Id}: [bold]{State(result.State)}[/]");
            }

            return result.State is PolicyRunState.Failed ? 1 : 0;
        },
        (context, ct) =>
        {
            JobsCommands.RequireRemote(context, remote, "cairn policies run");
            return JobsCommands.SubmitAsync(context, Core.Jobs.JobKind.Policy, new Dictionary<string, string> { ["deployment"] = context.Parse.GetValue(deployment)! }, ct);
        }));
        command.Subcommands.Add(run);

        var of = new Argument<string?>("deployment") { Description = "Only this deployment's runs", Arity = ArgumentArity.ZeroOrOne };
        var limit = new Option<int>("--limit") { Description = "How many, newest first", DefaultValueFactory = _ => 20 };
        var runs = new Command("runs", "List policy runs, newest first") { of, limit };
        runs.SetAction(app.Handler(
            async (context, ct) => WriteRuns(context, await context.Get<PolicyRunner>().ListAsync(context.Parse.GetValue(of), context.Parse.GetValue(limit), ct)),
            async (context, ct) => WriteRuns(context, await context.Remote.GetAsync(
                $"api/policy-runs?limit={context.Parse.GetValue(limit)}" + (context.Parse.GetValue(of) is { } d ? $"&deployment={Uri.EscapeDataString(d)}" : ""),
                CairnJson.Default.IReadOnlyListPolicyRun, ct))));
        command.Subcommands.Add(runs);

        var id = new Argument<string>("id") { Description = "The policy run's id" };
        var show = new Command("show", "Show a policy run step by step") { id };
        show.SetAction(app.Handler(
            async (context, ct) => WriteRun(context, await context.Get<PolicyRunner>().GetAsync(context.Parse.GetValue(id)!, ct)),
            async (context, ct) => WriteRun(context, await context.Remote.GetAsync($"api/policy-runs/{Uri.EscapeDataString(context.Parse.GetValue(id)!)}", CairnJson.Default.PolicyRun, ct))));
        command.Subcommands.Add(show);

        var cancelled = new Argument<string>("id") { Description = "The policy run's id" };
        var cancel = new Command("cancel", "End a policy run that is still going (a canary it started is taken out of serving)") { cancelled };
        static int Cancelled(CommandContext context, PolicyRun ended)
        {
            context.Console.Out.MarkupLineInterpolated($"Policy run {ended.Id}: {ended.Events[^1].Message}.");
            return 0;
        }

        cancel.SetAction(app.Handler(
            async (context, ct) => Cancelled(context, await context.Get<PolicyRunner>().CancelAsync(context.Parse.GetValue(cancelled)!, ct)),
            async (context, ct) => Cancelled(context, await context.Remote.SendAsync(HttpMethod.Post,
                $"api/policy-runs/{Uri.EscapeDataString(context.Parse.GetValue(cancelled)!)}/cancel", null, CairnJson.Default.PolicyRun, ct))));
        command.Subcommands.Add(cancel);

        foreach (var approve in new[] { true, false })
        {
            var decided = new Argument<string>("id") { Description = "The policy run's id" };
            var comment = new Option<string?>("--comment") { Description = "Why, recorded with the decision" };
            var decide = new Command(approve ? "approve" : "reject", approve
                ? "Approve the step a policy run waits for (its canary, or its promotion); takes maintainer on the model"
                : "Reject the step a policy run waits for: no canary, or the canary is taken out and the champion stays") { decided, comment };
            decide.SetAction(app.Handler(
                async (context, ct) =>
                {
                    var runner = context.Get<PolicyRunner>();
                    var id = context.Parse.GetValue(decided)!;
                    var run = approve
                        ? await runner.ApproveAsync(id, context.Parse.GetValue(comment), ct)
                        : await runner.RejectAsync(id, context.Parse.GetValue(comment), ct);
                    context.Console.Out.MarkupLineInterpolated($"Policy run {run.Id}: {run.Events[^1].Message}.");
                    return 0;
                },
                async (context, ct) =>
                {
                    var path = $"api/policy-runs/{Uri.EscapeDataString(context.Parse.GetValue(decided)!)}/{(approve ? "approve" : "reject")}";
                    var run = await context.Remote.SendAsync(HttpMethod.Post, path, System.Net.Http.Json.JsonContent.Create(
                        new Server.Api.DecisionBody(context.Parse.GetValue(comment)), Server.Api.ApiJson.Default.DecisionBody), CairnJson.Default.PolicyRun, ct);
                    context.Console.Out.MarkupLineInterpolated($"Policy run {run.Id}: {run.Events[^1].Message}.");
                    return 0;
                }));
            command.Subcommands.Add(decide);
        }

        return command;
    }

    private static int WriteRuns(CommandContext context, IReadOnlyList<PolicyRun> found)
    {
        if (context.Json)
        {
            context.Console.WriteJson(found, CairnJson.Readable.IReadOnlyListPolicyRun);
            return 0;
        }

        if (found.Count == 0)
        {
            context.Console.Out.MarkupLine("No policy runs yet. A monitor with a 'policy:' section starts them on its triggers; 'cairn policies run DEPLOYMENT' starts one now.");
            return 0;
        }

        var table = Format.Table(["id"], "id", "started", "deployment", "trigger", "champion", "challenger", "gate", "state");
        foreach (var r in found)
        {
            table.AddRow(r.Id, Format.Time(r.StartedAt), Markup.Escape(r.Deployment), Markup.Escape(r.Trigger), Version(r.Champion), Version(r.Challenger),
                Markup.Escape(r.Gate is { } g ? $"{g.Metric} {Format.Number(g.Champion)} → {Format.Number(g.Challenger)}" : "-"), State(r.State));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static int WriteRun(CommandContext context, PolicyRun found)
    {
        if (context.Json)
        {
            context.Console.WriteJson(found, CairnJson.Readable.PolicyRun);
            return 0;
        }

        var console = context.Console.Out;
        console.MarkupLineInterpolated($"[bold]{found.Id}[/] on {found.Deployment}: {State(found.State)} — {found.Model} champion {Version(found.Champion)}, challenger {Version(found.Challenger)}");
        var table = new Table().AddColumns("at", "step", "what happened");
        foreach (var e in found.Events)
        {
            table.AddRow(Format.Time(e.At), Markup.Escape(e.Step), Markup.Escape(e.Message));
        }

        console.Write(table);
        return 0;
    }

    private static string Version(int? version) => version?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string State(PolicyRunState state) => state switch
    {
        PolicyRunState.Promoted => "[green]promoted[/]",
        PolicyRunState.Failed or PolicyRunState.RolledBack => $"[red]{System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(state.ToString())}[/]",
        _ => state.ToString().ToLowerInvariant(),
    };
}
