using Cairn.Adapters.FileSystem;
using Cairn.Adapters.Parquet;
using Cairn.Adapters.Sql;
using Cairn.Adapters.Sqlite;
using Cairn.Core;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Cairn.Core.Training;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Cairn.Application.Tests;

/// <summary>The training use case's bookkeeping, on the real embedded stores with a stand-in trainer.</summary>
public sealed class TrainingServiceTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cairn-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
    private readonly Actor _actor = new("tester");
    private SqlMetadataStore _store = null!;
    private IArtifactStore _artifacts = null!;
    private DatasetService _datasets = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        _store = await SqliteMetadataStore.OpenAsync(Path.Combine(_root, "metadata.db"), _time, CancellationToken.None);
        _artifacts = new FileSystemArtifactStore(Path.Combine(_root, "artifacts"));
        _datasets = new DatasetService(_store, _artifacts, SqliteFileHashCache.Open(Path.Combine(_root, "file-hashes.db")), new ParquetFiles(), _actor);
        var csv = Path.Combine(_root, "d.csv");
        await File.WriteAllTextAsync(csv, "x,y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},{(i % 2 == 0 ? "a" : "b")}\n")));
        await _datasets.AddAsync(csv, "d", CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    private TrainingService Service(IModelTrainer trainer) => new(_store, _artifacts, trainer, new Runtimes(), _datasets, _time, _actor);

    private static TrainingSpec Spec => TrainingSpec.Parse("dataset: d\nlabel: y\ntask: binary\n");

    [Fact]
    public async Task Train_WhenTheTrainerFails_EndsTheRunFailedWithTheReason()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Service(new Trainer(_ => throw new InvalidOperationException("out of memory"))).TrainAsync(Spec, null, CancellationToken.None));

        var run = Assert.Single(await _store.ListRunsAsync(10, null, CancellationToken.None));
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(e.Message, run.Error);
        Assert.Empty(run.Artifacts);
        Assert.Empty(run.Metrics);
    }

    [Fact]
    public async Task Train_RecordsTheResolvedDatasetVersion_TheSplitAndTheModelArtifacts()
    {
        TrainingRequest? seen = null;
        var outcome = await Service(new Trainer(request =>
        {
            seen = request;
            _time.Advance(TimeSpan.FromSeconds(3));
            var signature = new ModelSignature(TaskKind.Binary, "y", request.Plan.Classes, [new SignatureInput("x", Cairn.Core.Data.ColumnType.Numeric)],
                ModelSignature.OutputsFor(TaskKind.Binary, 2));
            return new TrainedModel([1, 2, 3], [4, 5, 6], signature, Runtime.Score(request.Test));
        })).TrainAsync(Spec, null, CancellationToken.None);

        var run = outcome.Run;
        Assert.Equal(RunStatus.Finished, run.Status);
        Assert.Equal(TimeSpan.FromSeconds(3), run.EndedAt - run.StartedAt);
        Assert.Equal("d@1", run.Params["dataset"]);
        Assert.Equal("32", run.Params["rows.train"]);
        Assert.Equal("8", run.Params["rows.test"]);
        Assert.Equal(32, seen!.Train.RowCount);
        Assert.Equal(1.0, run.Metrics.Single(m => m.Key == "auc").Value);
        var x = ((Cairn.Core.Data.NumericColumn)seen.Test["x"]).Values;
        var expectedAccuracy = x.Count(v => v % 2 == 0 || v < 36) / (double)x.Length;
        Assert.Equal(expectedAccuracy, run.Metrics.Single(m => m.Key == "accuracy").Value);
        Assert.Equal(0.0, run.Metrics.Single(m => m.Key == TrainingService.OnnxDifferenceMetric).Value);
        Assert.NotNull(run.Artifact(EvaluationService.EvaluationPath));
        Assert.NotNull(run.Artifact(EvaluationService.ReportPath));
        Assert.Equal(ContentHash.Of([4, 5, 6]), run.Artifact(TrainingService.OnnxModelPath)!.ContentHash);
        Assert.True(await _artifacts.ExistsAsync(run.Artifact(TrainingService.SignaturePath)!.ContentHash, CancellationToken.None));
    }

    [Fact]
    public async Task Register_AFailedRun_IsAConflict()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Service(new Trainer(_ => throw new InvalidOperationException("boom"))).TrainAsync(Spec, null, CancellationToken.None));
        var run = Assert.Single(await _store.ListRunsAsync(10, null, CancellationToken.None));
        var registry = new ModelRegistry(_store, _artifacts, new RunService(_store, _store, _time, _actor), _actor);

        var e = await Assert.ThrowsAsync<CairnException>(() => registry.RegisterAsync(run.Id, "m", "champion", CancellationToken.None));

        Assert.Equal(ErrorCode.Conflict, e.Code);
        Assert.Empty(await registry.ListAsync(CancellationToken.None));
    }

    // Scores odd x as "b" with probability 0.9, even x as "a" with 0.2, except that x >= 36 is always called "a":
    // the ranking is perfect (AUC 1) while the decisions miss the two odd rows among the test rows' top values.
    private sealed class Runtime(ModelSignature signature) : IModelRuntime
    {
        public ModelSignature Signature => signature;

        public string Engine => "test";

        public static IReadOnlyList<OutputTensor> Score(Cairn.Core.Data.Table table)
        {
            var x = ((Cairn.Core.Data.NumericColumn)table["x"]).Values;
            var probability = x.Select(v => v % 2 == 1 ? 0.9f : 0.2f).ToArray();
            return
            [
                new(ModelSignature.PredictedLabel, TensorType.Bytes, x.Length, 1, null, [.. x.Select(v => v % 2 == 1 && v < 36 ? "b" : "a")]),
                new(ModelSignature.Probability, TensorType.Fp32, x.Length, 1, probability, null),
                new(ModelSignature.Score, TensorType.Fp32, x.Length, 1, probability, null),
            ];
        }

        public IReadOnlyList<OutputTensor> Predict(Cairn.Core.Data.Table inputs) => Score(inputs);

        public void Dispose()
        {
        }
    }

    private sealed class Runtimes : IModelRuntimeFactory
    {
        public IModelRuntime Load(byte[] onnxModel, ModelSignature signature) => new Runtime(signature);

        public GraphDescription Describe(byte[] onnxModel) => throw new NotSupportedException();
    }

    private sealed class Trainer(Func<TrainingRequest, TrainedModel> train) : IModelTrainer
    {
        public TrainedModel Train(TrainingRequest request, CancellationToken cancellationToken) => train(request);
    }
}
