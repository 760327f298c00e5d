using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Ports;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn events</c>: the audit log, newest first.</summary>
internal static class EventsCommand
{
    public static Command Create(CliApp app)
    {
        var limit = new Option<int>("--limit") { Description = "How many events to show", DefaultValueFactory = _ => 50 };
        var user = new Option<string?>("--user") { Description = "Only what this user or service account did (through any of its tokens)" };
        var kind = new Option<string?>("--kind") { Description = "Only events whose kind starts with this (model., deployment., policy.approved)" };
        var since = new Option<string?>("--since") { Description = "Only events at or after this date or ISO 8601 time (UTC unless it says otherwise)" };
        var until = new Option<string?>("--until") { Description = "Only events before this time; a bare date includes its whole day" };
        var command = new Command("events", "Show the audit log: who changed which dataset, run, experiment, model or grant, and when") { limit, user, kind, since, until };
        command.SetAction(app.Handler(
            async (context, ct) =>
            {
                var query = new AuditQuery(context.Parse.GetValue(limit), context.Parse.GetValue(user), context.Parse.GetValue(kind),
                    AuditQuery.ParseTime(context.Parse.GetValue(since), "--since"), AuditQuery.ParseTime(context.Parse.GetValue(until), "--until", upper: true));
                return Write(context, await context.Get<AuditLog>().ListAsync(query, ct));
            },
            async (context, ct) =>
            {
                // Times are checked here, so a bad one names the option as it does locally.
                AuditQuery.ParseTime(context.Parse.GetValue(since), "--since");
                AuditQuery.ParseTime(context.Parse.GetValue(until), "--until", upper: true);
                var query = $"api/events?limit={context.Parse.GetValue(limit)}" + string.Concat(
                    new[] { ("user", context.Parse.GetValue(user)), ("kind", context.Parse.GetValue(kind)), ("since", context.Parse.GetValue(since)), ("until", context.Parse.GetValue(until)) }
                        .Where(p => p.Item2 is not null).Select(p => $"&{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
                return Write(context, await context.Remote.GetAsync(query, CairnJson.Default.IReadOnlyListAuditEvent, ct));
            }));
        return command;
    }

    private static int Write(CommandContext context, IReadOnlyList<Core.Ports.AuditEvent> events)
    {
        if (context.Json)
        {
            context.Console.WriteJson(events, CairnJson.Readable.IReadOnlyListAuditEvent);
            return 0;
        }

        var table = new Table().AddColumns("at", "actor", "event", "subject", "detail");
        foreach (var e in events)
        {
            table.AddRow(Format.Time(e.At), Markup.Escape(e.Actor), Markup.Escape(e.Kind), Markup.Escape(e.Subject), Markup.Escape(e.Detail));
        }

        context.Console.Out.Write(table);
        return 0;
    }
}
