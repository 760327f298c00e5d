using System.Globalization;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Identity;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Cairn.Core.Search;

namespace Cairn.Application;

/// <summary>
/// The model registry: registered models with descriptions and tags, their versions (from Cairn training runs or
/// any source an MLflow client names), stages, aliases, rename and delete. Every change is an audit event.
/// </summary>
public sealed class ModelRegistry(IRegistryStore store, IArtifactStore artifacts, RunService runs, Actor actor, IModelRuntimeFactory? graphs = null)
{
    /// <summary>The most models or versions one search page returns.</summary>
    public const int MaxPageSize = 200_000;

    /// <summary>The longest description accepted.</summary>
    public const int MaxDescriptionLength = 5000;

    /// <summary>Creates a registered model with no versions yet.</summary>
    public async Task<RegisteredModel> CreateModelAsync(string? name, string? description, IReadOnlyList<KeyValuePair<string, string>> tags,
        CancellationToken cancellationToken)
    {
        Names.Validate(name, "model");
        ValidateDescription(description);
        actor.DemandCreate(ResourceKind.Model);
        var model = await store.CreateModelAsync(name!, description, ValidTags(tags), actor.Name, cancellationToken).ConfigureAwait(false);
        actor.Claim(ResourceRef.Model(model.Name));
        return model;
    }

    /// <summary>Registers the model a finished Cairn run produced as the next version of <paramref name="name"/>, creating the model on first use.</summary>
    public async Task<ModelVersion> RegisterAsync(string runId, string name, string? alias, CancellationToken cancellationToken)
    {
        Names.Validate(name, "model");
        if (alias is not null)
        {
            Aliases.Validate(alias);
        }

        var run = await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false);
        if (run.Status != RunStatus.Finished)
        {
            throw new CairnException(ErrorCode.Conflict, $"Run {runId} is {run.Status.ToString().ToUpperInvariant()}; only a finished run's model can be registered.");
        }

        var package = await PackageOfAsync(run, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.Invalid($"Run {runId} produced no model to register.");
        var creates = !actor.Holds(ResourceRef.Model(name), Role.Editor) && await store.GetModelAsync(name, cancellationToken).ConfigureAwait(false) is null;
        if (creates)
        {
            actor.DemandCreate(ResourceKind.Model);
        }
        else
        {
            Demand(name, Role.Editor, "register versions");
        }

        var version = await store.CreateModelVersionAsync(new NewModelVersion(name, RunSource(run.Id), run.Id, package), createModel: true, alias, actor.Name,
            cancellationToken).ConfigureAwait(false);
        if (creates)
        {
            actor.Claim(ResourceRef.Model(name));
        }

        return version;
    }

    /// <summary>
    /// Registers a version of an existing model from any source, as MLflow's model-versions/create does. When the
    /// run it names holds a model Cairn trained, or an ONNX model an MLflow client logged (the <c>onnx</c> flavor) at
    /// the source's path, that model becomes servable.
    /// </summary>
    public async Task<ModelVersion> CreateVersionAsync(string? name, string? source, string? runId, string? runLink, string? description,
        IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken)
    {
        Names.Validate(name, "model");
        if (string.IsNullOrWhiteSpace(source))
        {
            throw CairnException.Invalid("The model version's source is missing; name the URI of its artifacts, such as runs:/RUN_ID/model.");
        }

        ValidateDescription(description);
        var validTags = ValidTags(tags);
        Demand(name, Role.Editor, "register versions");
        ModelPackage? package = null;
        if (!string.IsNullOrEmpty(runId))
        {
            var run = await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false);
            package = await PackageOfAsync(run, cancellationToken).ConfigureAwait(false)
                ?? await MlflowOnnxPackageAsync(run, ArtifactPathOf(source, runId!), cancellationToken).ConfigureAwait(false);
        }

