using System.Data.Common;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Data;
using Cairn.Core.Ports;

namespace Cairn.Adapters.Sql;

public abstract partial class SqlMetadataStore
{
    private const string DatasetVersionColumns =
        "dataset, version, content_hash, size_bytes, row_count, source, schema_json, created_at, parent_version, message, profile_hash, format";

    /// <inheritdoc />
    public Task<(DatasetVersion Version, bool Created)> AddDatasetVersionAsync(NewDatasetVersion version, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        return WriteAsync(async (connection, transaction) =>
        {
            var existing = await QueryAsync(connection, transaction,
                $"SELECT {DatasetVersionColumns} FROM dataset_versions WHERE dataset = @name AND content_hash = @hash",
                [("@name", version.Name), ("@hash", version.ContentHash.Hex)], ReadDatasetVersion, cancellationToken).ConfigureAwait(false);
            if (existing.Count > 0)
            {
                return ((await WithTagsAsync(connection, existing, cancellationToken, transaction).ConfigureAwait(false))[0], false);
            }

            var now = Now();
            var isNew = await ScalarAsync(connection, transaction, "SELECT 1 FROM datasets WHERE name = @name", [("@name", version.Name)], cancellationToken)
                .ConfigureAwait(false) is null;
            await ExecuteAsync(connection, transaction,
                "INSERT INTO datasets (name, created_at, updated_at) VALUES (@name, @now, @now) ON CONFLICT (name) DO UPDATE SET updated_at = @now",
                [("@name", version.Name), ("@now", now)], cancellationToken).ConfigureAwait(false);
            if (isNew)
            {
                await GrantOwnerAsync(connection, transaction, actor, ResourceRef.Dataset(version.Name), cancellationToken).ConfigureAwait(false);
            }
            var number = (long)(await ScalarAsync(connection, transaction,
                "SELECT COALESCE(MAX(version), 0) + 1 FROM dataset_versions WHERE dataset = @name", [("@name", version.Name)], cancellationToken).ConfigureAwait(false))!;
            await ExecuteAsync(connection, transaction,
                "INSERT INTO dataset_versions (dataset, version, content_hash, size_bytes, row_count, source, schema_json, created_at, parent_version, message, format) " +
                "VALUES (@name, @version, @hash, @size, @rows, @source, @schema, @now, @parent, @message, @format)",
                [("@name", version.Name), ("@version", number), ("@hash", version.ContentHash.Hex), ("@size", version.SizeBytes),
                 ("@rows", version.RowCount), ("@source", version.Source), ("@schema", JsonSerializer.Serialize(version.Schema, CairnJson.Compact.TableSchema)),
                 ("@now", now), ("@parent", number > 1 ? number - 1 : null), ("@message", version.Message),
                 ("@format", version.Format.ToString().ToLowerInvariant())], cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in version.Tags)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO dataset_version_tags (dataset, version, key, value) VALUES (@name, @version, @key, @value)",
                    [("@name", version.Name), ("@version", number), ("@key", key), ("@value", value)], cancellationToken).ConfigureAwait(false);
            }

            var created = new DatasetVersion(version.Name, (int)number, version.ContentHash, version.SizeBytes, version.RowCount, version.Source, version.Schema, Time(now))
            {
                ParentVersion = number > 1 ? (int)number - 1 : null,
                Message = version.Message,
                Format = version.Format,
                Tags = new SortedDictionary<string, string>(version.Tags.ToDictionary(), StringComparer.Ordinal),
            };
            await RecordEventAsync(connection, transaction, actor, "dataset.version_added", created.Reference,
                new() { ["content_hash"] = version.ContentHash.Hex, ["rows"] = version.RowCount.ToString(System.Globalization.CultureInfo.InvariantCulture), ["source"] = version.Source },
                cancellationToken).ConfigureAwait(false);
            return (created, true);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<DatasetVersion?> FindDatasetVersionAsync(string name, ContentHash contentHash, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await WithTagsAsync(connection, await QueryAsync(connection, null,
            $"SELECT {DatasetVersionColumns} FROM dataset_versions WHERE dataset = @name AND content_hash = @hash",
            [("@name", name), ("@hash", contentHash.Hex)], ReadDatasetVersion, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(), cancellationToken);

    /// <inheritdoc />
    public Task<DatasetVersion?> GetDatasetVersionAsync(string name, int? version, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var rows = version is { } v
                ? await QueryAsync(connection, null, $"SELECT {DatasetVersionColumns} FROM dataset_versions WHERE dataset = @name AND version = @v",
                    [("@name", name), ("@v", v)], ReadDatasetVersion, cancellationToken).ConfigureAwait(false)
                : await QueryAsync(connection, null, $"SELECT {DatasetVersionColumns} FROM dataset_versions WHERE dataset = @name ORDER BY version DESC LIMIT 1",
                    [("@name", name)], ReadDatasetVersion, cancellationToken).ConfigureAwait(false);
            return (await WithTagsAsync(connection, rows, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<DatasetSummary>> ListDatasetsAsync(Visibility? visibleTo, CancellationToken cancellationToken)
    {
        var parameters = new List<(string, object?)>();
        var visible = Visible(visibleTo, ResourceKind.Dataset, "d.name", parameters);
        return ReadAsync<IReadOnlyList<DatasetSummary>>(async connection => await QueryAsync(connection, null, $"""
            SELECT d.name, MAX(v.version), COUNT(v.version), d.created_at, d.updated_at
            FROM datasets d JOIN dataset_versions v ON v.dataset = d.name
            WHERE {visible}
            GROUP BY d.name, d.created_at, d.updated_at ORDER BY d.name
            """, parameters, r => new DatasetSummary(r.GetString(0), Int(r, 1), Int(r, 2), Time(r.GetInt64(3)), Time(r.GetInt64(4))),
            cancellationToken).ConfigureAwait(false), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DatasetVersion>> ListDatasetVersionsAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<DatasetVersion>>(async connection => await WithTagsAsync(connection, await QueryAsync(connection, null,
            $"SELECT {DatasetVersionColumns} FROM dataset_versions WHERE dataset = @name ORDER BY version DESC",
            [("@name", name)], ReadDatasetVersion, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false), cancellationToken);

    // Versions of one dataset, with their tags from one more query.
    private static async Task<List<DatasetVersion>> WithTagsAsync(DbConnection connection, List<DatasetVersion> versions, CancellationToken cancellationToken,
        DbTransaction? transaction = null)
    {
        if (versions.Count == 0)
        {
            return versions;
        }

        var tags = (await QueryAsync(connection, transaction, "SELECT version, key, value FROM dataset_version_tags WHERE dataset = @name ORDER BY key",
            [("@name", versions[0].Name)], r => (Version: Int(r, 0), Key: r.GetString(1), Value: r.GetString(2)), cancellationToken).ConfigureAwait(false))
            .ToLookup(t => t.Version);
        return [.. versions.Select(v => v with
        {
            Tags = new SortedDictionary<string, string>(tags[v.Version].ToDictionary(t => t.Key, t => t.Value), StringComparer.Ordinal),
        })];
    }

    private static DatasetVersion ReadDatasetVersion(DbDataReader r) => new(
        r.GetString(0),
        Int(r, 1),
        ContentHash.Parse(r.GetString(2)),
        r.GetInt64(3),
        r.GetInt64(4),
        r.GetString(5),
        JsonSerializer.Deserialize(r.GetString(6), CairnJson.Compact.TableSchema)!,
        Time(r.GetInt64(7)))
    {
        ParentVersion = r.IsDBNull(8) ? null : Int(r, 8),
        Message = r.IsDBNull(9) ? null : r.GetString(9),
        ProfileHash = r.IsDBNull(10) ? null : ContentHash.Parse(r.GetString(10)),
        Format = Enum.Parse<DatasetFormat>(r.GetString(11), ignoreCase: true),
    };

    /// <inheritdoc />
    public Task SetDatasetProfileAsync(string name, int version, ContentHash profile, string actor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var updated = await ExecuteAsync(connection, transaction, "UPDATE dataset_versions SET profile_hash = @hash WHERE dataset = @name AND version = @version",
                [("@hash", profile.Hex), ("@name", name), ("@version", version)], cancellationToken).ConfigureAwait(false);
            if (updated == 0)
            {
                throw CairnException.NotFound($"Dataset '{name}' has no version {version}.");
            }

            await RecordEventAsync(connection, transaction, actor, "dataset.profiled", $"{name}@{version}", new() { ["profile"] = profile.Hex }, cancellationToken)
                .ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<ValidationReport> AddDatasetValidationAsync(ValidationReport report, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        return WriteAsync(async (connection, transaction) =>
        {
            var now = Now();
            await ExecuteAsync(connection, transaction, """
                INSERT INTO dataset_validations (dataset, version, contract_hash, passed, violations, result_json, created_at, created_by)
                VALUES (@name, @version, @contract, @passed, @violations, @result, @now, @actor)
                """,
                [("@name", report.Dataset), ("@version", report.Version), ("@contract", report.ContractHash.Hex), ("@passed", report.Passed ? 1 : 0),
                 ("@violations", report.Violations.Count), ("@result", JsonSerializer.Serialize(report, CairnJson.Compact.ValidationReport)), ("@now", now), ("@actor", actor)],
                cancellationToken).ConfigureAwait(false);
            await RecordEventAsync(connection, transaction, actor, "dataset.validated", $"{report.Dataset}@{report.Version}",
                new() { ["contract"] = report.ContractHash.Hex, ["passed"] = report.Passed ? "true" : "false" }, cancellationToken).ConfigureAwait(false);
            return report with { CreatedAt = Time(now), CreatedBy = actor };
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ValidationReport>> ListDatasetValidationsAsync(string name, int version, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ValidationReport>>(async connection => await QueryAsync(connection, null,
            "SELECT result_json, created_at, created_by FROM dataset_validations WHERE dataset = @name AND version = @version ORDER BY id DESC",
            [("@name", name), ("@version", version)],
            r => JsonSerializer.Deserialize(r.GetString(0), CairnJson.Compact.ValidationReport)! with { CreatedAt = Time(r.GetInt64(1)), CreatedBy = r.GetString(2) },
            cancellationToken).ConfigureAwait(false), cancellationToken);
}
