using Cairn.Core.Models;
using Cairn.Core.Search;

namespace Cairn.Core.Ports;

/// <summary>A model version about to be registered; the store assigns its number.</summary>
/// <param name="Model">The registered model it joins.</param>
/// <param name="Source">Where its artifacts are, such as <c>runs:/RUN_ID/model</c>.</param>
/// <param name="RunId">The run that produced it, when known.</param>
/// <param name="Package">What Cairn serves, when the source holds a model Cairn can serve.</param>
public sealed record NewModelVersion(string Model, string Source, string? RunId, ModelPackage? Package)
{
    /// <summary>Free text about the version.</summary>
    public string? Description { get; init; }

    /// <summary>A link to the run, possibly on another server.</summary>
    public string? RunLink { get; init; }

    /// <summary>Its first tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}


/// <summary>Registered models, their versions, stages, aliases and tags. Each write is one transaction that records its audit event.</summary>
public interface IRegistryStore
{
    /// <summary>Creates a registered model with no versions; a taken name is <see cref="ErrorCode.AlreadyExists"/>.</summary>
    Task<RegisteredModel> CreateModelAsync(string name, string? description, IReadOnlyDictionary<string, string> tags, string actor,
        CancellationToken cancellationToken);


    /// <summary>
    /// Registers the next version of a model and optionally points an alias at it. The model is created on first use
    /// when <paramref name="createModel"/> is set; otherwise a missing model is <see cref="ErrorCode.NotFound"/>.
    /// </summary>
    Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, bool createModel, string? alias, string actor, CancellationToken cancellationToken);


    /// <summary>Replaces a model's description.</summary>
    Task UpdateModelAsync(string name, string? description, string actor, CancellationToken cancellationToken);


    /// <summary>Renames a model, carrying its versions, aliases and tags; a taken name is <see cref="ErrorCode.AlreadyExists"/>.</summary>
    Task RenameModelAsync(string name, string newName, string actor, CancellationToken cancellationToken);


    /// <summary>Deletes a model with all its versions, aliases and tags.</summary>
    Task DeleteModelAsync(string name, string actor, CancellationToken cancellationToken);


    /// <summary>Replaces a version's description.</summary>
    Task UpdateModelVersionAsync(string name, int version, string? description, string actor, CancellationToken cancellationToken);


    /// <summary>Moves a version to an MLflow stage, optionally archiving the other versions in that stage.</summary>
    Task<ModelVersion> TransitionModelVersionStageAsync(string name, int version, ModelStage stage, bool archiveExisting, string actor,
        CancellationToken cancellationToken);


    /// <summary>Deletes one version and the aliases and tags on it; its number is not reused.</summary>
    Task DeleteModelVersionAsync(string name, int version, string actor, CancellationToken cancellationToken);


    /// <summary>Sets (value) or removes (null) a tag on a model, or on one of its versions when <paramref name="version"/> is given.</summary>
    Task SetModelTagAsync(string name, int? version, string key, string? value, string actor, CancellationToken cancellationToken);


    /// <summary>Points an alias at an existing version, or removes it when <paramref name="version"/> is null.</summary>
    Task SetAliasAsync(string model, string alias, int? version, string actor, CancellationToken cancellationToken);


    /// <summary>A registered model with its aliases, tags and latest version per stage.</summary>
    Task<RegisteredModel?> GetModelAsync(string name, CancellationToken cancellationToken);


    /// <summary>One page of the registered models a query matches, in its order, then by name.</summary>
    Task<IReadOnlyList<RegisteredModel>> SearchModelsAsync(SearchQuery query, CancellationToken cancellationToken);


    /// <summary>One page of the model versions a query matches, in its order, then by name and newest version first.</summary>
    Task<IReadOnlyList<ModelVersion>> SearchModelVersionsAsync(SearchQuery query, CancellationToken cancellationToken);


    /// <summary>A model's versions, newest first.</summary>
    Task<IReadOnlyList<ModelVersion>> ListModelVersionsAsync(string model, CancellationToken cancellationToken);


    /// <summary>One model version.</summary>
    Task<ModelVersion?> GetModelVersionAsync(string model, int version, CancellationToken cancellationToken);

}
