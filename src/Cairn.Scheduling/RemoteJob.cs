using Cairn.Application;
using Quartz;

namespace Cairn.Scheduling;

/// <summary>
/// Runs one job a user submitted to the server (<c>--remote</c>). Quartz gives it to one worker of the cluster and, if
/// that worker dies, to another (job recovery); the job's own record says how it went.
/// </summary>
internal sealed class RemoteJob(JobService jobs) : IJob
{
    public const string JobIdKey = "job";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var id = PipelineJob.Text(context.MergedJobDataMap, JobIdKey)!;
        var job = await jobs.RunAsync(id, $"worker {Core.LocalProcess.Current}", context.Recovering, cancellationToken).ConfigureAwait(false);
        context.Result = $"job {id} {job.Status.ToString().ToLowerInvariant()}: {job.Result ?? job.Error}";
    }
}
