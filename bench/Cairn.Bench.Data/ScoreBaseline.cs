using System.Diagnostics;
using System.Text.Json;
using Cairn.Adapters.CompiledEngine;
using Cairn.Adapters.OnnxRuntime;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

/// <summary>
/// The floor for batch scoring: ONNX Runtime and the compiled engine called in this process on a CSV already loaded
/// as a table, in the same 8,192-row chunks on all cores as <c>cairn predict</c> — no reading, parsing or writing.
/// </summary>
internal static class ScoreBaseline
{
    public static void Run(string onnxPath, string signaturePath, string csvPath)
    {
        var signature = JsonSerializer.Deserialize(File.ReadAllText(signaturePath), CairnJson.Default.ModelSignature)!;
        using var reader = CsvReader.Open(File.OpenRead(csvPath));
        var schema = new TableSchema([.. reader.Header.Select(name => new ColumnSchema(name,
            signature.FindInput(name) is { TensorType: TensorType.Fp32 } input ? input.Type : ColumnType.Text, true, 0, 0))]);
        var table = Table.Load(reader, schema);
        var onnx = File.ReadAllBytes(onnxPath);
        const int Chunk = 8192;
        var chunks = Enumerable.Range(0, (table.RowCount + Chunk - 1) / Chunk)
            .Select(c => table.Take([.. Enumerable.Range(c * Chunk, Math.Min(Chunk, table.RowCount - (c * Chunk)))])).ToList();
        foreach (var (name, runtime) in new[]
        {
            ("ONNX Runtime", new OnnxModelRuntimeFactory().Load(onnx, signature)),
            ("Compiled engine", new CompiledModelCompiler().TryCompile(onnx, signature, out var reason) ?? throw new InvalidOperationException(reason)),
        })
        {
            using (runtime)
            {
                runtime.Predict(chunks[0]); // warm-up
                for (var attempt = 0; attempt < 2; attempt++)
                {
                    var clock = Stopwatch.StartNew();
                    var outputs = new IReadOnlyList<OutputTensor>[chunks.Count];
                    Parallel.For(0, chunks.Count, i => outputs[i] = runtime.Predict(chunks[i]));
                    Console.WriteLine($"{name} in process, {table.RowCount:N0} rows in {clock.Elapsed.TotalSeconds:0.000} s: {table.RowCount / clock.Elapsed.TotalSeconds:N0} rows/s");
                }
            }
        }
    }
}
