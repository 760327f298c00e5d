using Cairn.Core.Pipelines;
using Cairn.Core.Ports;

namespace Cairn.Scheduling;

/// <summary>
/// The schedules in Quartz's job store, and the queue submitted jobs wait in for a worker, through one scheduler that
/// is opened on first use and never started, so a process that shows schedules or queues jobs (a server) fires none.
/// </summary>
public sealed class QuartzScheduleStore(JobStore store, IServiceProvider services) : IScheduleStore, IJobQueue, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PipelineScheduler? _scheduler;

    /// <inheritdoc />
    public Task<IReadOnlyList<PipelineSchedule>> ListAsync(CancellationToken cancellationToken) =>
        UseAsync(scheduler => scheduler.ListAsync(cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task EnqueueAsync(string jobId, CancellationToken cancellationToken) =>
        UseAsync(async scheduler =>
        {
            await scheduler.EnqueueJobAsync(jobId, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<PipelineSchedule> ScheduleAsync(string name, string cron, Core.Jobs.Job template, CancellationToken cancellationToken) =>
        UseAsync(scheduler => scheduler.ScheduleAsync(name, cron, template, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task UnscheduleAsync(string name, CancellationToken cancellationToken) =>
        UseAsync(async scheduler =>
        {
            await scheduler.UnscheduleAsync(name, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task<T> UseAsync<T>(Func<PipelineScheduler, Task<T>> use, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _scheduler ??= await PipelineScheduler.OpenAsync(store, services, 1, cancellationToken).ConfigureAwait(false);
            return await use(_scheduler).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_scheduler is not null)
        {
            await _scheduler.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }
}
