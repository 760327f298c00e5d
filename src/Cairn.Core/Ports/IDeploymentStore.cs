using Cairn.Core.Identity;
using Cairn.Core.Models;

namespace Cairn.Core.Ports;

/// <summary>Deployments: what each serves. Each write is one transaction that records its audit event.</summary>
public interface IDeploymentStore
{
    /// <summary>
    /// Creates a deployment (<paramref name="create"/>; a taken name is <see cref="ErrorCode.AlreadyExists"/>) or
    /// replaces an existing one's spec and raises its revision (a missing one is <see cref="ErrorCode.NotFound"/>).
    /// </summary>
    Task<Deployment> SaveDeploymentAsync(string name, DeploymentSpec spec, bool create, string actor, CancellationToken cancellationToken);


    /// <summary>A deployment by name.</summary>
    Task<Deployment?> GetDeploymentAsync(string name, CancellationToken cancellationToken);


    /// <summary>Every deployment, by name.</summary>
    Task<IReadOnlyList<Deployment>> ListDeploymentsAsync(Visibility? visibleTo, CancellationToken cancellationToken);


    /// <summary>Deletes a deployment; a missing one is <see cref="ErrorCode.NotFound"/>.</summary>
    Task DeleteDeploymentAsync(string name, string actor, CancellationToken cancellationToken);

}
