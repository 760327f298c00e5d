using System.Globalization;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Cairn.Core.Search;

namespace Cairn.Application;

/// <summary>Creates, finds, renames, tags, deletes and restores experiments.</summary>
public sealed class ExperimentService(ITrackingStore store, Actor actor)
{
    /// <summary>The most experiments one search page returns.</summary>
    public const int MaxPageSize = 50_000;

    /// <summary>Creates an experiment with a unique name.</summary>
    public async Task<Experiment> CreateAsync(string? name, string? artifactLocation, IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        ValidateName(name);
        TrackingLimits.Validate([], [], tags);
        actor.DemandCreate(ResourceKind.Experiment);
        var byKey = tags.GroupBy(t => t.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        var experiment = await store.CreateExperimentAsync(name!, string.IsNullOrEmpty(artifactLocation) ? null : artifactLocation, byKey, actor.Name, cancellationToken)
            .ConfigureAwait(false);
        actor.Claim(ResourceRef.Experiment(experiment.Id));
        return experiment;
    }

    /// <summary>An experiment by id.</summary>
    public async Task<Experiment> GetAsync(string? id, CancellationToken cancellationToken)
    {
        Demand(id, Role.Viewer, "read experiments");
        return await store.GetExperimentAsync(id ?? "", cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no experiment with id '{id}'.");
    }

    /// <summary>An experiment by name.</summary>
    public async Task<Experiment> GetByNameAsync(string? name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        var experiment = await store.GetExperimentByNameAsync(name!, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no experiment named '{name}'.");
        Demand(experiment.Id, Role.Viewer, "read experiments");
        return experiment;
    }

    /// <summary>One page of the experiments a filter such as <c>name LIKE 'fraud%'</c> matches; the token continues where the previous page ended.</summary>
    public Task<(IReadOnlyList<Experiment> Experiments, string? NextPageToken)> SearchAsync(LifecycleStage? lifecycle, string? filter,
        IReadOnlyList<string>? orderBy, int maxResults, string? pageToken, CancellationToken cancellationToken) =>
        Paging.SearchAsync(filter, orderBy, FilterVocabulary.Experiments, maxResults, MaxPageSize, pageToken,
            q => store.SearchExperimentsAsync(lifecycle, q with { VisibleTo = actor.VisibleTo(ResourceKind.Experiment) }, cancellationToken));

    /// <summary>Renames an experiment.</summary>
    public async Task RenameAsync(string? id, string? newName, CancellationToken cancellationToken)
    {
        ValidateName(newName);
        Demand(id, Role.Maintainer, "rename experiments");
        await store.RenameExperimentAsync(id ?? "", newName!, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes an experiment and its runs (restorable).</summary>
    public Task DeleteAsync(string? id, CancellationToken cancellationToken)
    {
        Demand(id, Role.Maintainer, "delete experiments");
        return store.SetExperimentLifecycleAsync(id ?? "", LifecycleStage.Deleted, actor.Name, cancellationToken);
    }

    /// <summary>Restores a deleted experiment and its runs.</summary>
    public Task RestoreAsync(string? id, CancellationToken cancellationToken)
    {
        Demand(id, Role.Maintainer, "restore experiments");
        return store.SetExperimentLifecycleAsync(id ?? "", LifecycleStage.Active, actor.Name, cancellationToken);
    }

    /// <summary>Sets an experiment tag.</summary>
    public Task SetTagAsync(string? id, string? key, string? value, CancellationToken cancellationToken)
    {
        TrackingLimits.Validate([], [], [new(key!, value!)]);
        Demand(id, Role.Editor, "tag experiments");
        return store.SetExperimentTagAsync(id ?? "", key!, value!, actor.Name, cancellationToken);
    }

    /// <summary>Removes an experiment tag.</summary>
    public Task DeleteTagAsync(string? id, string? key, CancellationToken cancellationToken)
    {
        TrackingLimits.ValidateKey(key, "tag");
        Demand(id, Role.Editor, "tag experiments");
        return store.SetExperimentTagAsync(id ?? "", key!, null, actor.Name, cancellationToken);
    }

    private void Demand(string? id, Role role, string action) => actor.Demand(ResourceRef.Experiment(id ?? ""), role, action);

    private static void ValidateName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw CairnException.Invalid("The experiment name is missing or empty.");
        }

        if (name.Length > 500)
        {
            throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture, $"The experiment name has {name.Length} characters; the limit is 500."));
        }
    }
}
