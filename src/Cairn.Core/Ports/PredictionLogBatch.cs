using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Cairn.Core.Ports;

/// <summary>
/// Rows to append to one deployment's prediction log, kept as UTF-8 JSON objects in one reusable buffer — no object
/// per row, so a busy server logs thousands of rows a second without burdening the garbage collector — and handed to
/// the store as JSON arrays the database unpacks itself. Each object has <c>id</c>, <c>role</c>, <c>at</c> (Unix
/// milliseconds), <c>model</c>, <c>version</c>, <c>predicted</c>, <c>score</c> (null when not a finite number) and
/// <c>inputs</c> (an object). Not thread-safe.
/// </summary>
public sealed class PredictionLogBatch
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter _writer;
    private readonly List<int> _ends = [];

    /// <summary>An empty batch for <paramref name="deployment"/>.</summary>
    public PredictionLogBatch(string deployment)
    {
        Deployment = deployment;
        // Rows are written one after another with no array around them; each is checked by whoever builds it.
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>The deployment whose log the rows belong to.</summary>
    public string Deployment { get; }

    /// <summary>Rows in the batch.</summary>
    public int Count => _ends.Count;

    /// <summary>A batch of <paramref name="predictions"/> of one deployment.</summary>
    public static PredictionLogBatch Of(string deployment, IEnumerable<LoggedPrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        var batch = new PredictionLogBatch(deployment);
        foreach (var p in predictions)
        {
            batch.BeginRow(p.Id, p.Role, p.At, p.Model, p.Version, p.Predicted, p.Score).WriteRawValue(p.InputsJson);
            batch.EndRow();
        }

        return batch;
    }

    /// <summary>Starts a row; write its inputs as one JSON object with the writer returned, then call <see cref="EndRow"/>.</summary>
    public Utf8JsonWriter BeginRow(string id, string role, DateTimeOffset at, string model, int version, string predicted, double score)
    {
        _writer.WriteStartObject();
        _writer.WriteString("id"u8, id);
        _writer.WriteString("role"u8, role);
        _writer.WriteNumber("at"u8, at.ToUnixTimeMilliseconds());
        _writer.WriteString("model"u8, model);
        _writer.WriteNumber("version"u8, version);
        _writer.WriteString("predicted"u8, predicted);
        if (double.IsFinite(score))
        {
            _writer.WriteNumber("score"u8, score);
        }
        else
        {
            _writer.WriteNull("score"u8);
        }

        _writer.WritePropertyName("inputs"u8);
        return _writer;
    }

    /// <summary>Ends the row <see cref="BeginRow"/> started.</summary>
    public void EndRow()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        _writer.Reset(_buffer);
        _ends.Add(_buffer.WrittenCount);
    }

    /// <summary>The rows as JSON arrays of at most <paramref name="rowsPerChunk"/> rows each, as text for a statement's parameter.</summary>
    public IEnumerable<string> Chunks(int rowsPerChunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerChunk, 1);
        for (var first = 0; first < _ends.Count; first += rowsPerChunk)
        {
            yield return Chunk(first, Math.Min(first + rowsPerChunk, _ends.Count));
        }
    }

    private string Chunk(int first, int end)
    {
        var start = first == 0 ? 0 : _ends[first - 1];
        var scratch = ArrayPool<byte>.Shared.Rent(_ends[end - 1] - start + (end - first) + 1);
        try
        {
            var length = 0;
            scratch[length++] = (byte)'[';
            for (var row = first; row < end; row++)
            {
                var from = row == 0 ? 0 : _ends[row - 1];
                _buffer.WrittenSpan[from.._ends[row]].CopyTo(scratch.AsSpan(length));
                length += _ends[row] - from;
                scratch[length++] = row == end - 1 ? (byte)']' : (byte)',';
            }

            return Encoding.UTF8.GetString(scratch, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Empties the batch for reuse; its buffer is kept.</summary>
    public void Clear()
    {
        _buffer.Clear();
        _writer.Reset(_buffer);
        _ends.Clear();
    }
}
