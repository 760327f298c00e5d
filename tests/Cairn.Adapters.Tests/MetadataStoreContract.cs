using Cairn.Adapters.Sql;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Identity;
using Cairn.Core.Models;
using Cairn.Core.Monitoring;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Cairn.Core.Search;
using Microsoft.Extensions.Time.Testing;

namespace Cairn.Adapters.Tests;

/// <summary>
/// What every metadata store must do, run against each one (SQLite and PostgreSQL): a subclass opens a store on a
/// fresh database, and opening again within a test reaches the same database.
/// </summary>
public abstract class MetadataStoreContract
{
    private static readonly TableSchema Schema = new([new ColumnSchema("x", ColumnType.Numeric, false, 0, 3)]);
    private static readonly ModelSignature Signature = new(TaskKind.Binary, "y", ["a", "b"], [new SignatureInput("x", ColumnType.Numeric)],
        ModelSignature.OutputsFor(TaskKind.Binary, 2));

    private protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));

    /// <summary>Opens the store under test on this test's database.</summary>
    private protected abstract Task<SqlMetadataStore> OpenAsync();

    private static NewDatasetVersion Dataset(string name, byte content) => new(name, ContentHash.Of([content]), 10, 3, "f.csv", Schema);

    [Fact]
    public async Task AddDatasetVersion_NumbersVersions_AndDeduplicatesContent()
    {
        var store = await OpenAsync();

        var (first, created1) = await store.AddDatasetVersionAsync(Dataset("d", 1), "tester", CancellationToken.None);
        var (again, created2) = await store.AddDatasetVersionAsync(Dataset("d", 1), "tester", CancellationToken.None);
        var (second, created3) = await store.AddDatasetVersionAsync(Dataset("d", 2), "tester", CancellationToken.None);

        Assert.Equal((1, true), (first.Version, created1));
        Assert.Equal((1, false), (again.Version, created2));
        Assert.Equal((2, true), (second.Version, created3));
        Assert.Equal(2, (await store.GetDatasetVersionAsync("d", null, CancellationToken.None))!.Version);
        Assert.Equal("x", (await store.GetDatasetVersionAsync("d", 1, CancellationToken.None))!.Schema.Columns[0].Name);
        var summary = Assert.Single(await store.ListDatasetsAsync(null, CancellationToken.None));
        Assert.Equal((2, 2), (summary.LatestVersion, summary.VersionCount));
    }

    [Fact]
    public async Task Identity_TokensAreFoundByHash_GrantsFollowGroups_AndListsAreFilteredInTheQuery()
    {
        var store = await OpenAsync();
        var alice = await store.CreatePrincipalAsync(new NewPrincipal("alice", PrincipalKind.User, "Alice", false), "root", CancellationToken.None);
        await store.CreatePrincipalAsync(new NewPrincipal("team", PrincipalKind.Group, null, false), "root", CancellationToken.None);
        var taken = await Assert.ThrowsAsync<CairnException>(() => store.CreatePrincipalAsync(new NewPrincipal("team", PrincipalKind.User, null, false), "root", CancellationToken.None));
        Assert.Equal(ErrorCode.AlreadyExists, taken.Code);
        await store.SetMembershipAsync("team", "alice", true, "root", CancellationToken.None);
        Assert.Equal(["team"], (await store.GetPrincipalAsync("alice", CancellationToken.None))!.Groups);

        // A token is stored under its secret's hash, found by it, and revoked once.
        var revision = await store.GetRevisionAsync(CancellationToken.None);
        var token = new ApiToken("0123456789ab", "alice", "ci", Role.Viewer, Clock.GetUtcNow(), "root", Clock.GetUtcNow().AddDays(1));
        await store.CreateTokenAsync(token, "hash-of-secret", "root", CancellationToken.None);
        Assert.True(await store.GetRevisionAsync(CancellationToken.None) > revision);
        var (found, owner) = (await store.FindTokenAsync("hash-of-secret", CancellationToken.None))!.Value;
        Assert.Equal(("ci", Role.Viewer, "alice"), (found.Name, found.Scope, owner.Name));
        Assert.Null(await store.FindTokenAsync("another-hash", CancellationToken.None));
        Assert.Equal(ErrorCode.AlreadyExists, (await Assert.ThrowsAsync<CairnException>(() =>
            store.CreateTokenAsync(token with { Id = "ba9876543210" }, "other", "root", CancellationToken.None))).Code);
        var revoked = await store.RevokeTokenAsync("alice", "ci", "root", CancellationToken.None);
        Assert.NotNull(revoked.RevokedAt);
        Assert.NotNull((await store.FindTokenAsync("hash-of-secret", CancellationToken.None))!.Value.Token.RevokedAt);

        // Grants to the group reach alice; lists filtered by visibility keep only what she may see, in the query.
        await store.AddDatasetVersionAsync(Dataset("open", 1), "root", CancellationToken.None);
        await store.AddDatasetVersionAsync(Dataset("closed", 2), "root", CancellationToken.None);
        var visibleExperiment = await store.CreateExperimentAsync("seen", null, new Dictionary<string, string>(), "root", CancellationToken.None);
        await store.CreateExperimentAsync("unseen", null, new Dictionary<string, string>(), "root", CancellationToken.None);
        await store.SetGrantAsync("team", ResourceRef.Dataset("open"), Role.Viewer, "root", CancellationToken.None);
        await store.SetGrantAsync("team", ResourceRef.Experiment(visibleExperiment.Id), Role.Editor, "root", CancellationToken.None);
        await store.SetGrantAsync("alice", ResourceRef.Dataset("closed"), Role.Predict, "root", CancellationToken.None);
        var access = await store.LoadAccessAsync(alice.Id, CancellationToken.None);
        var visibility = new Visibility([alice.Id, .. access.GroupIds]);
        Assert.Equal(["open"], (await store.ListDatasetsAsync(visibility, CancellationToken.None)).Select(d => d.Name));
        Assert.Equal(["open", "closed"], (await store.ListDatasetsAsync(visibility with { Least = Role.Predict }, CancellationToken.None)).Select(d => d.Name).Order().Reverse());
        Assert.Equal(["seen"], (await store.SearchExperimentsAsync(null, new SearchQuery(null, [], 100, 0) { VisibleTo = visibility }, CancellationToken.None))
            .Select(e => e.Name));
        Assert.Empty(await store.ListDatasetsAsync(new Visibility([]), CancellationToken.None));

        // Whoever creates a resource maintains it; the audit log can be read per user, tokens included.
        await store.CreateModelAsync("m", null, new Dictionary<string, string>(), "alice/ci", CancellationToken.None);
        Assert.Contains(await store.ListGrantsAsync("alice", ResourceRef.Model("m"), CancellationToken.None), g => g.Role == Role.Maintainer);
        await store.RenameModelAsync("m", "m2", "alice", CancellationToken.None);
        Assert.Contains(await store.ListGrantsAsync("alice", ResourceRef.Model("m2"), CancellationToken.None), g => g.Role == Role.Maintainer);
        Assert.All(await store.ListEventsAsync(new AuditQuery(100, "alice"), CancellationToken.None), e => Assert.StartsWith("alice", e.Actor, StringComparison.Ordinal));
        Assert.Equal(2, (await store.ListEventsAsync(new AuditQuery(100, "alice"), CancellationToken.None)).Count);
        // By kind (a prefix) and by time, in the query rather than after it.
        Assert.Equal(["model.renamed", "model.created"], (await store.ListEventsAsync(new AuditQuery(100, Kind: "model."), CancellationToken.None)).Select(e => e.Kind));
        Assert.Equal(["model.renamed"], (await store.ListEventsAsync(new AuditQuery(100, Kind: "model.renamed"), CancellationToken.None)).Select(e => e.Kind));
        var newest = (await store.ListEventsAsync(new AuditQuery(1), CancellationToken.None))[0];
        Assert.Equal(newest.Id, (await store.ListEventsAsync(new AuditQuery(100, Since: newest.At), CancellationToken.None))[0].Id);
        Assert.Empty(await store.ListEventsAsync(new AuditQuery(100, Since: newest.At.AddMilliseconds(1)), CancellationToken.None));
        Assert.DoesNotContain(await store.ListEventsAsync(new AuditQuery(100, Until: newest.At), CancellationToken.None), e => e.Id == newest.Id);
    }

    [Fact]
    public async Task DatasetProfilesAndValidations_AreStoredWithTheVersion()
    {
        var store = await OpenAsync();
        await store.AddDatasetVersionAsync(Dataset("d", 1), "tester", CancellationToken.None);
        var profile = ContentHash.Of([9]);

        await store.SetDatasetProfileAsync("d", 1, profile, "tester", CancellationToken.None);
        var violation = new Violation("x", "max", "1 value(s) above the maximum 3.", 1, ["row 2: '4'"]);
        var stored = await store.AddDatasetValidationAsync(new ValidationReport("d", 1, ContentHash.Of([7]), false, 3, [violation], DateTimeOffset.UnixEpoch), "tester",
            CancellationToken.None);
        await store.AddDatasetValidationAsync(new ValidationReport("d", 1, ContentHash.Of([8]), true, 3, [], DateTimeOffset.UnixEpoch), "tester", CancellationToken.None);

        Assert.Equal(profile, (await store.GetDatasetVersionAsync("d", 1, CancellationToken.None))!.ProfileHash);
        Assert.Equal(Clock.GetUtcNow(), stored.CreatedAt);
        var validations = await store.ListDatasetValidationsAsync("d", 1, CancellationToken.None);
        Assert.Equal([true, false], validations.Select(v => v.Passed));
        var read = validations[1].Violations.Single();
        Assert.Equal((violation.Column, violation.Rule, violation.Message, violation.Count), (read.Column, read.Rule, read.Message, read.Count));
        Assert.Equal(violation.Examples, read.Examples);
        Assert.Equal("tester", validations[1].CreatedBy);
        await Assert.ThrowsAsync<CairnException>(() => store.SetDatasetProfileAsync("d", 9, profile, "tester", CancellationToken.None));
    }

    [Fact]
    public async Task Runs_RecordEverythingAtFinish_IncludingNaNAndInfinity()
    {
        var store = await OpenAsync();
        await store.AddDatasetVersionAsync(Dataset("d", 1), "tester", CancellationToken.None);
        var run = Run.Start(Ids.NewRunId(), "r", Clock.GetUtcNow());
        await store.CreateRunAsync(run, "tester", CancellationToken.None);
        Assert.Equal(RunStatus.Running, (await store.GetRunAsync(run.Id, CancellationToken.None))!.Status);

        Clock.Advance(TimeSpan.FromSeconds(5));
        var hash = ContentHash.Of([9]);
        await store.FinishRunAsync(run.Id, new RunCompletion(
            new Dictionary<string, string> { ["trainer"] = "lightgbm" },
            [new Metric("auc", 0.9, 0, Clock.GetUtcNow()), new Metric("nan", double.NaN, 0, Clock.GetUtcNow()), new Metric("inf", double.PositiveInfinity, 1, Clock.GetUtcNow())],
            new Dictionary<string, string> { ["team"] = "fraud" },
            [RunInput.OfDatasetVersion("d", 1, "training")],
            [new RunArtifact("model/model.onnx", hash, 42)]), Clock.GetUtcNow(), "tester", CancellationToken.None);

        var finished = (await store.GetRunAsync(run.Id, CancellationToken.None))!;
        Assert.Equal(RunStatus.Finished, finished.Status);
        Assert.Equal(TimeSpan.FromSeconds(5), finished.EndedAt - finished.StartedAt);
        Assert.Equal("lightgbm", finished.Params["trainer"]);
        Assert.Equal("fraud", finished.Tags["team"]);
        Assert.Equal(0.9, finished.Metrics.Single(m => m.Key == "auc").Value);
        Assert.True(double.IsNaN(finished.Metrics.Single(m => m.Key == "nan").Value));
        Assert.Equal(double.PositiveInfinity, finished.Metrics.Single(m => m.Key == "inf").Value);
        var input = Assert.Single(finished.Inputs);
        Assert.Equal(("d", 1, "training", "cairn", "cairn:datasets/d@1"), (input.Dataset, input.Version, input.Context, input.SourceType, input.Source));
        Assert.Equal((await store.GetDatasetVersionAsync("d", 1, CancellationToken.None))!.ContentHash.Hex, input.Digest);
        Assert.Equal(hash, finished.Artifact("model/model.onnx")!.ContentHash);
        Assert.Equal(run.Id, Assert.Single(await store.ListRunsAsync(10, null, CancellationToken.None)).Id);
    }

    [Fact]
    public async Task FinishRun_Twice_IsAConflict_AndWritesNothing()
    {
        var store = await OpenAsync();
        var run = Run.Start(Ids.NewRunId(), "r", Clock.GetUtcNow());
        await store.CreateRunAsync(run, "tester", CancellationToken.None);
        await store.FailRunAsync(run.Id, "boom", Clock.GetUtcNow(), "tester", CancellationToken.None);

        var e = await Assert.ThrowsAsync<CairnException>(() => store.FinishRunAsync(run.Id,
            new RunCompletion(new Dictionary<string, string> { ["p"] = "1" }, [], new Dictionary<string, string>(), [], []), Clock.GetUtcNow(), "tester", CancellationToken.None));

        Assert.Equal(ErrorCode.Conflict, e.Code);
        var failed = (await store.GetRunAsync(run.Id, CancellationToken.None))!;
        Assert.Equal((RunStatus.Failed, "boom"), (failed.Status, failed.Error));
        Assert.Empty(failed.Params);
    }

    [Fact]
    public async Task ModelVersions_AreNumbered_AndAliasesMove_WithEvents()
    {
        var store = await OpenAsync();
        var run = Run.Start(Ids.NewRunId(), "r", Clock.GetUtcNow());
        await store.CreateRunAsync(run, "tester", CancellationToken.None);
        var model = new NewModelVersion("m", $"runs:/{run.Id}/model", run.Id, new ModelPackage(ContentHash.Of([1]), ContentHash.Of([2]), Signature));

        var v1 = await store.CreateModelVersionAsync(model, true, "champion", "tester", CancellationToken.None);
        var v2 = await store.CreateModelVersionAsync(model, true, null, "tester", CancellationToken.None);
        await store.SetAliasAsync("m", "champion", 2, "tester", CancellationToken.None);

        Assert.Equal((1, 2), (v1.Version, v2.Version));
        var registered = (await store.GetModelAsync("m", CancellationToken.None))!;
        Assert.Equal(2, registered.Aliases["champion"]);
        Assert.Equal(2, registered.LatestVersion);
        var versions = await store.ListModelVersionsAsync("m", CancellationToken.None);
        Assert.Equal(["champion"], versions.Single(v => v.Version == 2).Aliases);
        Assert.Equal(Signature.Classes, versions[0].Package!.Signature.Classes);
        var events = await store.ListEventsAsync(new AuditQuery(10), CancellationToken.None);
        var moved = events.First(e => e.Kind == "model.alias_set");
        Assert.Contains("\"previous_version\":\"1\"", moved.Detail);
        Assert.Equal("tester", moved.Actor);
        await Assert.ThrowsAsync<CairnException>(() => store.SetAliasAsync("m", "champion", 9, "tester", CancellationToken.None));
    }

    [Fact]
    public async Task Registry_DescribesTagsRenamesAndDeletes_WithoutReusingNumbers()
    {
        var store = await OpenAsync();
        await store.CreateModelAsync("fraud", "first cut", new Dictionary<string, string> { ["team"] = "risk" }, "ana", CancellationToken.None);
        var external = new NewModelVersion("fraud", "s3://bucket/model", null, null) { Description = "from a notebook", Tags = new Dictionary<string, string> { ["k"] = "v" } };
        await store.CreateModelVersionAsync(external, false, "champion", "ana", CancellationToken.None);
        await store.CreateModelVersionAsync(external, false, null, "ana", CancellationToken.None);
        await Assert.ThrowsAsync<CairnException>(() => store.CreateModelVersionAsync(external with { Model = "nope" }, false, null, "ana", CancellationToken.None));
        await Assert.ThrowsAsync<CairnException>(() => store.CreateModelAsync("fraud", null, new Dictionary<string, string>(), "ana", CancellationToken.None));

        await store.TransitionModelVersionStageAsync("fraud", 2, ModelStage.Production, archiveExisting: true, "ana", CancellationToken.None);
        await store.SetModelTagAsync("fraud", 2, "validated", "yes", "ana", CancellationToken.None);
        await store.UpdateModelAsync("fraud", "second cut", "bo", CancellationToken.None);
        await store.RenameModelAsync("fraud", "fraud-detector", "bo", CancellationToken.None);

        Assert.Null(await store.GetModelAsync("fraud", CancellationToken.None));
        var model = (await store.GetModelAsync("fraud-detector", CancellationToken.None))!;
        Assert.Equal(("second cut", "ana", "risk", 1), (model.Description, model.User, model.Tags["team"], model.Aliases["champion"]));
        Assert.Equal([(1, ModelStage.None), (2, ModelStage.Production)], model.LatestVersions.Select(v => (v.Version, v.Stage)));
        var v2 = (await store.GetModelVersionAsync("fraud-detector", 2, CancellationToken.None))!;
        Assert.Equal(("s3://bucket/model", "from a notebook", "yes", ModelVersionStatus.Ready), (v2.Source, v2.Description, v2.Tags["validated"], v2.Status));
        Assert.Null(v2.Package);

        var found = await store.SearchModelVersionsAsync(SearchQuery.Parse("name = 'fraud-detector' AND tags.validated = 'yes'", [], FilterVocabulary.ModelVersions, 10, 0),
            CancellationToken.None);
        Assert.Equal([2], found.Select(v => v.Version));

        await store.DeleteModelVersionAsync("fraud-detector", 1, "bo", CancellationToken.None);
        Assert.Empty((await store.GetModelAsync("fraud-detector", CancellationToken.None))!.Aliases);
        var v3 = await store.CreateModelVersionAsync(external with { Model = "fraud-detector" }, false, null, "bo", CancellationToken.None);
        Assert.Equal(3, v3.Version);

        await store.DeleteModelAsync("fraud-detector", "bo", CancellationToken.None);
        Assert.Empty(await store.SearchModelsAsync(new SearchQuery(null, [], 10, 0), CancellationToken.None));
        var kinds = (await store.ListEventsAsync(new AuditQuery(50), CancellationToken.None)).Select(e => e.Kind).ToList();
        Assert.Contains("model.renamed", kinds);
        Assert.Contains("model.version_stage_changed", kinds);
        Assert.Contains("model.version_deleted", kinds);
        Assert.Equal("model.deleted", kinds[0]);
    }

    [Fact]
    public async Task LogBatch_KeepsTheFullSeries_AndTheLatestPointByStepThenTime()
    {
        var store = await OpenAsync();
        var run = Run.Start(Ids.NewRunId(), "r", Clock.GetUtcNow());
        await store.CreateRunAsync(run, "tester", CancellationToken.None);
        Metric At(double value, long step, long ms) => new("loss", value, step, DateTimeOffset.FromUnixTimeMilliseconds(ms));

        await store.LogBatchAsync(run.Id, [At(0.9, 5, 100), At(0.1, 2, 300)], [], [], null, "t", CancellationToken.None);
        await store.LogBatchAsync(run.Id, [At(0.5, 1, 900)], [], [], null, "t", CancellationToken.None);
        var latestAfterOlderStep = Assert.Single((await store.GetRunAsync(run.Id, CancellationToken.None))!.Metrics);
        await store.LogBatchAsync(run.Id, [At(0.7, 5, 200)], [], [], null, "t", CancellationToken.None);

        Assert.Equal(0.9, latestAfterOlderStep.Value);
        Assert.Equal(0.7, Assert.Single((await store.GetRunAsync(run.Id, CancellationToken.None))!.Metrics).Value);
        var history = await store.GetMetricHistoryAsync(run.Id, "loss", CancellationToken.None);
        Assert.Equal([(1L, 0.5), (2L, 0.1), (5L, 0.9), (5L, 0.7)], history.Select(m => (m.Step, m.Value)));
    }

    [Fact]
    public async Task LogBatch_WithAKnownBatchId_IsAcknowledgedButNotAppliedTwice()
    {
        var store = await OpenAsync();
        var run = Run.Start(Ids.NewRunId(), "r", Clock.GetUtcNow());
        await store.CreateRunAsync(run, "tester", CancellationToken.None);
        Metric[] points = [new("loss", 1, 0, Clock.GetUtcNow()), new("loss", 2, 1, Clock.GetUtcNow())];

        await store.LogBatchAsync(run.Id, points, [], [], "batch-1", "t", CancellationToken.None);
        await store.LogBatchAsync(run.Id, points, [], [], "batch-1", "t", CancellationToken.None);
        await store.LogBatchAsync(run.Id, points, [], [], "batch-2", "t", CancellationToken.None);

        Assert.Equal(4, (await store.GetMetricHistoryAsync(run.Id, "loss", CancellationToken.None)).Count);
    }

    [Fact]
    public async Task MetricBuckets_FromRollups_AgreeWithThePoints()
    {
        var store = await OpenAsync();
        var run = Run.Start(Ids.NewRunId(), "r", Clock.GetUtcNow());
        await store.CreateRunAsync(run, "tester", CancellationToken.None);
        var random = new Random(3);
        var points = Enumerable.Range(0, 8192).Select(step => new Metric("loss", random.NextDouble(), step, Clock.GetUtcNow())).ToList();
        foreach (var batch in points.Chunk(700).Reverse())
        {
            await store.LogBatchAsync(run.Id, batch, [], [], null, "t", CancellationToken.None);
        }

        var buckets = await store.GetMetricBucketsAsync(run.Id, "loss", 4, null, null, CancellationToken.None);

        Assert.Equal(4, buckets.Count);
        foreach (var (bucket, i) in buckets.Select((b, i) => (b, i)))
        {
            var expected = points.Skip(i * 2048).Take(2048).ToList();
            Assert.Equal(new MetricBucket(i * 2048, (i * 2048) + 2047, expected.Min(p => p.Value), expected.Max(p => p.Value), expected[^1].Value, 2048), bucket);
        }

        // A zoomed window narrower than the rollups holds its points one by one, and nothing outside it.
        var window = await store.GetMetricBucketsAsync(run.Id, "loss", 1000, 5000, 5099, CancellationToken.None);
        Assert.Equal(100, window.Count);
        Assert.Equal(points.Skip(5000).Take(100).Select(p => new MetricBucket(p.Step, p.Step, p.Value, p.Value, p.Value, 1)), window);
    }

    [Fact]
    public async Task ConcurrentWriters_FromTwoStoresOnOneFile_NeverSeeALockedDatabase()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();

        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(() =>
            (i % 2 == 0 ? a : b).AddDatasetVersionAsync(new NewDatasetVersion("d", ContentHash.Of(BitConverter.GetBytes(i)), 1, 1, "f", Schema), "t", CancellationToken.None))));

        var versions = await a.ListDatasetVersionsAsync("d", CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, 60).Reverse(), versions.Select(v => v.Version));
    }

    [Fact]
    public async Task SearchRuns_FiltersAndOrdersAlikeInEveryStore()
    {
        var store = await OpenAsync();
        async Task<string> RunAsync(string name, double? auc, string trainer, string team)
        {
            var run = Run.Start(Ids.NewRunId(), name, Clock.GetUtcNow());
            Clock.Advance(TimeSpan.FromSeconds(1));
            await store.CreateRunAsync(run, "t", CancellationToken.None);
            Metric[] metrics = auc is { } value ? [new Metric("auc", value, 0, Clock.GetUtcNow())] : [];
            await store.LogBatchAsync(run.Id, metrics, [new("trainer", trainer)], [new("team", team)], null, "t", CancellationToken.None);
            return name;
        }

        await RunAsync("a", 0.95, "lightgbm", "Fraud-EU");
        await RunAsync("b", 0.80, "fasttree", "fraud-us");
        await RunAsync("c", double.NaN, "lightgbm", "churn");
        await RunAsync("d", null, "sdca", "fraud_x");
        var longValue = await RunAsync("e", 0.1, new string('p', TrackingLimits.MaxParamValueLength), new string('t', TrackingLimits.MaxTagValueLength));
        async Task<string[]> SearchAsync(string? filter, params string[] orderBy)
        {
            var query = SearchQuery.Parse(filter, orderBy, FilterVocabulary.Runs, 100, 0);
            var runs = await store.SearchRunsAsync(new RunQuery([Experiment.DefaultId], query.Filter, LifecycleStage.Active, query.OrderBy, 100, 0),
                CancellationToken.None);
            return [.. runs.Select(r => r.Name)];
        }

        Assert.Equal(["a", "b"], await SearchAsync("metrics.auc > 0.5", "metrics.auc DESC"));
        Assert.Equal(["b", "d"], await SearchAsync("tags.team LIKE 'fraud%'", "attributes.run_name"));
        Assert.Equal(["a", "b", "d"], await SearchAsync("tags.team ILIKE 'FRAUD%'", "attributes.run_name"));
        Assert.Equal(["d"], await SearchAsync("tags.team LIKE 'fraud\\_%'"));
        Assert.Equal(["d"], await SearchAsync("metrics.auc IS NULL"));
        Assert.Equal([longValue], await SearchAsync($"params.trainer = '{new string('p', TrackingLimits.MaxParamValueLength)}'"));
        Assert.Equal(["a", "c"], await SearchAsync("params.trainer IN ('lightgbm') OR (params.trainer = 'x' AND metrics.auc < 1)", "attributes.run_name"));
        // Runs without the metric come last, whichever way the metric is ordered.
        Assert.Equal(["e", "b", "a", "c", "d"], await SearchAsync(null, "metrics.auc ASC", "attributes.run_name"));
    }

    [Fact]
    public async Task SearchRuns_FiltersAtTheParsersLimits_RunInEveryStore()
    {
        var store = await OpenAsync();
        var run = Run.Start(Ids.NewRunId(), "limits", Clock.GetUtcNow());
        await store.CreateRunAsync(run, "t", CancellationToken.None);
        await store.LogBatchAsync(run.Id, [new Metric("auc", 0.9, 0, Clock.GetUtcNow())], [new("p", "7")], [], null, "t", CancellationToken.None);
        async Task<int> CountAsync(string filter)
        {
            var query = SearchQuery.Parse(filter, Enumerable.Repeat("metrics.auc DESC", SearchQuery.MaxOrderBy), FilterVocabulary.Runs, 10, 0);
            return (await store.SearchRunsAsync(new RunQuery([Experiment.DefaultId], query.Filter, LifecycleStage.Active, query.OrderBy, 10, 0),
                CancellationToken.None)).Count;
        }

        var nested = new string('(', Filter.MaxDepth) + "metrics.auc > 0.5" + new string(')', Filter.MaxDepth);
        var terms = string.Join(" OR ", Enumerable.Range(0, Filter.MaxTerms - 1).Select(i => $"params.p = '{i + 100}'")) + " OR metrics.auc > 0.5";
        var allAnd = string.Join(" AND ", Enumerable.Range(0, Filter.MaxTerms / 2).Select(i => $"(metrics.auc > 0.{i % 9} OR tags.t IS NULL)"));
        var values = "params.p IN (" + string.Join(", ", Enumerable.Range(0, Filter.MaxValues).Select(i => $"'{i}'")) + ")";

        Assert.Equal(1, await CountAsync(nested));
        Assert.Equal(1, await CountAsync(terms));
        Assert.Equal(1, await CountAsync(allAnd));
        Assert.Equal(1, await CountAsync(values));
    }

    [Fact]
    public async Task DatasetInputs_LinkACairnVersionByDigestPrefix_AndArtifactsCanBeRemovedByDirectory()
    {
        var store = await OpenAsync();
        var (dataset, _) = await store.AddDatasetVersionAsync(Dataset("d", 1), "t", CancellationToken.None);
        var run = Run.Start(Ids.NewRunId(), "r", Clock.GetUtcNow());
        await store.CreateRunAsync(run, "t", CancellationToken.None);

        await store.LogInputsAsync(run.Id, [
            new RunInput("d", null, "training") { Digest = dataset.ContentHash.Hex[..8], SourceType = "local", Source = "d.csv" },
            new RunInput("other", null, "eval") { Digest = "12345678", SourceType = "s3", Source = "s3://b/o" },
            new RunInput("other", null, "eval") { Digest = "12345678", SourceType = "s3", Source = "s3://b/o" },
        ], "t", CancellationToken.None);
        await store.SetRunArtifactAsync(run.Id, new RunArtifact("dir/a.txt", ContentHash.Of([1]), 1), "t", CancellationToken.None);
        await store.SetRunArtifactAsync(run.Id, new RunArtifact("dir/sub/b.txt", ContentHash.Of([2]), 1), "t", CancellationToken.None);
        await store.SetRunArtifactAsync(run.Id, new RunArtifact("dir2.txt", ContentHash.Of([3]), 1), "t", CancellationToken.None);
        var removed = await store.DeleteRunArtifactsAsync(run.Id, "dir", "t", CancellationToken.None);

        var read = (await store.GetRunAsync(run.Id, CancellationToken.None))!;
        Assert.Equal([("d", (int?)1), ("other", null)], read.Inputs.Select(i => (i.Dataset, i.Version)));
        Assert.Equal(2, removed);
        // MLflow's dataset keys: a run matches when any of its inputs does.
        async Task<int> MatchesAsync(string filter) => (await store.SearchRunsAsync(
            new RunQuery([Experiment.DefaultId], Filter.Parse(filter, FilterVocabulary.Runs), LifecycleStage.Active, [], 10, 0), CancellationToken.None)).Count;
        Assert.Equal(1, await MatchesAsync("datasets.name = 'd' AND datasets.context = 'eval'"));
        Assert.Equal(1, await MatchesAsync("dataset.digest = '12345678'"));
        Assert.Equal(0, await MatchesAsync("datasets.name LIKE 'x%'"));
        Assert.Equal(0, await MatchesAsync("datasets.name IS NULL"));
        Assert.Equal(["dir2.txt"], read.Artifacts.Select(a => a.Path));
    }

    [Fact]
    public async Task SearchExperimentsAndModels_ByNameAndTags()
    {
        var store = await OpenAsync();
        await store.CreateExperimentAsync("fraud-eu", null, new Dictionary<string, string> { ["team"] = "risk" }, "t", CancellationToken.None);
        await store.CreateExperimentAsync("Fraud-US", null, new Dictionary<string, string>(), "t", CancellationToken.None);
        await store.CreateModelAsync("fraud-model", null, new Dictionary<string, string> { ["team"] = "risk" }, "t", CancellationToken.None);
        await store.CreateModelAsync("churn-model", "predicts churn", new Dictionary<string, string>(), "t", CancellationToken.None);

        var experiments = await store.SearchExperimentsAsync(LifecycleStage.Active,
            SearchQuery.Parse("name ILIKE 'fraud%'", ["name DESC"], FilterVocabulary.Experiments, 10, 0), CancellationToken.None);
        var models = await store.SearchModelsAsync(SearchQuery.Parse("tags.team = 'risk' OR description LIKE '%churn'", ["name"], FilterVocabulary.RegisteredModels, 10, 0),
            CancellationToken.None);

        Assert.Equal(["fraud-eu", "Fraud-US"], experiments.Select(e => e.Name));
        Assert.Equal(["churn-model", "fraud-model"], models.Select(m => m.Name));
    }

    [Fact]
    public async Task MetricHistory_MergesBatchesInStepOrder_AndKeepsNaNAndInfinities()
    {
        var store = await OpenAsync();
        var run = Run.Start(Ids.NewRunId(), "r", Clock.GetUtcNow());
        await store.CreateRunAsync(run, "t", CancellationToken.None);
        Metric At(double value, long step, long ms) => new("loss", value, step, DateTimeOffset.FromUnixTimeMilliseconds(ms));

        await store.LogBatchAsync(run.Id, [At(1, 10, 1), At(2, 11, 1), At(double.PositiveInfinity, 12, 1)], [], [], null, "t", CancellationToken.None);
        await store.LogBatchAsync(run.Id, [At(double.NaN, 3, 5), At(double.NegativeInfinity, 11, 0), At(4, 3, 2)], [], [], null, "t", CancellationToken.None);
        var big = Enumerable.Range(0, 5000).Select(i => new Metric("big", i, i, DateTimeOffset.UnixEpoch)).Reverse().ToList();
        await store.FinishRunAsync(run.Id, new RunCompletion(new Dictionary<string, string>(), big, new Dictionary<string, string>(), [], []), Clock.GetUtcNow(), "t",
            CancellationToken.None);

        var history = await store.GetMetricHistoryAsync(run.Id, "loss", CancellationToken.None);
        Assert.Equal([(3L, 2L), (3L, 5L), (10L, 1L), (11L, 0L), (11L, 1L), (12L, 1L)], history.Select(m => (m.Step, m.Timestamp.ToUnixTimeMilliseconds())));
        Assert.True(double.IsNaN(history[1].Value));
        Assert.Equal([4, double.NegativeInfinity, double.PositiveInfinity], new[] { history[0].Value, history[3].Value, history[5].Value });
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => (double)i), (await store.GetMetricHistoryAsync(run.Id, "big", CancellationToken.None)).Select(m => m.Value));
    }

    [Fact]
    public async Task ConcurrentBatches_ToOneRunAndToMany_LoseNothing_AndParamsStayWriteOnce()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();
        var runs = new List<string>();
        foreach (var i in Enumerable.Range(0, 4))
        {
            var run = Run.Start(Ids.NewRunId(), $"r{i}", Clock.GetUtcNow());
            await a.CreateRunAsync(run, "t", CancellationToken.None);
            runs.Add(run.Id);
        }

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            var points = Enumerable.Range(0, 50).Select(j => new Metric("loss", j, (i * 50) + j, DateTimeOffset.UnixEpoch)).ToList();
            try
            {
                // Every batch names the same param; half of them with a value that conflicts with the other half.
                await (i % 2 == 0 ? a : b).LogBatchAsync(runs[i % 4], points, [new("seed", (i % 8 < 4) ? "1" : "2")], [], null, "t", CancellationToken.None);
                return true;
            }
            catch (CairnException e) when (e.Code == ErrorCode.InvalidArgument)
            {
                return false;
            }
        })));

        foreach (var (runId, index) in runs.Select((r, i) => (r, i)))
        {
            var accepted = Enumerable.Range(0, 40).Where(i => i % 4 == index && outcomes[i]).ToList();
            var history = await a.GetMetricHistoryAsync(runId, "loss", CancellationToken.None);
            Assert.Equal(accepted.Count * 50, history.Count);
            var seed = (await a.GetRunAsync(runId, CancellationToken.None))!.Params["seed"];
            Assert.All(accepted, i => Assert.Equal((i % 8 < 4) ? "1" : "2", seed));
        }
    }

    [Fact]
    public async Task Deployments_AreSavedWithRevisions_AndNamesAreTakenOnce()
    {
        var store = await OpenAsync();
        var spec = new DeploymentSpec
        {
            Model = ModelRef.Parse("m@champion"),
            Canary = ModelRef.Parse("m@3"),
            CanaryPercent = 10,
            Batching = new BatchingOptions { MaxBatchRows = 32, MaxDelay = TimeSpan.FromMilliseconds(2) },
        };

        var created = await store.SaveDeploymentAsync("web", spec, create: true, "alice", CancellationToken.None);
        Clock.Advance(TimeSpan.FromMinutes(1));
        var updated = await store.SaveDeploymentAsync("web", spec with { Canary = null, CanaryPercent = 0 }, create: false, "bob", CancellationToken.None);
        var taken = await Assert.ThrowsAsync<CairnException>(() => store.SaveDeploymentAsync("web", spec, create: true, "alice", CancellationToken.None));
        var missing = await Assert.ThrowsAsync<CairnException>(() => store.SaveDeploymentAsync("nope", spec, create: false, "alice", CancellationToken.None));

        Assert.Equal((1, "alice"), (created.Revision, created.UpdatedBy));
        Assert.Equal(spec, created.Spec);
        Assert.Equal((2, "bob", "alice"), (updated.Revision, updated.UpdatedBy, updated.CreatedBy));
        Assert.Equal(created.CreatedAt.AddMinutes(1), updated.UpdatedAt);
        Assert.Null(updated.Spec.Canary);
        Assert.Equal(ErrorCode.AlreadyExists, taken.Code);
        Assert.Equal(ErrorCode.NotFound, missing.Code);
        Assert.Equal(updated, await store.GetDeploymentAsync("web", CancellationToken.None));
        Assert.Equal(["web"], (await store.ListDeploymentsAsync(null, CancellationToken.None)).Select(d => d.Name));

        await store.DeleteDeploymentAsync("web", "carol", CancellationToken.None);
        Assert.Null(await store.GetDeploymentAsync("web", CancellationToken.None));
        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<CairnException>(() => store.DeleteDeploymentAsync("web", "carol", CancellationToken.None))).Code);
        Assert.Equal(["deployment.deleted", "deployment.updated", "deployment.created"],
            (await store.ListEventsAsync(new AuditQuery(3), CancellationToken.None)).Select(e => e.Kind));
    }

    [Fact]
    public async Task Monitoring_LogsPredictions_LabelsAllOrNothing_UpsertsWindows_AndFiresEachAlertOnce()
    {
        var store = await OpenAsync();
        await store.SaveDeploymentAsync("web", new DeploymentSpec { Model = ModelRef.Parse("m@champion") }, create: true, "alice", CancellationToken.None);
        var at = Clock.GetUtcNow();
        var hour = TimeSpan.FromHours(1);
        await store.AppendPredictionsAsync(PredictionLogBatch.Of("web",
        [
            new("a", "model", "web", at, "m", 1, "yes", 0.9, "{\"x\":1}"),
            new("a", "shadow", "web", at, "m", 2, "no", 0.2, "{\"x\":1}"),
            new("b", "canary", "web", at + TimeSpan.FromMinutes(1), "m", 3, "no", double.NaN, "{}"),
            new("a", "model", "web", at, "m", 1, "yes", 0.9, "{\"x\":1}"),
        ]), CancellationToken.None);

        var unknown = await Assert.ThrowsAsync<CairnException>(() => store.AddLabelsAsync("web", [("a", "yes"), ("zz", "no")], "bob", CancellationToken.None));
        Assert.Equal(ErrorCode.NotFound, unknown.Code);
        Assert.Contains("zz", unknown.Message, StringComparison.Ordinal);
        await store.AddLabelsAsync("web", [("a", "yes")], "bob", CancellationToken.None);
        var again = await Assert.ThrowsAsync<CairnException>(() => store.AddLabelsAsync("web", [("b", "no"), ("a", "no")], "bob", CancellationToken.None));
        Assert.Equal(ErrorCode.Conflict, again.Code);

        var found = (await store.FindPredictionsAsync("web", ["a", "b"], CancellationToken.None)).OrderBy(p => p.Id).ToList();
        Assert.Equal([("a", "model", "yes"), ("b", "canary", null)], found.Select(p => (p.Id, p.Role, p.Label)));
        Assert.True(double.IsNaN(found[1].Score));
        var labeled = await store.ListPredictionsAsync("web", at, at + hour, labeledOnly: true, 10, CancellationToken.None);
        Assert.Equal(("a", "{\"x\":1}"), (Assert.Single(labeled).Id, labeled[0].InputsJson));
        var arrivals = await store.LabelArrivalsAsync("web", hour, DateTimeOffset.UnixEpoch, CancellationToken.None);
        Assert.Equal(Core.Monitoring.MonitorSpec.WindowOf(at, hour).Start, Assert.Single(arrivals).Key);

        var window = new StoredLiveWindow("r1", at, at + hour, 2, [1, 2, 3], at);
        await store.SaveLiveWindowsAsync("web", [window], CancellationToken.None);
        await store.SaveLiveWindowsAsync("web", [window with { Rows = 5, Content = [4, 5] }, window with { Replica = "r2" }], CancellationToken.None);
        var windows = await store.ReadLiveWindowsAsync("web", at, at + hour, withContent: true, CancellationToken.None);
        Assert.Equal([("r1", 5L, new byte[] { 4, 5 }), ("r2", 2L, new byte[] { 1, 2, 3 })], windows.Select(w => (w.Replica, w.Rows, w.Content)));
        Assert.All(await store.ReadLiveWindowsAsync("web", at, at + hour, withContent: false, CancellationToken.None), w => Assert.Empty(w.Content));

        var alert = new Core.Monitoring.Alert(0, "web", "drift", "drift_share", at, at, 0.7, 0.5, "drifted") { Status = Core.Monitoring.AlertStatus.Pending, NextAttemptAt = at };
        var fired = await store.AddAlertAsync(alert, CancellationToken.None);
        Assert.NotNull(fired);
        Assert.Null(await store.AddAlertAsync(alert, CancellationToken.None));
        Assert.Equal(fired.Id, Assert.Single(await store.DueAlertsAsync(at, 10, CancellationToken.None)).Id);
        await store.UpdateAlertAsync(fired.Id, Core.Monitoring.AlertStatus.Delivered, 1, null, null, CancellationToken.None);
        Assert.Empty(await store.DueAlertsAsync(at + hour, 10, CancellationToken.None));
        Assert.Equal(Core.Monitoring.AlertStatus.Delivered, Assert.Single(await store.ListAlertsAsync("web", 10, null, CancellationToken.None)).Status);

        var trimmed = await store.TrimPredictionLogAsync("web", at + hour, long.MaxValue, CancellationToken.None);
        Assert.Equal((3L, 1, 0L), (trimmed.Rows, trimmed.Segments, trimmed.BytesLeft));
        Assert.Empty(await store.FindPredictionsAsync("web", ["a", "b"], CancellationToken.None));
        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<CairnException>(() => store.AddLabelsAsync("web", [("b", "no")], "bob", CancellationToken.None))).Code);
    }

    [Fact]
    public async Task PredictionLog_FindsRowsOfMultiRowRequests_ListsInTimeOrderAcrossSegments_AndTrimsOldestSegmentsBySize()
    {
        var store = await OpenAsync();
        var at = Clock.GetUtcNow();
        // Three flushes, each a segment: a three-row request, a sampled request whose row 1 was left out, and one more.
        await store.AppendPredictionsAsync(PredictionLogBatch.Of("web",
            [.. Enumerable.Range(0, 3).Select(i => new LoggedPrediction($"r1/{i}", "model", "web", at, "m", 1, "yes", 0.5 + i / 10.0, $"{{\"i\":{i}}}"))]),
            CancellationToken.None);
        await store.AppendPredictionsAsync(PredictionLogBatch.Of("web",
        [
            new("r2/0", "model", "web", at.AddSeconds(1), "m", 1, "no", 0.1, "{}"),
            new("r2/2", "model", "web", at.AddSeconds(1), "m", 1, "no", 0.2, "{}"),
        ]), CancellationToken.None);
        await store.AppendPredictionsAsync(PredictionLogBatch.Of("web", [new LoggedPrediction("r3", "model", "web", at.AddSeconds(2), "m", 1, "no", 0.3, "{}")]),
            CancellationToken.None);
        await store.AppendPredictionsAsync(PredictionLogBatch.Of("other", [new LoggedPrediction("r4", "model", "other", at, "m", 1, "no", 0.3, "{}")]),
            CancellationToken.None);

        var found = await store.FindPredictionsAsync("web", ["r1/2", "r2/2", "r2/1", "r4"], CancellationToken.None);
        Assert.Equal([("r1/2", "{\"i\":2}"), ("r2/2", "{}")], found.OrderBy(p => p.Id).Select(p => (p.Id, p.InputsJson)));
        var missing = await Assert.ThrowsAsync<CairnException>(() => store.AddLabelsAsync("web", [("r2/0", "no"), ("r2/1", "no")], "bob", CancellationToken.None));
        Assert.Contains("r2/1", missing.Message, StringComparison.Ordinal);
        await store.AddLabelsAsync("web", [("r1/1", "yes"), ("r3", "no")], "bob", CancellationToken.None);

        var listed = await store.ListPredictionsAsync("web", at, at.AddMinutes(1), labeledOnly: false, 4, CancellationToken.None);
        Assert.Equal(["r1/0", "r1/1", "r1/2", "r2/0"], listed.Select(p => p.Id));
        Assert.Equal([null, "yes", null, null], listed.Select(p => p.Label));
        var labeled = await store.ListPredictionsAsync("web", at, at.AddMinutes(1), labeledOnly: true, 10, CancellationToken.None);
        Assert.Equal([("r1/1", "yes"), ("r3", "no")], labeled.Select(p => (p.Id, p.Label)));
        Assert.Equal(["r2/0", "r2/2"], (await store.ListPredictionsAsync("web", at.AddSeconds(1), at.AddSeconds(2), false, 10, CancellationToken.None)).Select(p => p.Id));

        // Nothing is old enough to go, but the log is over its size: the oldest segments go, labels with them.
        var before = await store.TrimPredictionLogAsync("web", at.AddDays(-1), long.MaxValue, CancellationToken.None);
        Assert.Equal(0, before.Segments);
        var trimmed = await store.TrimPredictionLogAsync("web", at.AddDays(-1), before.BytesLeft - 1, CancellationToken.None);
        Assert.Equal((3L, 1), (trimmed.Rows, trimmed.Segments));
        Assert.Equal(["r2/0", "r2/2", "r3"], (await store.ListPredictionsAsync("web", at, at.AddMinutes(1), false, 10, CancellationToken.None)).Select(p => p.Id));
        Assert.Equal(["r3"], (await store.ListPredictionsAsync("web", at, at.AddMinutes(1), true, 10, CancellationToken.None)).Select(p => p.Id));
        Assert.Empty(await store.FindPredictionsAsync("web", ["r1/0"], CancellationToken.None));
        Assert.Single(await store.FindPredictionsAsync("other", ["r4"], CancellationToken.None));
    }

    [Fact]
    public async Task PolicyRuns_OneActivePerDeployment_MoveOnByCompareAndSet_AndEachStepIsAnEvent()
    {
        var store = await OpenAsync();
        var at = Clock.GetUtcNow();
        var run = new PolicyRun { Id = "run-1", Deployment = "web", Trigger = "manual", StartedAt = at, Model = "m", Champion = 1 }
            .Then(at, "triggered", "started by hand");
        await store.AddPolicyRunAsync(run, CancellationToken.None);
        var second = await Assert.ThrowsAsync<CairnException>(() => store.AddPolicyRunAsync(run with { Id = "run-2" }, CancellationToken.None));
        Assert.Equal(ErrorCode.Conflict, second.Code);
        Assert.Contains("run-1", second.Message, StringComparison.Ordinal);

        var canary = run.Then(at, "canary", "half the traffic", PolicyRunState.Canary) with { Challenger = 2 };
        Assert.True(await store.UpdatePolicyRunAsync(canary, run.Revision, CancellationToken.None));
        // A second server that read the run before the change cannot move it on.
        Assert.False(await store.UpdatePolicyRunAsync(run.Then(at, "failed", "stale", PolicyRunState.Failed), run.Revision, CancellationToken.None));
        var stored = await store.GetPolicyRunAsync("run-1", CancellationToken.None);
        Assert.Equal((PolicyRunState.Canary, 2, 2), (stored!.State, stored.Revision, stored.Challenger));
        Assert.Equal(["triggered", "canary"], stored.Events.Select(e => e.Step));
        Assert.Single(await store.ListPolicyRunsAsync("web", activeOnly: true, 10, null, CancellationToken.None));

        Assert.True(await store.UpdatePolicyRunAsync(stored.Then(at, "rolled_back", "too slow", PolicyRunState.RolledBack), stored.Revision, CancellationToken.None));
        Assert.Empty(await store.ListPolicyRunsAsync("web", activeOnly: true, 10, null, CancellationToken.None));
        await store.AddPolicyRunAsync(run with { Id = "run-2", StartedAt = at.AddMinutes(1) }, CancellationToken.None);
        Assert.Equal(["run-2", "run-1"], (await store.ListPolicyRunsAsync(null, activeOnly: false, 10, null, CancellationToken.None)).Select(r => r.Id));
        Assert.Equal(PolicyRunState.RolledBack, (await store.GetPolicyRunAsync("run-1", CancellationToken.None))!.State);
        Assert.Equal(["policy.triggered", "policy.rolled_back", "policy.canary", "policy.triggered"],
            (await store.ListEventsAsync(new AuditQuery(4), CancellationToken.None)).Select(e => e.Kind));
    }
}
