using BenchmarkDotNet.Attributes;
using Cairn.Adapters.MLNet;
using Cairn.Adapters.OnnxRuntime;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Ports;
using Cairn.Core.Training;

namespace Cairn.Bench.Scoring;

/// <summary>
/// What one prediction costs inside the server, without HTTP: the Adult LightGBM model (13 inputs, 8 of them
/// categorical and one-hot encoded in the graph) scored on one row and on a batch of 64.
/// </summary>
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private IModelRuntime _runtime = null!;
    private Table _oneRow = null!;
    private Table _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", "adult.csv");
        TableSchema schema;
        long rows;
        using (var reader = CsvReader.Open(File.OpenRead(path)))
        {
            (schema, rows) = SchemaInference.Infer(reader);
        }

        Table table;
        using (var reader = CsvReader.Open(File.OpenRead(path)))
        {
            table = Table.Load(reader, schema);
        }

        var dataset = new DatasetVersion("adult", 1, ContentHash.Of([]), 0, rows, "adult.csv", schema, DateTimeOffset.UnixEpoch);
        var spec = TrainingSpec.Parse("dataset: adult\nlabel: income\ntask: binary\nignore: [fnlwgt]\nhyperparameters: {num_iterations: 100}\n");
        var plan = TrainingPlan.Create(spec, dataset, table);
        var model = new MLNetTrainer().Train(new TrainingRequest(spec, plan, table.Take(plan.TrainRows), table.Take(plan.TestRows)), CancellationToken.None);
        _runtime = new OnnxModelRuntimeFactory().Load(model.OnnxModel, model.Signature);
        var features = model.Signature.Inputs.Select(i => i.Name).ToHashSet();
        var inputs = new Table([.. table.Columns.Where(c => features.Contains(c.Name))], table.RowCount);
        _oneRow = inputs.Take([0]);
        _batch = inputs.Take([.. Enumerable.Range(0, 64)]);
    }

    [Benchmark(Baseline = true)]
    public IReadOnlyList<OutputTensor> OneRow() => _runtime.Predict(_oneRow);

    [Benchmark(OperationsPerInvoke = 64)]
    public IReadOnlyList<OutputTensor> PerRowInABatchOf64() => _runtime.Predict(_batch);

    [GlobalCleanup]
    public void Cleanup() => _runtime.Dispose();
}
