using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Models;

namespace Cairn.Adapters.Sql;

public abstract partial class SqlMetadataStore
{
    private const string DeploymentColumns = "name, spec_json, revision, created_at, created_by, updated_at, updated_by";

    /// <inheritdoc />
    public Task<Deployment> SaveDeploymentAsync(string name, DeploymentSpec spec, bool create, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var json = JsonSerializer.Serialize(spec, CairnJson.Compact.DeploymentSpec);
        return WriteAsync(async (connection, transaction) =>
        {
            var now = Now();
            var revision = await ScalarAsync(connection, transaction, "SELECT revision FROM deployments WHERE name = @name", [("@name", name)], cancellationToken)
                .ConfigureAwait(false);
            if (create && revision is not null)
            {
                throw new CairnException(ErrorCode.AlreadyExists, $"Deployment '{name}' already exists; change it with 'cairn deployments update'.");
            }

            if (create)
            {
                await ExecuteAsync(connection, transaction, $"INSERT INTO deployments ({DeploymentColumns}) VALUES (@name, @spec, 1, @now, @actor, @now, @actor)",
                    [("@name", name), ("@spec", json), ("@now", now), ("@actor", actor)], cancellationToken).ConfigureAwait(false);
                await GrantOwnerAsync(connection, transaction, actor, ResourceRef.Deployment(name), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _ = revision ?? throw NoSuchDeployment(name);
                await ExecuteAsync(connection, transaction,
                    "UPDATE deployments SET spec_json = @spec, revision = revision + 1, updated_at = @now, updated_by = @actor WHERE name = @name",
                    [("@name", name), ("@spec", json), ("@now", now), ("@actor", actor)], cancellationToken).ConfigureAwait(false);
            }

            await RecordEventAsync(connection, transaction, actor, create ? "deployment.created" : "deployment.updated", name,
                new() { ["spec"] = json }, cancellationToken).ConfigureAwait(false);
            return (await QueryDeploymentsAsync(connection, transaction, "WHERE name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false))[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Deployment?> GetDeploymentAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
            (await QueryDeploymentsAsync(connection, null, "WHERE name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false)).FirstOrDefault(),
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Deployment>> ListDeploymentsAsync(Visibility? visibleTo, CancellationToken cancellationToken)
    {
        var parameters = new List<(string, object?)>();
        var visible = Visible(visibleTo, ResourceKind.Deployment, "name", parameters);
        return ReadAsync<IReadOnlyList<Deployment>>(async connection =>
            await QueryDeploymentsAsync(connection, null, $"WHERE {visible} ORDER BY name", parameters, cancellationToken).ConfigureAwait(false), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteDeploymentAsync(string name, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var revision = await ScalarAsync(connection, transaction, "SELECT revision FROM deployments WHERE name = @name", [("@name", name)], cancellationToken)
                .ConfigureAwait(false) ?? throw NoSuchDeployment(name);
            await ExecuteAsync(connection, transaction, "DELETE FROM deployments WHERE name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false);
            await MoveGrantsAsync(connection, transaction, ResourceKind.Deployment, name, null, cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "deployment.deleted", name,
                new() { ["revision"] = Convert.ToString(revision, CultureInfo.InvariantCulture)! }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private static Task<List<Deployment>> QueryDeploymentsAsync(DbConnection connection, DbTransaction? transaction, string where,
        IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken) =>
        QueryAsync(connection, transaction, $"SELECT {DeploymentColumns} FROM deployments {where}", parameters,
            r => new Deployment(r.GetString(0), JsonSerializer.Deserialize(r.GetString(1), CairnJson.Compact.DeploymentSpec)!, Int(r, 2),
                Time(r.GetInt64(3)), r.GetString(4), Time(r.GetInt64(5)), r.GetString(6)),
            cancellationToken);

    private static CairnException NoSuchDeployment(string name) => CairnException.NotFound($"There is no deployment named '{name}'; 'cairn deployments list' shows them.");
}
