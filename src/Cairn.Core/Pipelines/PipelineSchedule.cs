namespace Cairn.Core.Pipelines;

/// <summary>A pipeline on a cron schedule.</summary>
/// <param name="Name">The schedule's name (unique).</param>
/// <param name="Pipeline">The pipeline file, as an absolute path.</param>
/// <param name="Cron">The Quartz cron expression (seconds first).</param>
/// <param name="Parameters">The pipeline parameters each run gets.</param>
/// <param name="NextRun">When it runs next, if ever.</param>
/// <param name="PreviousRun">When it last ran.</param>
/// <param name="State">The trigger's state: normal, paused, blocked (running), error or complete.</param>
public sealed record PipelineSchedule(
    string Name, string Pipeline, string Cron, IReadOnlyDictionary<string, string> Parameters, DateTimeOffset? NextRun, DateTimeOffset? PreviousRun, string State);
