using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Search;

namespace Cairn.Adapters.Sql;

public abstract partial class SqlMetadataStore
{
    private const string ModelVersionColumns = "v.model, v.version, v.source, v.run_id, v.run_link, v.onnx_hash, v.mlnet_hash, v.signature_json, v.status, " +
        "v.status_message, v.stage, v.description, v.user_id, v.created_at, v.updated_at";

    /// <inheritdoc />
    public Task<RegisteredModel> CreateModelAsync(string name, string? description, IReadOnlyDictionary<string, string> tags, string actor,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return WriteAsync(async (connection, transaction) =>
        {
            if (await ScalarAsync(connection, transaction, "SELECT 1 FROM models WHERE name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new CairnException(ErrorCode.AlreadyExists, $"Registered model '{name}' already exists.");
            }

            await InsertModelAsync(connection, transaction, name, description, actor, cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in tags)
            {
                await UpsertModelTagAsync(connection, transaction, name, null, key, value, cancellationToken).ConfigureAwait(false);
            }

            await RecordEventAsync(connection, transaction, actor, "model.created", name, new(), cancellationToken).ConfigureAwait(false);
            return (await LoadModelsAsync(connection, transaction, "WHERE m.name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false))[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, bool createModel, string? alias, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        return WriteAsync(async (connection, transaction) =>
        {
            var exists = await ScalarAsync(connection, transaction, "SELECT 1 FROM models WHERE name = @name", [("@name", version.Model)], cancellationToken)
                .ConfigureAwait(false) is not null;
            if (!exists)
            {
                if (!createModel)
                {
                    throw NoSuchModel(version.Model);
                }

                await InsertModelAsync(connection, transaction, version.Model, null, actor, cancellationToken).ConfigureAwait(false);
            }

            if (version.RunId is { } runId &&
                await ScalarAsync(connection, transaction, "SELECT 1 FROM runs WHERE id = @id", [("@id", runId)], cancellationToken).ConfigureAwait(false) is null)
            {
                throw CairnException.NotFound($"There is no run with id '{runId}'.");
            }

            var now = Now();
            var number = (long)(await ScalarAsync(connection, transaction,
                "UPDATE models SET last_version = last_version + 1, updated_at = @now WHERE name = @name RETURNING last_version",
                [("@name", version.Model), ("@now", now)], cancellationToken).ConfigureAwait(false))!;
            var package = version.Package;
            await ExecuteAsync(connection, transaction, """
                INSERT INTO model_versions (model, version, source, run_id, run_link, onnx_hash, mlnet_hash, signature_json, status, stage, description,
                                            user_id, created_at, updated_at)
                VALUES (@model, @version, @source, @run, @link, @onnx, @mlnet, @signature, @status, @stage, @description, @user, @now, @now)
                """,
                [("@model", version.Model), ("@version", number), ("@source", version.Source), ("@run", version.RunId), ("@link", version.RunLink),
                 ("@onnx", package?.OnnxArtifact.Hex), ("@mlnet", package?.MlNetArtifact?.Hex),
                 ("@signature", package is null ? null : JsonSerializer.Serialize(package.Signature, CairnJson.Compact.ModelSignature)),
                 ("@status", RegistryNames.Of(ModelVersionStatus.Ready)), ("@stage", RegistryNames.Of(ModelStage.None)), ("@description", version.Description),
                 ("@user", actor), ("@now", now)],
                cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in version.Tags)
            {
                await UpsertModelTagAsync(connection, transaction, version.Model, (int)number, key, value, cancellationToken).ConfigureAwait(false);
            }

            await RecordEventAsync(connection, transaction, actor, "model.version_created", $"{version.Model}@{number}",
                new() { ["source"] = version.Source, ["run_id"] = version.RunId ?? "" }, cancellationToken).ConfigureAwait(false);
            if (alias is not null)
            {
                await SetAliasAsync(connection, transaction, version.Model, alias, (int)number, actor, cancellationToken).ConfigureAwait(false);
            }

            return await LoadVersionAsync(connection, transaction, version.Model, (int)number, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("The version just written is missing.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task UpdateModelAsync(string name, string? description, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, "UPDATE models SET description = @description, updated_at = @now WHERE name = @name",
                [("@name", name), ("@description", description), ("@now", Now())], cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "model.updated", name, new() { ["description"] = description ?? "" }, cancellationToken)
                .ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task RenameModelAsync(string name, string newName, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            if (newName != name &&
                await ScalarAsync(connection, transaction, "SELECT 1 FROM models WHERE name = @name", [("@name", newName)], cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new CairnException(ErrorCode.AlreadyExists, $"Registered model '{newName}' already exists.");
            }

            // Versions, aliases and tags follow through ON UPDATE CASCADE.
            await ExecuteAsync(connection, transaction, "UPDATE models SET name = @new, updated_at = @now WHERE name = @name",
                [("@name", name), ("@new", newName), ("@now", Now())], cancellationToken).ConfigureAwait(false);
            await MoveGrantsAsync(connection, transaction, ResourceKind.Model, name, newName, cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "model.renamed", newName, new() { ["previous_name"] = name }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task DeleteModelAsync(string name, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            var versions = await ScalarAsync(connection, transaction, "SELECT COUNT(*) FROM model_versions WHERE model = @name", [("@name", name)], cancellationToken)
                .ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, "DELETE FROM models WHERE name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false);
            await MoveGrantsAsync(connection, transaction, ResourceKind.Model, name, null, cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "model.deleted", name,
                new() { ["versions"] = Convert.ToString(versions, CultureInfo.InvariantCulture)! }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task UpdateModelVersionAsync(string name, int version, string? description, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RequireModelVersionAsync(connection, transaction, name, version, cancellationToken).ConfigureAwait(false);
            await TouchVersionAsync(connection, transaction, name, version, "description = @value", description, cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "model.version_updated", $"{name}@{version}",
                new() { ["description"] = description ?? "" }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<ModelVersion> TransitionModelVersionStageAsync(string name, int version, ModelStage stage, bool archiveExisting, string actor,
        CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RequireModelVersionAsync(connection, transaction, name, version, cancellationToken).ConfigureAwait(false);
            if (archiveExisting && stage is ModelStage.Staging or ModelStage.Production)
            {
                await ExecuteAsync(connection, transaction,
                    "UPDATE model_versions SET stage = @archived, updated_at = @now WHERE model = @model AND stage = @stage AND version != @version",
                    [("@model", name), ("@version", version), ("@stage", RegistryNames.Of(stage)), ("@archived", RegistryNames.Of(ModelStage.Archived)), ("@now", Now())],
                    cancellationToken).ConfigureAwait(false);
            }

            await TouchVersionAsync(connection, transaction, name, version, "stage = @value", RegistryNames.Of(stage), cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "model.version_stage_changed", $"{name}@{version}",
                new() { ["stage"] = RegistryNames.Of(stage), ["archive_existing"] = archiveExisting ? "true" : "false" }, cancellationToken).ConfigureAwait(false);
            return (await LoadVersionAsync(connection, transaction, name, version, cancellationToken).ConfigureAwait(false))!;
        }, cancellationToken);

    /// <inheritdoc />
    public Task DeleteModelVersionAsync(string name, int version, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await RequireModelVersionAsync(connection, transaction, name, version, cancellationToken).ConfigureAwait(false);
            // Its aliases and tags go with it (ON DELETE CASCADE); models.last_version keeps the number from being reused.
            await ExecuteAsync(connection, transaction, "DELETE FROM model_versions WHERE model = @model AND version = @version",
                [("@model", name), ("@version", version)], cancellationToken).ConfigureAwait(false);
            await TouchModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "model.version_deleted", $"{name}@{version}", new(), cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SetModelTagAsync(string name, int? version, string key, string? value, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (version is { } v)
            {
                await RequireModelVersionAsync(connection, transaction, name, v, cancellationToken).ConfigureAwait(false);
                await TouchVersionAsync(connection, transaction, name, v, null, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
                await TouchModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            }

            if (value is null)
            {
                await ExecuteAsync(connection, transaction, version is null
                        ? "DELETE FROM model_tags WHERE model = @model AND key = @key"
                        : "DELETE FROM model_version_tags WHERE model = @model AND version = @version AND key = @key",
                    [("@model", name), ("@version", version), ("@key", key)], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await UpsertModelTagAsync(connection, transaction, name, version, key, value, cancellationToken).ConfigureAwait(false);
            }

            await RecordEventAsync(connection, transaction, actor, value is null ? "model.tag_deleted" : "model.tag_set",
                version is { } n ? $"{name}@{n}" : name, new() { ["key"] = key }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SetAliasAsync(string model, string alias, int? version, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (version is { } v)
            {
                await RequireModelVersionAsync(connection, transaction, model, v, cancellationToken).ConfigureAwait(false);
                await SetAliasAsync(connection, transaction, model, alias, v, actor, cancellationToken).ConfigureAwait(false);
                return true;
            }

            await RequireModelAsync(connection, transaction, model, cancellationToken).ConfigureAwait(false);
            var previous = await ScalarAsync(connection, transaction, "DELETE FROM model_aliases WHERE model = @model AND alias = @alias RETURNING version",
                [("@model", model), ("@alias", alias)], cancellationToken).ConfigureAwait(false);
            if (previous is null)
            {
                throw CairnException.NotFound($"Model '{model}' has no alias '{alias}'.");
            }

            await TouchModelAsync(connection, transaction, model, cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "model.alias_deleted", model,
                new() { ["alias"] = alias, ["previous_version"] = Convert.ToString(previous, CultureInfo.InvariantCulture)! }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<RegisteredModel?> GetModelAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await LoadModelsAsync(connection, null, "WHERE m.name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<RegisteredModel>> SearchModelsAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new ModelQuerySql(_dialect);
        var where = query.Filter is { } filter ? sql.Expression(filter) : "TRUE";
        var order = sql.OrderBy(query.OrderBy, "m.name");
        var parameters = new List<(string, object?)>(sql.Parameters);
        var visible = Visible(query.VisibleTo, ResourceKind.Model, "m.name", parameters);
        return ReadAsync<IReadOnlyList<RegisteredModel>>(async connection => await LoadModelsAsync(connection, null,
            $"WHERE {where} AND {visible} ORDER BY {order} LIMIT {query.Limit} OFFSET {query.Offset}", [.. parameters], cancellationToken).ConfigureAwait(false),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelVersion>> SearchModelVersionsAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new ModelVersionQuerySql(_dialect);
        var where = query.Filter is { } filter ? sql.Expression(filter) : "TRUE";
        var order = sql.OrderBy(query.OrderBy, "v.model", "v.version DESC");
        var parameters = new List<(string, object?)>(sql.Parameters);
        var visible = Visible(query.VisibleTo, ResourceKind.Model, "v.model", parameters);
        return ReadAsync<IReadOnlyList<ModelVersion>>(async connection => await LoadVersionsAsync(connection, null,
            $"WHERE {where} AND {visible} ORDER BY {order} LIMIT {query.Limit} OFFSET {query.Offset}", [.. parameters], cancellationToken).ConfigureAwait(false),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelVersion>> ListModelVersionsAsync(string model, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ModelVersion>>(async connection => await LoadVersionsAsync(connection, null, "WHERE v.model = @model ORDER BY v.version DESC",
            [("@model", model)], cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task<ModelVersion?> GetModelVersionAsync(string model, int version, CancellationToken cancellationToken) =>
        ReadAsync(connection => LoadVersionAsync(connection, null, model, version, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEvent>> ListEventsAsync(AuditQuery query, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<AuditEvent>>(async connection => await QueryAsync(connection, null, """
            SELECT id, at, actor, kind, subject, detail FROM events
            WHERE (CAST(@user AS TEXT) IS NULL OR actor = @user OR SUBSTR(actor, 1, @length) = @prefix)
              AND (CAST(@kind AS TEXT) IS NULL OR SUBSTR(kind, 1, @kindLength) = @kind)
              AND (CAST(@since AS BIGINT) IS NULL OR at >= @since)
              AND (CAST(@until AS BIGINT) IS NULL OR at < @until)
            ORDER BY id DESC LIMIT @limit
            """, [("@limit", query.Limit), ("@user", query.User), ("@prefix", query.User + "/"), ("@length", (query.User?.Length ?? 0) + 1),
                ("@kind", query.Kind), ("@kindLength", query.Kind?.Length ?? 0),
                ("@since", query.Since?.ToUnixTimeMilliseconds()), ("@until", query.Until?.ToUnixTimeMilliseconds())],
            r => new AuditEvent(r.GetInt64(0), Time(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5)),
            cancellationToken).ConfigureAwait(false), cancellationToken);

    private static CairnException NoSuchModel(string name) => CairnException.NotFound($"There is no registered model '{name}'.");

    private async Task InsertModelAsync(DbConnection connection, DbTransaction transaction, string name, string? description, string actor,
        CancellationToken cancellationToken)
    {
        var now = Now();
        await ExecuteAsync(connection, transaction,
            "INSERT INTO models (name, description, user_id, created_at, updated_at) VALUES (@name, @description, @user, @now, @now)",
            [("@name", name), ("@description", description), ("@user", actor), ("@now", now)], cancellationToken).ConfigureAwait(false);
        await GrantOwnerAsync(connection, transaction, actor, ResourceRef.Model(name), cancellationToken).ConfigureAwait(false);
    }

    private static async Task RequireModelAsync(DbConnection connection, DbTransaction transaction, string name, CancellationToken cancellationToken)
    {
        if (await ScalarAsync(connection, transaction, "SELECT 1 FROM models WHERE name = @name", [("@name", name)], cancellationToken).ConfigureAwait(false) is null)
        {
            throw NoSuchModel(name);
        }
    }

    private static async Task RequireModelVersionAsync(DbConnection connection, DbTransaction transaction, string name, int version,
        CancellationToken cancellationToken)
    {
        await RequireModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
        if (await ScalarAsync(connection, transaction, "SELECT 1 FROM model_versions WHERE model = @model AND version = @version",
                [("@model", name), ("@version", version)], cancellationToken).ConfigureAwait(false) is null)
        {
            throw CairnException.NotFound($"Model '{name}' has no version {version}.");
        }
    }

    private Task TouchModelAsync(DbConnection connection, DbTransaction transaction, string name, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, "UPDATE models SET updated_at = @now WHERE name = @name", [("@name", name), ("@now", Now())], cancellationToken);

    // Sets one fixed column of a version (when given) and marks the version and its model as updated.
    private async Task TouchVersionAsync(DbConnection connection, DbTransaction transaction, string name, int version, string? assignment,
        object? value, CancellationToken cancellationToken)
    {
        var set = assignment is null ? "" : assignment + ", ";
        await ExecuteAsync(connection, transaction, $"UPDATE model_versions SET {set}updated_at = @now WHERE model = @model AND version = @version",
            [("@model", name), ("@version", version), ("@value", value), ("@now", Now())], cancellationToken).ConfigureAwait(false);
        await TouchModelAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
    }

    private static Task UpsertModelTagAsync(DbConnection connection, DbTransaction transaction, string name, int? version, string key, string value,
        CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, version is null
                ? "INSERT INTO model_tags (model, key, value) VALUES (@model, @key, @value) ON CONFLICT (model, key) DO UPDATE SET value = excluded.value"
                : "INSERT INTO model_version_tags (model, version, key, value) VALUES (@model, @version, @key, @value) ON CONFLICT (model, version, key) DO UPDATE SET value = excluded.value",
            [("@model", name), ("@version", version), ("@key", key), ("@value", value)], cancellationToken);

    private async Task SetAliasAsync(DbConnection connection, DbTransaction transaction, string model, string alias, int version, string actor,
        CancellationToken cancellationToken)
    {
        var previous = await ScalarAsync(connection, transaction, "SELECT version FROM model_aliases WHERE model = @model AND alias = @alias",
            [("@model", model), ("@alias", alias)], cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction,
            "INSERT INTO model_aliases (model, alias, version) VALUES (@model, @alias, @version) ON CONFLICT (model, alias) DO UPDATE SET version = @version",
            [("@model", model), ("@alias", alias), ("@version", version)], cancellationToken).ConfigureAwait(false);
        await TouchModelAsync(connection, transaction, model, cancellationToken).ConfigureAwait(false);
        var detail = new Dictionary<string, string> { ["alias"] = alias, ["version"] = version.ToString(CultureInfo.InvariantCulture) };
        if (previous is long p)
        {
            detail["previous_version"] = p.ToString(CultureInfo.InvariantCulture);
        }

        await RecordEventAsync(connection, transaction, actor, "model.alias_set", model, detail, cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<RegisteredModel>> LoadModelsAsync(DbConnection connection, DbTransaction? transaction, string whereAndOrder,
        (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        var models = await QueryAsync(connection, transaction, $"""
            SELECT m.name, m.description, m.user_id, m.created_at, m.updated_at,
                   COALESCE((SELECT MAX(version) FROM model_versions v WHERE v.model = m.name), 0)
            FROM models m {whereAndOrder}
            """, parameters,
            r => new RegisteredModel(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), Time(r.GetInt64(3)), Time(r.GetInt64(4)), Int(r, 5),
                new Dictionary<string, int>()) { User = r.IsDBNull(2) ? null : r.GetString(2) }, cancellationToken).ConfigureAwait(false);
        if (models.Count == 0)
        {
            return models;
        }

        var names = ("@names", (object?)_dialect.ListValue([.. models.Select(m => m.Name)]));
        var ofPage = _dialect.InList("model", "@names");
        var aliases = (await QueryAsync(connection, transaction, $"SELECT model, alias, version FROM model_aliases WHERE {ofPage} ORDER BY alias", [names],
            r => (Model: r.GetString(0), Alias: r.GetString(1), Version: Int(r, 2)), cancellationToken).ConfigureAwait(false)).ToLookup(a => a.Model);
        var tags = (await QueryAsync(connection, transaction, $"SELECT model, key, value FROM model_tags WHERE {ofPage} ORDER BY key", [names],
            r => (Model: r.GetString(0), Key: r.GetString(1), Value: r.GetString(2)), cancellationToken).ConfigureAwait(false)).ToLookup(t => t.Model);
        // The newest version in each stage, as MLflow's latest_versions lists them.
        var latest = (await LoadVersionsAsync(connection, transaction, $"""
            WHERE v.{ofPage} AND v.version = (SELECT MAX(w.version) FROM model_versions w WHERE w.model = v.model AND w.stage = v.stage)
            ORDER BY v.version
            """, [names], cancellationToken).ConfigureAwait(false)).ToLookup(v => v.Model);
        return [.. models.Select(m => m with
        {
            Aliases = new SortedDictionary<string, int>(aliases[m.Name].ToDictionary(a => a.Alias, a => a.Version), StringComparer.Ordinal),
            Tags = new SortedDictionary<string, string>(tags[m.Name].ToDictionary(t => t.Key, t => t.Value), StringComparer.Ordinal),
            LatestVersions = [.. latest[m.Name]],
        })];
    }

    private async Task<ModelVersion?> LoadVersionAsync(DbConnection connection, DbTransaction? transaction, string model, int version,
        CancellationToken cancellationToken) =>
        (await LoadVersionsAsync(connection, transaction, "WHERE v.model = @model AND v.version = @version", [("@model", model), ("@version", version)],
            cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    private async Task<List<ModelVersion>> LoadVersionsAsync(DbConnection connection, DbTransaction? transaction, string whereAndOrder,
        (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        var versions = await QueryAsync(connection, transaction, $"SELECT {ModelVersionColumns} FROM model_versions v {whereAndOrder}", parameters,
            ReadModelVersion, cancellationToken).ConfigureAwait(false);
        if (versions.Count == 0)
        {
            return versions;
        }

        var names = ("@names", (object?)_dialect.ListValue([.. versions.Select(v => v.Model).Distinct()]));
        var ofPage = _dialect.InList("model", "@names");
        var aliases = (await QueryAsync(connection, transaction, $"SELECT model, version, alias FROM model_aliases WHERE {ofPage} ORDER BY alias", [names],
            r => (Model: r.GetString(0), Version: Int(r, 1), Alias: r.GetString(2)), cancellationToken).ConfigureAwait(false))
            .ToLookup(a => (a.Model, a.Version), a => a.Alias);
        var tags = (await QueryAsync(connection, transaction, $"SELECT model, version, key, value FROM model_version_tags WHERE {ofPage} ORDER BY key", [names],
            r => (Model: r.GetString(0), Version: Int(r, 1), Key: r.GetString(2), Value: r.GetString(3)), cancellationToken).ConfigureAwait(false))
            .ToLookup(t => (t.Model, t.Version));
        return [.. versions.Select(v => v with
        {
            Aliases = [.. aliases[(v.Model, v.Version)]],
            Tags = new SortedDictionary<string, string>(tags[(v.Model, v.Version)].ToDictionary(t => t.Key, t => t.Value), StringComparer.Ordinal),
        })];
    }

    private static ModelVersion ReadModelVersion(DbDataReader r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        var package = r.IsDBNull(5)
            ? null
            : new ModelPackage(ContentHash.Parse(r.GetString(5)), r.IsDBNull(6) ? null : ContentHash.Parse(r.GetString(6)),
                JsonSerializer.Deserialize(r.GetString(7), CairnJson.Compact.ModelSignature)!);
        return new ModelVersion(r.GetString(0), Int(r, 1), r.GetString(2), Text(3), package, Time(r.GetInt64(13)), [])
        {
            RunLink = Text(4),
            Status = RegistryNames.ParseStatus(r.GetString(8)),
            StatusMessage = Text(9),
            Stage = RegistryNames.ParseStage(r.GetString(10)),
            Description = Text(11),
            User = Text(12),
            UpdatedAt = Time(r.GetInt64(14)),
        };
    }
}
