using Cairn.Core.Identity;
using Cairn.Core.Search;

namespace Cairn.Core.Runs;

/// <summary>A page of a run search: which experiments, which runs, in what order.</summary>
/// <param name="ExperimentIds">The experiments searched; at least one.</param>
/// <param name="Filter">The parsed filter; null matches every run.</param>
/// <param name="Lifecycle">Active or deleted runs only; null for both.</param>
/// <param name="OrderBy">The ordering keys; the newest start time comes first after them, then the run id.</param>
/// <param name="Limit">The page size.</param>
/// <param name="Offset">How many matching runs precede the page.</param>
public sealed record RunQuery(
    IReadOnlyList<string> ExperimentIds,
    Filter? Filter,
    LifecycleStage? Lifecycle,
    IReadOnlyList<(FilterKey Key, bool Descending)> OrderBy,
    int Limit,
    int Offset)
{
    /// <summary>Whose grants on the runs' experiments make them visible; null: every run.</summary>
    public Visibility? VisibleTo { get; init; }
}
