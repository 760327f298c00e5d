using Cairn.Core.Identity;
using Cairn.Core.Pipelines;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>Pipeline schedules as the people who watch them see them; adding and running them is the scheduler's (Cairn.Scheduling).</summary>
public sealed class PipelineSchedules(IScheduleStore store, Actor actor)
{
    /// <summary>Every schedule; a schedule belongs to no experiment, so reading them takes the viewer role globally.</summary>
    public Task<IReadOnlyList<PipelineSchedule>> ListAsync(CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Global, Role.Viewer, "see pipeline schedules");
        return store.ListAsync(cancellationToken);
    }
}
