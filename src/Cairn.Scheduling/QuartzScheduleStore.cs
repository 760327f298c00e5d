using Cairn.Core.Pipelines;
using Cairn.Core.Ports;

namespace Cairn.Scheduling;

/// <summary>
/// The schedules in Quartz's job store, read through one scheduler that is opened on first use and never started,
/// so a process that shows schedules (the web UI) fires none of them.
/// </summary>
public sealed class QuartzScheduleStore(JobStore store, IServiceProvider services) : IScheduleStore, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PipelineScheduler? _scheduler;

    /// <inheritdoc />
    public async Task<IReadOnlyList<PipelineSchedule>> ListAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _scheduler ??= await PipelineScheduler.OpenAsync(store, services, 1, cancellationToken).ConfigureAwait(false);
            return await _scheduler.ListAsync(cancellationToken).ConfigureAwait(false);
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
