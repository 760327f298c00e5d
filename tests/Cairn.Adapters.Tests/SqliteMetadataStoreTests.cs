using Cairn.Adapters.Sql;
using Cairn.Adapters.Sqlite;
using Cairn.Core;
using Cairn.Core.Models;
using Cairn.Core.Runs;
using Microsoft.Data.Sqlite;

namespace Cairn.Adapters.Tests;

public sealed class SqliteMetadataStoreTests : MetadataStoreContract, IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    private string DatabasePath => Path.Combine(_directory.Path, "metadata.db");

    private protected override async Task<SqlMetadataStore> OpenAsync() => await SqliteMetadataStore.OpenAsync(DatabasePath, Clock, CancellationToken.None);

    [Fact]
    public async Task Open_AppliesMigrations_RecordsTheVersion_AndUsesWal()
    {
        var store = await OpenAsync();
        await OpenAsync(); // a second start finds nothing to do

        Assert.Equal(SqliteMetadataStore.CurrentSchemaVersion, await store.GetSchemaVersionAsync(CancellationToken.None));
        await using var connection = new SqliteConnection($"Data Source={DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Open_UpgradesADatabaseFromTheFirstSchema_AndBackfillsDerivedTables()
    {
        // A home written by the first release: schema 1 only, one finished run with a metric logged at two steps.
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = Migrations.All[0].Sql + """
                CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
                INSERT INTO schema_migrations VALUES (1, 'foundation', 0);
                INSERT INTO runs (id, name, status, started_at) VALUES ('0123456789abcdef0123456789abcdef', 'old', 'FINISHED', 0);
                INSERT INTO run_metrics VALUES ('0123456789abcdef0123456789abcdef', 'auc', 0.7, 0, 1), ('0123456789abcdef0123456789abcdef', 'auc', 0.8, 1, 2);
                INSERT INTO models VALUES ('old-model', NULL, 0, 0);
                INSERT INTO model_versions VALUES ('old-model', 1, '0123456789abcdef0123456789abcdef', '{{hash}}', '{{hash}}', '{"task":"binary","label":"y","inputs":[],"outputs":[]}', 5);
                INSERT INTO model_aliases VALUES ('old-model', 'champion', 1);
                """.Replace("{{hash}}", ContentHash.Of([1]).Hex, StringComparison.Ordinal);
            await command.ExecuteNonQueryAsync();
        }

        var store = await OpenAsync();

        Assert.Equal(SqliteMetadataStore.CurrentSchemaVersion, await store.GetSchemaVersionAsync(CancellationToken.None));
        var run = (await store.GetRunAsync("0123456789abcdef0123456789abcdef", CancellationToken.None))!;
        Assert.Equal((Experiment.DefaultId, LifecycleStage.Active), (run.ExperimentId, run.Lifecycle));
        Assert.Equal(0.8, Assert.Single(run.Metrics).Value);
        Assert.Equal([0.7, 0.8], (await store.GetMetricHistoryAsync(run.Id, "auc", CancellationToken.None)).Select(m => m.Value));
        var bucket = Assert.Single(await store.GetMetricBucketsAsync(run.Id, "auc", 1, null, null, CancellationToken.None));
        Assert.Equal(new MetricBucket(0, 1, 0.7, 0.8, 0.8, 2), bucket);
        Assert.Equal("Default", (await store.GetExperimentAsync("0", CancellationToken.None))!.Name);
        var version = (await store.GetModelVersionAsync("old-model", 1, CancellationToken.None))!;
        Assert.Equal(("runs:/0123456789abcdef0123456789abcdef/model", ModelStage.None), (version.Source, version.Stage));
        Assert.Equal(["champion"], version.Aliases);
        Assert.Equal(ContentHash.Of([1]), version.Package!.OnnxArtifact);
        // The upgraded tables cascade: renaming carries the alias along.
        await store.RenameModelAsync("old-model", "renamed", "t", CancellationToken.None);
        Assert.Equal(1, (await store.GetModelAsync("renamed", CancellationToken.None))!.Aliases["champion"]);
    }

    [Fact]
    public async Task Open_MovesPredictionsLoggedOnePerRowIntoSegments_KeepingTheirLabels()
    {
        // A home at schema 17, whose prediction log held a row per prediction; one label's prediction had left the log.
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = string.Concat(Migrations.All.Where(m => m.Version <= 17).Select(m => m.Sql)) + """
                CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
                INSERT INTO predictions VALUES ('p1', 'model', 'web', 1000, 'm', 1, 'yes', 0.9, '{"x":1}'), ('p1', 'shadow', 'web', 1000, 'm', 2, 'no', 0.2, '{"x":1}'),
                    ('p2/0', 'canary', 'web', 2000, 'm', 3, 'no', NULL, '{}'), ('q', 'model', 'api', 500, 'n', 1, '7.5', 7.5, '{}');
                INSERT INTO prediction_labels VALUES ('p1', 'web', 'yes', 3000, 'bob'), ('gone', 'web', 'no', 3000, 'bob');
                """ + string.Concat(Migrations.All.Where(m => m.Version <= 17).Select(m => $"INSERT INTO schema_migrations VALUES ({m.Version}, 'step', 0);"));
            await command.ExecuteNonQueryAsync();
        }

        var store = await OpenAsync();

        var found = (await store.FindPredictionsAsync("web", ["p1", "p2/0"], CancellationToken.None)).OrderBy(p => p.Id).ToList();
        Assert.Equal([("p1", "model", "yes", "{\"x\":1}"), ("p2/0", "canary", null, "{}")], found.Select(p => (p.Id, p.Role, p.Label, p.InputsJson)));
        Assert.Equal(3, (await store.ListPredictionsAsync("web", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), false, 10, CancellationToken.None)).Count);
        Assert.Equal("p1", Assert.Single(await store.ListPredictionsAsync("web", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), true, 10, CancellationToken.None)).Id);
        var arrivals = await store.LabelArrivalsAsync("web", TimeSpan.FromHours(1), DateTimeOffset.UnixEpoch, CancellationToken.None);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(3000), Assert.Single(arrivals).Value);
        Assert.Equal("7.5", Assert.Single(await store.FindPredictionsAsync("api", ["q"], CancellationToken.None)).Predicted);
    }

}