        var version = new NewModelVersion(name!, source, string.IsNullOrEmpty(runId) ? null : runId, package)
        {
            Description = description,
            RunLink = string.IsNullOrEmpty(runLink) ? null : runLink,
            Tags = validTags,
        };
        return await store.CreateModelVersionAsync(version, createModel: false, null, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Replaces a model's description.</summary>
    public Task UpdateModelAsync(string? name, string? description, CancellationToken cancellationToken)
    {
        ValidateDescription(description);
        Demand(name, Role.Editor, "describe models");
        return store.UpdateModelAsync(Names.Validate(name, "model"), description, actor.Name, cancellationToken);
    }

    /// <summary>Renames a model; its versions, aliases and tags move with it.</summary>
    public Task RenameModelAsync(string? name, string? newName, CancellationToken cancellationToken)
    {
        Demand(name, Role.Maintainer, "rename models");
        return store.RenameModelAsync(Names.Validate(name, "model"), Names.Validate(newName, "new model"), actor.Name, cancellationToken);
    }

    /// <summary>Deletes a model with all its versions.</summary>
    public Task DeleteModelAsync(string? name, CancellationToken cancellationToken)
    {
        Demand(name, Role.Maintainer, "delete models");
        return store.DeleteModelAsync(Names.Validate(name, "model"), actor.Name, cancellationToken);
    }

    /// <summary>Replaces a version's description.</summary>
    public Task UpdateVersionAsync(string? name, int version, string? description, CancellationToken cancellationToken)
    {
        ValidateDescription(description);
        Demand(name, Role.Editor, "describe model versions");
        return store.UpdateModelVersionAsync(Names.Validate(name, "model"), version, description, actor.Name, cancellationToken);
    }

    /// <summary>Moves a version to an MLflow stage.</summary>
    public Task<ModelVersion> TransitionStageAsync(string? name, int version, ModelStage stage, bool archiveExisting, CancellationToken cancellationToken)
    {
        Demand(name, Role.Editor, "change stages");
        return store.TransitionModelVersionStageAsync(Names.Validate(name, "model"), version, stage, archiveExisting, actor.Name, cancellationToken);
    }

    /// <summary>Deletes one version; its number is not reused.</summary>
    public Task DeleteVersionAsync(string? name, int version, CancellationToken cancellationToken)
    {
        Demand(name, Role.Maintainer, "delete model versions");
        return store.DeleteModelVersionAsync(Names.Validate(name, "model"), version, actor.Name, cancellationToken);
    }

    /// <summary>Sets a tag on a model, or on one of its versions.</summary>
    public Task SetTagAsync(string? name, int? version, string? key, string? value, CancellationToken cancellationToken)
    {
        TrackingLimits.Validate([], [], [new(key!, value!)]);
        DemandTag(name, version, key);
        if (key == AliasMovesTag && version is null && value is not ("maintainer" or "editor"))
        {
            throw CairnException.Invalid($"The {AliasMovesTag} tag is 'maintainer' (only maintainers move aliases by hand) or 'editor', not '{value}'.");
        }

        return store.SetModelTagAsync(Names.Validate(name, "model"), version, key!, value!, actor.Name, cancellationToken);
    }

    /// <summary>Removes a tag from a model, or from one of its versions.</summary>
    public Task DeleteTagAsync(string? name, int? version, string? key, CancellationToken cancellationToken)
    {
        TrackingLimits.ValidateKey(key, "tag");
        DemandTag(name, version, key);
        return store.SetModelTagAsync(Names.Validate(name, "model"), version, key!, null, actor.Name, cancellationToken);
    }

    /// <summary>Points <paramref name="alias"/> of <paramref name="name"/> at <paramref name="version"/>.</summary>
    public async Task SetAliasAsync(string? name, string? alias, int version, CancellationToken cancellationToken)
    {
        await DemandAliasMoveAsync(name, cancellationToken).ConfigureAwait(false);
        await store.SetAliasAsync(Names.Validate(name, "model"), Aliases.Validate(alias!), version, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes an alias.</summary>
    public async Task DeleteAliasAsync(string? name, string? alias, CancellationToken cancellationToken)
    {
        await DemandAliasMoveAsync(name, cancellationToken).ConfigureAwait(false);
        await store.SetAliasAsync(Names.Validate(name, "model"), Names.Validate(alias, "alias"), null, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The model tag that restricts moving its aliases by hand: <c>maintainer</c> leaves it to maintainers (and to
    /// policies, whose promotions a maintainer approves); setting or removing the tag takes maintainer too.
    /// </summary>
    public const string AliasMovesTag = "cairn.alias_moves";

    private async Task DemandAliasMoveAsync(string? name, CancellationToken cancellationToken)
    {
        Demand(name, Role.Editor, "move aliases");
        if (actor.Holds(ResourceRef.Model(name ?? ""), Role.Maintainer))
        {
            return;
        }

        var model = await store.GetModelAsync(Names.Validate(name, "model"), cancellationToken).ConfigureAwait(false);
        if (model?.Tags.GetValueOrDefault(AliasMovesTag) == "maintainer")
        {
            Demand(name, Role.Maintainer, $"move aliases (model '{name}' has {AliasMovesTag}=maintainer)");
        }
    }

    private void DemandTag(string? name, int? version, string? key) =>
        Demand(name, version is null && key == AliasMovesTag ? Role.Maintainer : Role.Editor, version is null && key == AliasMovesTag ? $"set {AliasMovesTag}" : "tag models");

    /// <summary>Every registered model the caller may see, by name.</summary>
    public Task<IReadOnlyList<RegisteredModel>> ListAsync(CancellationToken cancellationToken) =>
        store.SearchModelsAsync(new SearchQuery(null, [], int.MaxValue, 0) { VisibleTo = actor.VisibleTo(ResourceKind.Model) }, cancellationToken);

    /// <summary>One page of the models a filter such as <c>name LIKE 'fraud%'</c> matches.</summary>
    public Task<(IReadOnlyList<RegisteredModel> Models, string? NextPageToken)> SearchModelsAsync(string? filter, IReadOnlyList<string>? orderBy,
        int maxResults, string? pageToken, CancellationToken cancellationToken) =>
        Paging.SearchAsync(filter, orderBy, FilterVocabulary.RegisteredModels, maxResults, MaxPageSize, pageToken,
            q => store.SearchModelsAsync(q with { VisibleTo = actor.VisibleTo(ResourceKind.Model) }, cancellationToken));

    /// <summary>One page of the versions a filter such as <c>name = 'fraud' AND tags.validated = 'yes'</c> matches.</summary>
    public Task<(IReadOnlyList<ModelVersion> Versions, string? NextPageToken)> SearchVersionsAsync(string? filter, IReadOnlyList<string>? orderBy,
        int maxResults, string? pageToken, CancellationToken cancellationToken) =>
        Paging.SearchAsync(filter, orderBy, FilterVocabulary.ModelVersions, maxResults, MaxPageSize, pageToken,
            q => store.SearchModelVersionsAsync(q with { VisibleTo = actor.VisibleTo(ResourceKind.Model) }, cancellationToken));

    /// <summary>A registered model by name.</summary>
    public async Task<RegisteredModel> GetModelAsync(string? name, CancellationToken cancellationToken)
    {
        Demand(name, Role.Viewer, "read models");
        return await store.GetModelAsync(Names.Validate(name, "model"), cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no registered model '{name}'.");
    }

    /// <summary>One version of a model.</summary>
    public async Task<ModelVersion> GetVersionAsync(string? name, int version, CancellationToken cancellationToken)
    {
        await GetModelAsync(name, cancellationToken).ConfigureAwait(false);
        return await store.GetModelVersionAsync(name!, version, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"Model '{name}' has no version {version}.");
    }

    /// <summary>A model's versions, newest first.</summary>
    public async Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string name, CancellationToken cancellationToken)
    {
        await GetModelAsync(name, cancellationToken).ConfigureAwait(false);
        return await store.ListModelVersionsAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The newest version in each of <paramref name="stages"/> (every stage when none are named).</summary>
    public async Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string? name, IReadOnlyList<string>? stages, CancellationToken cancellationToken)
    {
        var model = await GetModelAsync(name, cancellationToken).ConfigureAwait(false);
        var wanted = stages is { Count: > 0 } ? stages.Select(RegistryNames.ParseStage).ToHashSet() : null;
        return [.. model.LatestVersions.Where(v => wanted is null || wanted.Contains(v.Stage))];
    }

    /// <summary>The version an alias points to.</summary>
    public Task<ModelVersion> GetByAliasAsync(string? name, string? alias, CancellationToken cancellationToken) =>
        ResolveAsync(new ModelRef(Names.Validate(name, "model"), Names.Validate(alias, "alias"), null), cancellationToken);

    /// <summary>The version a reference names: an explicit version, an alias, or the latest.</summary>
    public async Task<ModelVersion> ResolveAsync(ModelRef reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var model = await GetModelAsync(reference.Name, cancellationToken).ConfigureAwait(false);
        int version;
        if (reference.Alias is { } alias)
        {
            if (!model.Aliases.TryGetValue(alias, out version))
            {
                var known = model.Aliases.Count == 0 ? "it has no aliases" : $"its aliases are {string.Join(", ", model.Aliases.Keys)}";
                throw CairnException.NotFound($"Model '{reference.Name}' has no alias '{alias}'; {known}.");
            }
        }
        else if (reference.Version is { } number)
        {
            version = number;
        }
        else
        {
            version = model.LatestVersion > 0 ? model.LatestVersion : throw CairnException.NotFound($"Model '{reference.Name}' has no versions yet.");
        }

        return await store.GetModelVersionAsync(reference.Name, version, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"Model '{reference.Name}' has no version {version}.");
    }

    private void Demand(string? name, Role role, string action) => actor.Demand(ResourceRef.Model(name ?? ""), role, action);

    /// <summary>Parses a model version number as MLflow sends it (a string of digits), or as people type it (v2).</summary>
    public static int ParseVersion(string? text) => VersionNumber.Parse(text, "model version");

    /// <summary>The source URI of a model a Cairn run trained.</summary>
    public static string RunSource(string runId) => $"runs:/{runId}/model";

    /// <summary>
    /// The package of <paramref name="model"/>, a training run's id or a model reference (<c>NAME</c>, <c>NAME@alias</c>,
    /// <c>NAME@N</c>), how to name it in reports (<c>run ID</c> or <c>NAME@N</c>), and the run that trained it when known.
    /// </summary>
    public async Task<(ModelPackage Package, string Described, string? RunId)> ResolvePackageAsync(string model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (Ids.IsRunId(model))
        {
            var run = await runs.GetAsync(model, cancellationToken).ConfigureAwait(false);
            var package = await PackageOfAsync(run, cancellationToken).ConfigureAwait(false)
                ?? throw CairnException.Invalid($"Run {run.Id} has no model Cairn can score (it needs {TrainingService.OnnxModelPath} and {TrainingService.SignaturePath}).");
            return (package, $"run {run.Id}", run.Id);
        }

        var version = await ResolveAsync(ModelRef.Parse(model), cancellationToken).ConfigureAwait(false);
        return (version.RequirePackage(), $"{version.Model}@{version.Version}", version.RunId);
    }

    /// <summary>The bytes of a package's ONNX graph, verified against its hash.</summary>
    public Task<byte[]> ReadOnnxAsync(ModelPackage package, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(package);
        return ReadArtifactAsync(package.OnnxArtifact, cancellationToken);
    }

    /// <summary>
    /// The rows engines are compared on for a model: the held-out rows its training run kept, or synthetic ones when
    /// it kept none (an imported model, a run trained before Cairn kept them, a run this caller may not read).
    /// </summary>
    public async Task<Table> ParityRowsAsync(string? runId, ModelSignature signature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signature);
        try
        {
            if (runId is not null && (await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false)).Artifact(TrainingService.TestRowsPath) is { } rows)
            {
                return EngineParity.FromCsv(await ReadArtifactAsync(rows.ContentHash, cancellationToken).ConfigureAwait(false), signature);
            }
        }
        catch (CairnException e) when (e.Code is ErrorCode.NotFound or ErrorCode.PermissionDenied)
        {
        }

        return EngineParity.Synthetic(signature);
    }

    /// <summary>The bytes of a stored artifact, verified against its hash.</summary>
    public async Task<byte[]> ReadArtifactAsync(ContentHash artifact, CancellationToken cancellationToken)
    {
        await using var stream = await artifacts.OpenReadAsync(artifact, cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>What Cairn serves of a run's model, or null when the run did not store one.</summary>
    public async Task<ModelPackage?> PackageOfAsync(Run run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var onnx = run.Artifact(TrainingService.OnnxModelPath);
        var mlnet = run.Artifact(TrainingService.MlNetModelPath);
        var signatureArtifact = run.Artifact(TrainingService.SignaturePath);
        if (onnx is null || signatureArtifact is null)
        {
            return null;
        }

        await using var stream = await artifacts.OpenReadAsync(signatureArtifact.ContentHash, cancellationToken).ConfigureAwait(false);
        var signature = await JsonSerializer.DeserializeAsync(stream, CairnJson.Default.ModelSignature, cancellationToken).ConfigureAwait(false)
            ?? throw new CairnException(ErrorCode.Corrupt, $"Run {run.Id}'s signature is empty.");
        return new ModelPackage(onnx.ContentHash, mlnet?.ContentHash, signature);
    }

    // runs:/RUN_ID/PATH names PATH in the run's artifacts; any other source, the MLflow default "model".
    private static string ArtifactPathOf(string source, string runId) =>
        source.StartsWith($"runs:/{runId}/", StringComparison.Ordinal) ? source[$"runs:/{runId}/".Length..].Trim('/') : "model";

    /// <summary>
    /// The package of an ONNX model an MLflow client logged with <c>mlflow.onnx.log_model</c>: an <c>MLmodel</c> file
    /// with an <c>onnx</c> flavor beside the graph. The signature is read from the graph as <c>cairn models import</c>
    /// reads it, with the MLflow signature's column names for a single matrix input. Null when there is no such model
    /// or Cairn cannot serve it (the version is still registered, as MLflow registers anything).
    /// </summary>
    private async Task<ModelPackage?> MlflowOnnxPackageAsync(Run run, string path, CancellationToken cancellationToken)
    {
        if (graphs is null || run.Artifact($"{path}/MLmodel") is not { } mlmodel)
        {
            return null;
        }

        var flavor = MlflowModel.Parse(await ReadArtifactAsync(mlmodel.ContentHash, cancellationToken).ConfigureAwait(false));
        if (flavor is null || run.Artifact($"{path}/{flavor.OnnxFile}") is not { } onnx)
        {
            return null;
        }

        try
        {
            var description = graphs.Describe(await ReadArtifactAsync(onnx.ContentHash, cancellationToken).ConfigureAwait(false));
            var features = description.Inputs.Count == 1 && flavor.Columns.Count > 1 ? flavor.Columns : null;
            return new ModelPackage(onnx.ContentHash, null, ModelImport.Signature(description, new ImportOptions(Features: features)));
        }
        catch (CairnException e) when (e.Code == ErrorCode.InvalidArgument)
        {
            return null;
        }
    }

    private static Dictionary<string, string> ValidTags(IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        TrackingLimits.Validate([], [], tags);
        return tags.GroupBy(t => t.Key).ToDictionary(g => g.Key, g => g.Last().Value);
    }

    private static void ValidateDescription(string? description)
    {
        if (description is { Length: > MaxDescriptionLength })
        {
            throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
                $"The description has {description.Length} characters; the limit is {MaxDescriptionLength}."));
        }
    }
}
