using BenchmarkDotNet.Attributes;
using Cairn.Adapters.CompiledEngine;
using Cairn.Adapters.MLNet;
using Cairn.Adapters.OnnxRuntime;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Ports;
using Cairn.Core.Training;

namespace Cairn.Bench.Scoring;

/// <summary>
/// What scoring costs inside the server, without HTTP: the examples' Adult LightGBM classifier (300 trees, 13 inputs,
/// 8 of them categorical and one-hot encoded in the graph) and bike-sharing LightGBM regression (500 trees), each
/// trained from its example spec, and the sentiment example's linear model over word and character n-grams of one text
/// column; each scored on one row and on a batch of 100 by ONNX Runtime and by the compiled engine.
/// </summary>
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private IModelRuntime _runtime = null!;
    private Table[] _oneRows = null!;
    private Table[] _batches = null!;
    private int _next;
    private int _nextBatch;

    [Params("adult", "bike-sharing", "sentiment")]
    public string Model { get; set; } = "adult";

    [Params("onnxruntime", "compiled")]
    public string Engine { get; set; } = "onnxruntime";

    [GlobalSetup]
    public void Setup()
    {
        var (file, spec) = Model switch
        {
            "adult" => ("adult.csv", "adult/train.yaml"),
            "bike-sharing" => ("bike_sharing_hour.csv", "bike-sharing/train.yaml"),
            _ => ("sentiment.csv", "sentiment/train.yaml"),
        };
        var path = Path.Combine(AppContext.BaseDirectory, "data", file);
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

        var dataset = new DatasetVersion(Model, 1, ContentHash.Of([]), 0, rows, file, schema, DateTimeOffset.UnixEpoch);
        var training = TrainingSpec.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", spec)));
        var plan = TrainingPlan.Create(training, dataset, table);
        var model = new MLNetTrainer().Train(new TrainingRequest(training, plan, table.Take(plan.TrainRows), table.Take(plan.TestRows)), CancellationToken.None);
        _runtime = Engine == "compiled"
            ? new CompiledModelCompiler().TryCompile(model.OnnxModel, model.Signature, out var reason) ?? throw new InvalidOperationException(reason)
            : new OnnxModelRuntimeFactory().Load(model.OnnxModel, model.Signature);
        var features = model.Signature.Inputs.Select(i => i.Name).ToHashSet();
        var inputs = new Table([.. table.Columns.Where(c => features.Contains(c.Name))], table.RowCount);
        var test = plan.TestRows;
        // A different row each call, as a server sees them, cycling through every held-out row: a few rows repeated
        // would let the branch predictor learn their paths through the trees.
        _oneRows = [.. test.Select(row => inputs.Take([row]))];
        _batches = [.. test.Chunk(100).Where(c => c.Length == 100).Select(c => inputs.Take(c))];
    }

    [Benchmark(Baseline = true)]
    public IReadOnlyList<OutputTensor> OneRow() => _runtime.Predict(_oneRows[_next++ % _oneRows.Length]);

    [Benchmark(OperationsPerInvoke = 100)]
    public IReadOnlyList<OutputTensor> PerRowInABatchOf100() => _runtime.Predict(_batches[_nextBatch++ % _batches.Length]);

    [GlobalCleanup]
    public void Cleanup() => _runtime.Dispose();
}
