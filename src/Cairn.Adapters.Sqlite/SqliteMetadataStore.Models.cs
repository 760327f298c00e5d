using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Microsoft.Data.Sqlite;

namespace Cairn.Adapters.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private const string ModelVersionColumns = "model, version, run_id, onnx_hash, mlnet_hash, signature_json, created_at";

    /// <inheritdoc />
    public Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, string? alias, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        return WriteAsync(async (connection, transaction) =>
        {
            var now = Now();
            await ExecuteAsync(connection, transaction,
                "INSERT INTO models (name, created_at, updated_at) VALUES ($name, $now, $now) ON CONFLICT (name) DO UPDATE SET updated_at = $now",
                [("$name", version.Model), ("$now", now)], cancellationToken).ConfigureAwait(false);
            var number = (long)(await ScalarAsync(connection, transaction,
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model = $name", [("$name", version.Model)], cancellationToken).ConfigureAwait(false))!;
            await ExecuteAsync(connection, transaction,
                $"INSERT INTO model_versions ({ModelVersionColumns}) VALUES ($name, $version, $run, $onnx, $mlnet, $signature, $now)",
                [("$name", version.Model), ("$version", number), ("$run", version.RunId), ("$onnx", version.OnnxArtifact.Hex),
                 ("$mlnet", version.MlNetArtifact.Hex), ("$signature", JsonSerializer.Serialize(version.Signature, CairnJson.Compact.ModelSignature)), ("$now", now)],
                cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "model.version_created", $"{version.Model}@{number}",
                new() { ["run_id"] = version.RunId }, cancellationToken).ConfigureAwait(false);
            if (alias is not null)
            {
                await SetAliasAsync(connection, transaction, version.Model, alias, (int)number, actor, cancellationToken).ConfigureAwait(false);
            }

            return new ModelVersion(version.Model, (int)number, version.RunId, version.OnnxArtifact, version.MlNetArtifact, version.Signature, Time(now),
                alias is null ? [] : [alias]);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task SetAliasAsync(string model, string alias, int version, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var exists = await ScalarAsync(connection, transaction, "SELECT 1 FROM model_versions WHERE model = $model AND version = $version",
                [("$model", model), ("$version", version)], cancellationToken).ConfigureAwait(false);
            if (exists is null)
            {
                throw CairnException.NotFound($"Model '{model}' has no version {version}.");
            }

            await SetAliasAsync(connection, transaction, model, alias, version, actor, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<RegisteredModel?> GetModelAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await LoadModelsAsync(connection, "WHERE m.name = $name", [("$name", name)], cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<RegisteredModel>> ListModelsAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<RegisteredModel>>(async connection => await LoadModelsAsync(connection, "", [], cancellationToken).ConfigureAwait(false),
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelVersion>> ListModelVersionsAsync(string model, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ModelVersion>>(async connection => await LoadVersionsAsync(connection, "WHERE model = $model ORDER BY version DESC",
            [("$model", model)], cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task<ModelVersion?> GetModelVersionAsync(string model, int version, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await LoadVersionsAsync(connection, "WHERE model = $model AND version = $version",
            [("$model", model), ("$version", version)], cancellationToken).ConfigureAwait(false)).FirstOrDefault(), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEvent>> ListEventsAsync(int limit, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<AuditEvent>>(async connection => await QueryAsync(connection, null,
            "SELECT id, at, actor, kind, subject, detail FROM events ORDER BY id DESC LIMIT $limit", [("$limit", limit)],
            r => new AuditEvent(r.GetInt64(0), Time(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5)),
            cancellationToken).ConfigureAwait(false), cancellationToken);

    private async Task SetAliasAsync(SqliteConnection connection, SqliteTransaction transaction, string model, string alias, int version, string actor,
        CancellationToken cancellationToken)
    {
        var previous = await ScalarAsync(connection, transaction, "SELECT version FROM model_aliases WHERE model = $model AND alias = $alias",
            [("$model", model), ("$alias", alias)], cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction,
            "INSERT INTO model_aliases (model, alias, version) VALUES ($model, $alias, $version) ON CONFLICT (model, alias) DO UPDATE SET version = $version",
            [("$model", model), ("$alias", alias), ("$version", version)], cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, "UPDATE models SET updated_at = $now WHERE name = $model", [("$model", model), ("$now", Now())],
            cancellationToken).ConfigureAwait(false);
        var detail = new Dictionary<string, string> { ["alias"] = alias, ["version"] = version.ToString(CultureInfo.InvariantCulture) };
        if (previous is long p)
        {
            detail["previous_version"] = p.ToString(CultureInfo.InvariantCulture);
        }

        await RecordEventAsync(connection, transaction, actor, "model.alias_set", model, detail, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<RegisteredModel>> LoadModelsAsync(SqliteConnection connection, string where, (string, object?)[] parameters,
        CancellationToken cancellationToken)
    {
        var models = await QueryAsync(connection, null, $"""
            SELECT m.name, m.description, m.created_at, m.updated_at, COALESCE((SELECT MAX(version) FROM model_versions v WHERE v.model = m.name), 0)
            FROM models m {where} ORDER BY m.name
            """, parameters,
            r => new RegisteredModel(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), Time(r.GetInt64(2)), Time(r.GetInt64(3)), r.GetInt32(4),
                new Dictionary<string, int>()), cancellationToken).ConfigureAwait(false);
        var aliases = await QueryAsync(connection, null, "SELECT model, alias, version FROM model_aliases ORDER BY alias", [],
            r => (Model: r.GetString(0), Alias: r.GetString(1), Version: r.GetInt32(2)), cancellationToken).ConfigureAwait(false);
        return [.. models.Select(m => m with
        {
            Aliases = new SortedDictionary<string, int>(aliases.Where(a => a.Model == m.Name).ToDictionary(a => a.Alias, a => a.Version), StringComparer.Ordinal),
        })];
    }

    private static async Task<List<ModelVersion>> LoadVersionsAsync(SqliteConnection connection, string where, (string, object?)[] parameters,
        CancellationToken cancellationToken)
    {
        var versions = await QueryAsync(connection, null, $"SELECT {ModelVersionColumns} FROM model_versions {where}", parameters, ReadModelVersion,
            cancellationToken).ConfigureAwait(false);
        if (versions.Count == 0)
        {
            return versions;
        }

        var aliases = await QueryAsync(connection, null, "SELECT alias, version FROM model_aliases WHERE model = $model ORDER BY alias",
            [("$model", versions[0].Model)], r => (Alias: r.GetString(0), Version: r.GetInt32(1)), cancellationToken).ConfigureAwait(false);
        return [.. versions.Select(v => v with { Aliases = [.. aliases.Where(a => a.Version == v.Version).Select(a => a.Alias)] })];
    }

    private static ModelVersion ReadModelVersion(DbDataReader r) => new(
        r.GetString(0),
        r.GetInt32(1),
        r.GetString(2),
        ContentHash.Parse(r.GetString(3)),
        ContentHash.Parse(r.GetString(4)),
        JsonSerializer.Deserialize(r.GetString(5), CairnJson.Compact.ModelSignature)!,
        Time(r.GetInt64(6)),
        []);
}
