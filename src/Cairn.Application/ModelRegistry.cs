using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>Registers runs' models as versions, moves aliases and resolves references.</summary>
public sealed class ModelRegistry(IMetadataStore store, IArtifactStore artifacts, RunService runs, Actor actor)
{
    /// <summary>Registers the model a finished run produced as the next version of <paramref name="name"/>.</summary>
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

        var onnx = run.Artifact(TrainingService.OnnxModelPath);
        var mlnet = run.Artifact(TrainingService.MlNetModelPath);
        var signatureArtifact = run.Artifact(TrainingService.SignaturePath);
        if (onnx is null || mlnet is null || signatureArtifact is null)
        {
            throw CairnException.Invalid($"Run {runId} produced no model to register.");
        }

        ModelSignature signature;
        await using (var stream = await artifacts.OpenReadAsync(signatureArtifact.ContentHash, cancellationToken).ConfigureAwait(false))
        {
            signature = await JsonSerializer.DeserializeAsync(stream, CairnJson.Default.ModelSignature, cancellationToken).ConfigureAwait(false)
                ?? throw new CairnException(ErrorCode.Corrupt, $"Run {runId}'s signature is empty.");
        }

        return await store.CreateModelVersionAsync(new NewModelVersion(name, runId, onnx.ContentHash, mlnet.ContentHash, signature), alias, actor.Name,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Points <paramref name="alias"/> of <paramref name="name"/> at <paramref name="version"/>.</summary>
    public async Task SetAliasAsync(string name, string alias, int version, CancellationToken cancellationToken)
    {
        Aliases.Validate(alias);
        await GetModelAsync(name, cancellationToken).ConfigureAwait(false);
        await store.SetAliasAsync(name, alias, version, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every registered model.</summary>
    public Task<IReadOnlyList<RegisteredModel>> ListAsync(CancellationToken cancellationToken) => store.ListModelsAsync(cancellationToken);

    /// <summary>A registered model by name.</summary>
    public async Task<RegisteredModel> GetModelAsync(string name, CancellationToken cancellationToken) =>
        await store.GetModelAsync(name, cancellationToken).ConfigureAwait(false)
        ?? throw CairnException.NotFound($"There is no registered model '{name}'.");

    /// <summary>A model's versions, newest first.</summary>
    public async Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string name, CancellationToken cancellationToken)
    {
        await GetModelAsync(name, cancellationToken).ConfigureAwait(false);
        return await store.ListModelVersionsAsync(name, cancellationToken).ConfigureAwait(false);
    }

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
        else
        {
            version = reference.Version ?? model.LatestVersion;
        }

        return await store.GetModelVersionAsync(reference.Name, version, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"Model '{reference.Name}' has no version {version}.");
    }
}
