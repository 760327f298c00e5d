using System.Text.Json;
using System.Text.Json.Serialization;
using Cairn.Application;
using Cairn.Core.Pipelines;
using Quartz;

namespace Cairn.Scheduling;

/// <summary>
/// Runs one scheduled pipeline. Never two at once for the same schedule; a run that fails is recorded as a failed
/// pipeline run, not retried by Quartz (steps have their own retries).
/// </summary>
[DisallowConcurrentExecution]
internal sealed class PipelineJob(PipelineRunner runner, JobService jobs) : IJob
{
    public const string PipelineKey = "pipeline";
    public const string ParametersKey = "parameters";

    // A pipeline sent with its files (cairn pipelines schedule --remote): the job each firing copies.
    public const string TemplateKey = "template";

    /// <summary>A text value of a job's data.</summary>
    public static string? Text(JobDataMap data, string key) => data.TryGetValue(key, out var value) ? value as string : null;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        var path = Text(data, PipelineKey)!;
        if (Text(data, TemplateKey) is { } template)
        {
            var job = await jobs.RunScheduledAsync(JsonSerializer.Deserialize(template, Core.CairnJson.Compact.Job)!, context.JobDetail.Key.Name,
                $"worker {Core.LocalProcess.Current}", context.Recovering, cancellationToken).ConfigureAwait(false);
            context.Result = $"job {job.Id} {job.Status.ToString().ToLowerInvariant()}: {job.Result ?? job.Error}";
            return;
        }

        try
        {
            if (context.Recovering)
            {
                // The worker that ran this schedule's last firing died: its runs will never finish.
                await runner.InterruptScheduledAsync(context.JobDetail.Key.Name, cancellationToken).ConfigureAwait(false);
            }

            var spec = PipelineSpec.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
            var parameters = JsonSerializer.Deserialize(Text(data, ParametersKey) ?? "{}", ScheduleJson.Default.DictionaryStringString) ?? [];
            var result = await runner.RunAsync(spec, parameters, Path.GetDirectoryName(path)!, force: false, progress: null, cancellationToken,
                tags: [new("cairn.schedule", context.JobDetail.Key.Name), new("cairn.schedule.fire", context.FireInstanceId)]).ConfigureAwait(false);
            context.Result = $"pipeline run {result.RunId} {result.Status.ToString().ToUpperInvariant()} ({result.Steps.Count(s => s.Cached)} of {result.Steps.Count} step(s) cached)";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new JobExecutionException($"Scheduled pipeline '{path}' could not run: {e.Message}", e);
        }
    }
}

/// <summary>Source-generated JSON for the job data the scheduler stores.</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ScheduleJson : JsonSerializerContext;
