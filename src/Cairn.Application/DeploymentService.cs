using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>
/// Deployments: named serving endpoints stored in the metadata store, so every server and replica serves the same
/// thing. A deployment is checked before it is saved: every model it names must resolve to a version Cairn can
/// serve, and a canary or shadow must take the same inputs as the model it stands beside.
/// </summary>
public sealed class DeploymentService(IDeploymentStore store, ModelRegistry registry, Actor actor)
{
    /// <summary>Creates a deployment.</summary>
    public async Task<Deployment> CreateAsync(string name, DeploymentSpec spec, CancellationToken cancellationToken)
    {
        Names.Validate(name, "deployment");
        actor.DemandCreate(ResourceKind.Deployment);
        await CheckAsync(spec, cancellationToken).ConfigureAwait(false);
        var deployment = await store.SaveDeploymentAsync(name, spec, create: true, actor.Name, cancellationToken).ConfigureAwait(false);
        actor.Claim(ResourceRef.Deployment(name));
        return deployment;
    }

    /// <summary>Changes a deployment; servers pick the change up and swap versions without failing a request.</summary>
    public Task<Deployment> UpdateAsync(string name, Func<DeploymentSpec, DeploymentSpec> change, CancellationToken cancellationToken) =>
        UpdateAsync(name, change, null, cancellationToken);

    /// <summary>Changes a deployment only if it is still at <paramref name="expectedRevision"/> (when given): a change made from a stale read is refused.</summary>
    public async Task<Deployment> UpdateAsync(string name, Func<DeploymentSpec, DeploymentSpec> change, int? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        // What a deployment serves is production traffic: changing it (canary, promotion, rollback) is a maintainer's call.
        actor.Demand(ResourceRef.Deployment(name), Role.Maintainer, "change deployments");
        var current = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (expectedRevision is { } expected && current.Revision != expected)
        {
            throw new CairnException(ErrorCode.Conflict,
                $"Deployment '{name}' changed while this change was being made (revision {expected}, now {current.Revision}); read it again and retry.");
        }

        var spec = change(current.Spec);
        await CheckAsync(spec, cancellationToken).ConfigureAwait(false);
        return await store.SaveDeploymentAsync(name, spec, create: false, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A deployment by name.</summary>
    public async Task<Deployment> GetAsync(string name, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Deployment(name), Role.Viewer, "read deployments");
        return await store.GetDeploymentAsync(Names.Validate(name, "deployment"), cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no deployment named '{name}'; 'cairn deployments list' shows them.");
    }

    /// <summary>Every deployment the caller may see, by name.</summary>
    public Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken) =>
        store.ListDeploymentsAsync(actor.VisibleTo(ResourceKind.Deployment), cancellationToken);

    /// <summary>Deletes a deployment; servers stop serving it.</summary>
    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Deployment(name), Role.Maintainer, "delete deployments");
        return store.DeleteDeploymentAsync(Names.Validate(name, "deployment"), actor.Name, cancellationToken);
    }

    /// <summary>The versions a deployment's references resolve to now, in the order of <see cref="DeploymentSpec.References"/>.</summary>
    public async Task<IReadOnlyList<ModelVersion>> ResolveAsync(DeploymentSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var versions = new List<ModelVersion>();
        foreach (var reference in spec.References())
        {
            versions.Add(await registry.ResolveAsync(reference, cancellationToken).ConfigureAwait(false));
        }

        return versions;
    }

    private async Task CheckAsync(DeploymentSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var versions = await ResolveAsync(spec, cancellationToken).ConfigureAwait(false);
        var signatures = versions.Select(v => (Version: v, Signature: v.Package?.Signature
            ?? throw CairnException.Invalid($"{v.Model} version {v.Version} has no model Cairn can serve (it was registered from {v.Source}).")))
            .ToList();
        var main = signatures[0];
        foreach (var (version, signature) in signatures.Skip(1))
        {
            var missing = main.Signature.Inputs.Select(i => (i.Name, i.TensorType))
                .Except(signature.Inputs.Select(i => (i.Name, i.TensorType)))
                .Concat(signature.Inputs.Select(i => (i.Name, i.TensorType)).Except(main.Signature.Inputs.Select(i => (i.Name, i.TensorType))))
                .Select(i => i.Name)
                .Distinct()
                .ToList();
            if (missing.Count > 0 || signature.Task != main.Signature.Task)
            {
                throw CairnException.Invalid(
                    $"{version.Model} version {version.Version} cannot stand beside {main.Version.Model} version {main.Version.Version}: " +
                    (signature.Task != main.Signature.Task
                        ? $"one is a {signature.Task.ToString().ToLowerInvariant()} model, the other a {main.Signature.Task.ToString().ToLowerInvariant()} one."
                        : $"their inputs differ in {string.Join(", ", missing)}."));
            }
        }
    }
}
