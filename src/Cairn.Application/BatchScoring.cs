using System.Globalization;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>What a batch scoring wrote.</summary>
public sealed record BatchScoringOutcome(string Model, string Input, long Rows, string Output);

/// <summary>
/// Scores every row of a dataset version or of a CSV/Parquet file with a model and writes a CSV or Parquet file: the rows as they were,
/// followed by the model's outputs. Rows are read in chunks and the chunks scored on all cores, so memory stays flat
/// however large the input; the output file appears only when complete.
/// </summary>
public sealed class BatchScoring(ModelRegistry registry, DatasetService datasets, ModelLoader loader, IParquetFiles parquet)
{
    /// <summary>Rows read and scored at a time.</summary>
    public const int ChunkRows = 8192;

    /// <summary>Scores <paramref name="dataset"/> with <paramref name="model"/> (a run id or NAME, NAME@alias, NAME@N) into <paramref name="output"/>.</summary>
    public async Task<BatchScoringOutcome> ScoreAsync(string model, DatasetRef dataset, string output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (package, described, runId) = await registry.ResolvePackageAsync(model, cancellationToken).ConfigureAwait(false);
        var version = await datasets.GetAsync(dataset, cancellationToken).ConfigureAwait(false);
        EvaluationService.CheckColumns(package.Signature, version.Schema.Columns.ToDictionary(c => c.Name, c => c.Type is ColumnType.Numeric or ColumnType.Boolean),
            version.Reference, [], requireLabel: false);
        var loaded = await loader.LoadAsync(package, runId, described, cancellationToken).ConfigureAwait(false);
        var rows = await Task.Run(() => Score(loaded.Runtime, package.Signature, () => datasets.OpenRecords(version), version.Schema, output, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        return new BatchScoringOutcome(described, version.Reference, rows, output);
    }

    /// <summary>
    /// Scores a CSV or Parquet file (by its extension). Columns are read as the model's signature types them; a value
    /// that does not parse is an error naming its row and column, and nothing is written.
    /// </summary>
    public async Task<BatchScoringOutcome> ScoreFileAsync(string model, string input, string output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var (package, described, runId) = await registry.ResolvePackageAsync(model, cancellationToken).ConfigureAwait(false);
        if (!File.Exists(input))
        {
            throw CairnException.NotFound($"Input file '{input}' does not exist.");
        }

        IRecordReader Open() => input.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase)
            ? parquet.Open(File.OpenRead(input))
            : CsvReader.Open(File.OpenRead(input));
        TableSchema schema;
        using (var reader = Open())
        {
            // Inputs are typed by the model; every other column is carried through as text.
            var signature = package.Signature;
            schema = new TableSchema([.. reader.Header.Select(name => new ColumnSchema(name,
                signature.FindInput(name) is { TensorType: TensorType.Fp32 } input ? input.Type : ColumnType.Text, true, 0, 0))]);
        }

        EvaluationService.CheckColumns(package.Signature, schema.Columns.ToDictionary(c => c.Name, c => c.Type is ColumnType.Numeric or ColumnType.Boolean),
            Path.GetFileName(input), [], requireLabel: false);
        var loaded = await loader.LoadAsync(package, runId, described, cancellationToken).ConfigureAwait(false);
        var rows = await Task.Run(() => Score(loaded.Runtime, package.Signature, Open, schema, output, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new BatchScoringOutcome(described, input, rows, output);
    }

    // Takes ownership of the runtime, disposing it when done.
    private long Score(IModelRuntime loaded, ModelSignature signature, Func<IRecordReader> open, TableSchema schema, string output, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(output))!;
        Directory.CreateDirectory(directory);
        var partial = Path.Combine(directory, $".{Path.GetFileName(output)}.{Guid.NewGuid():N}.partial");
        var workers = Environment.ProcessorCount;
        long rows = 0;
        try
        {
            using (var runtime = loaded)
            using (var reader = open())
            using (var parquetSink = output.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase)
                ? new ParquetSink(parquet.Create(File.Create(partial), [
                    .. schema.Columns.Select(c => new ParquetColumn(c.Name, c.Type == ColumnType.Numeric)),
                    .. OutputColumns(signature).Select(name => new ParquetColumn(name, name != ModelSignature.PredictedLabel))]), schema, signature)
                : null)
            using (var csv = parquetSink is null ? new StreamWriter(partial, append: false, new System.Text.UTF8Encoding(false), 1 << 16) : null)
            {
                csv?.Write(CsvWriter.Record([.. schema.Columns.Select(c => c.Name), .. OutputColumns(signature)]));
                while (true)
                {
                    // One chunk per core is read, the chunks scored side by side (a runtime is thread-safe), then written in order.
                    var chunks = new List<(Table Table, List<string[]> Fields)>(workers);
                    for (var i = 0; i < workers; i++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var fields = new List<string[]>(ChunkRows);
                        var table = Table.LoadChunk(reader, schema, ChunkRows, fields);
                        if (table.RowCount == 0)
                        {
                            break;
                        }

                        chunks.Add((table, fields));
                    }

                    if (chunks.Count == 0)
                    {
                        break;
                    }

                    var scored = new IReadOnlyList<OutputTensor>[chunks.Count];
                    Parallel.For(0, chunks.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => scored[i] = runtime.Predict(chunks[i].Table));
                    if (parquetSink is not null)
                    {
                        parquetSink.Write([.. chunks.Select((c, i) => (c.Fields, scored[i]))]);
                        rows += chunks.Sum(c => c.Table.RowCount);
                        continue;
                    }

                    // CSV is written here, in the loop that runs once per command: tiered compilation optimizes it
                    // with the profile of the whole run (measured 20% faster than the same loop in a method per chunk).
                    for (var c = 0; c < chunks.Count; c++)
                    {
                        var answers = Answers.Of(signature, scored[c]);
                        for (var row = 0; row < chunks[c].Table.RowCount; row++)
                        {
                            // Field by field: a row costs no joined string or array on the way out.
                            foreach (var field in chunks[c].Fields[row])
                            {
                                csv!.Write(CsvWriter.Field(field));
                                csv.Write(',');
                            }

                            answers.Write(csv!, row);
                        }

                        rows += chunks[c].Table.RowCount;
                    }
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

    // A chunk's answers, found once per chunk rather than per row, and written without a string per number.
    private readonly record struct Answers(string[]? Labels, float[] Values, int Width)
    {
        public static Answers Of(ModelSignature signature, IReadOnlyList<OutputTensor> outputs)
        {
            OutputTensor Named(string name) => outputs.First(o => o.Name == name);
            return signature.Task switch
            {
                TaskKind.Binary => new(Named(ModelSignature.PredictedLabel).Strings, Named(ModelSignature.Probability).Floats!, 1),
                TaskKind.Multiclass => new(Named(ModelSignature.PredictedLabel).Strings, Named(ModelSignature.Probabilities).Floats!, signature.Classes!.Count),
                _ => new(null, Named(ModelSignature.Prediction).Floats!, 1),
            };
        }

        public void Write(StreamWriter writer, int row)
        {
            if (Labels is not null)
            {
                writer.Write(CsvWriter.Field(Labels[row]));
                writer.Write(',');
            }

            Span<char> number = stackalloc char[32];
            for (var k = 0; k < Width; k++)
            {
                if (k > 0)
                {
                    writer.Write(',');
                }

                // "R" round-trips; 32 characters hold any float it formats.
                Values[(row * Width) + k].TryFormat(number, out var written, "R", CultureInfo.InvariantCulture);
                writer.Write(number[..written]);
            }

            writer.Write('\n');
        }
    }

    // One row group per batch of chunks: numeric columns as doubles, the rest as strings, empty fields as nulls.
    private sealed class ParquetSink(IParquetWriter writer, TableSchema schema, ModelSignature signature) : IDisposable
    {
        public void Write(IReadOnlyList<(List<string[]> Fields, IReadOnlyList<OutputTensor> Outputs)> chunks)
        {
            var rows = chunks.Sum(c => c.Fields.Count);
            var columns = new List<Array>();
            for (var c = 0; c < schema.Columns.Count; c++)
            {
                var numeric = schema.Columns[c].Type == ColumnType.Numeric;
                var values = numeric ? (Array)new double?[rows] : new string?[rows];
                var at = 0;
                foreach (var (fields, _) in chunks)
                {
                    foreach (var record in fields)
                    {
                        var field = record[c];
                        if (numeric)
                        {
                            ((double?[])values)[at++] = MissingValues.IsMissing(field) ? null
                                : SchemaInference.TryParseNumber(field, out var number) ? number
                                : throw CairnException.Invalid($"Row {at + 1}, column '{schema.Columns[c].Name}': '{field}' is not a number.");
                        }
                        else
                        {
                            ((string?[])values)[at++] = field.Length == 0 ? null : field;
                        }
                    }
                }

                columns.Add(values);
            }

            var labels = signature.Task is TaskKind.Binary or TaskKind.Multiclass ? new string?[rows] : null;
            var width = signature.Task switch { TaskKind.Multiclass => signature.Classes!.Count, _ => 1 };
            var numbers = Enumerable.Range(0, width).Select(_ => new double?[rows]).ToArray();
            var offset = 0;
            foreach (var (fields, outputs) in chunks)
            {
                OutputTensor Named(string name) => outputs.First(o => o.Name == name);
                var scores = Named(signature.Task switch
                {
                    TaskKind.Binary => ModelSignature.Probability,
                    TaskKind.Multiclass => ModelSignature.Probabilities,
                    _ => ModelSignature.Prediction,
                }).Floats!;
                for (var row = 0; row < fields.Count; row++)
                {
                    if (labels is not null)
                    {
                        labels[offset + row] = Named(ModelSignature.PredictedLabel).Strings![row];
                    }

                    for (var k = 0; k < width; k++)
                    {
                        numbers[k][offset + row] = scores[(row * width) + k];
                    }
                }

                offset += fields.Count;
            }

            if (labels is not null)
            {
                columns.Add(labels);
            }

            columns.AddRange(numbers);
            writer.WriteRowGroup(columns);
        }

        public void Dispose() => writer.Dispose();
    }
}
