using System.Globalization;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>What a batch scoring wrote.</summary>
public sealed record BatchScoringOutcome(string Model, string Dataset, long Rows, string Output);

/// <summary>
/// Scores every row of a dataset version with a model and writes a CSV: the rows as they were, followed by the
/// model's outputs. Rows are read and scored in chunks, so memory stays flat however large the data; the file appears
/// only when complete.
/// </summary>
public sealed class BatchScoring(ModelRegistry registry, DatasetService datasets, IModelRuntimeFactory runtimes)
{
    /// <summary>Rows read and scored at a time.</summary>
    public const int ChunkRows = 8192;

    /// <summary>Scores <paramref name="dataset"/> with <paramref name="model"/> (a run id or NAME, NAME@alias, NAME@N) into <paramref name="output"/>.</summary>
    public async Task<BatchScoringOutcome> ScoreAsync(string model, DatasetRef dataset, string output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (package, described) = await registry.ResolvePackageAsync(model, cancellationToken).ConfigureAwait(false);
        var version = await datasets.GetAsync(dataset, cancellationToken).ConfigureAwait(false);
        EvaluationService.CheckColumns(package.Signature, version.Schema.Columns.ToDictionary(c => c.Name, c => c.Type is ColumnType.Numeric or ColumnType.Boolean),
            version, [], requireLabel: false);
        var onnx = await registry.ReadOnnxAsync(package, cancellationToken).ConfigureAwait(false);
        var rows = await Task.Run(() => Score(onnx, package.Signature, version, output, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new BatchScoringOutcome(described, version.Reference, rows, output);
    }

    private long Score(byte[] onnx, ModelSignature signature, DatasetVersion version, string output, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(output))!;
        Directory.CreateDirectory(directory);
        var partial = Path.Combine(directory, $".{Path.GetFileName(output)}.{Guid.NewGuid():N}.partial");
        long rows = 0;
        try
        {
            using (var runtime = runtimes.Load(onnx, signature))
            using (var reader = datasets.OpenRecords(version))
            using (var writer = new StreamWriter(partial, append: false, new System.Text.UTF8Encoding(false), 1 << 16))
            {
                writer.Write(CsvWriter.Record([.. version.Schema.Columns.Select(c => c.Name), .. OutputColumns(signature)]));
                var fields = new List<string[]>(ChunkRows);
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    fields.Clear();
                    var chunk = Table.LoadChunk(reader, version.Schema, ChunkRows, fields);
                    if (chunk.RowCount == 0)
                    {
                        break;
                    }

                    var outputs = runtime.Predict(chunk);
                    for (var row = 0; row < chunk.RowCount; row++)
                    {
                        writer.Write(CsvWriter.Record([.. fields[row], .. OutputValues(signature, outputs, row)]));
                    }

                    rows += chunk.RowCount;
                }
            }

            File.Move(partial, output, overwrite: true);
            return rows;
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private static IEnumerable<string> OutputColumns(ModelSignature signature) => signature.Task switch
    {
        TaskKind.Binary => [ModelSignature.PredictedLabel, ModelSignature.Probability],
        TaskKind.Multiclass => [ModelSignature.PredictedLabel, .. signature.Classes!.Select(c => $"{ModelSignature.Probability}.{c}")],
        _ => [ModelSignature.Prediction],
    };

    private static IEnumerable<string> OutputValues(ModelSignature signature, IReadOnlyList<OutputTensor> outputs, int row)
    {
        static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);
        OutputTensor Named(string name) => outputs.First(o => o.Name == name);
        return signature.Task switch
        {
            TaskKind.Binary => [Named(ModelSignature.PredictedLabel).Strings![row], Number(Named(ModelSignature.Probability).Floats![row])],
            TaskKind.Multiclass => [Named(ModelSignature.PredictedLabel).Strings![row],
                .. Named(ModelSignature.Probabilities).Floats!.AsSpan(row * signature.Classes!.Count, signature.Classes.Count).ToArray().Select(Number)],
            _ => [Number(Named(ModelSignature.Prediction).Floats![row])],
        };
    }
}
