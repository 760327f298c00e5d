using Cairn.Core.Pipelines;

namespace Cairn.Core.Ports;

/// <summary>Where pipeline schedules are kept, read by those who show them.</summary>
public interface IScheduleStore
{
    /// <summary>Every schedule, by name, with when it fires next and last fired.</summary>
    Task<IReadOnlyList<PipelineSchedule>> ListAsync(CancellationToken cancellationToken);
}
