using System.Buffers;
using System.Text.Json;

namespace Cairn.Core.Ports;

/// <summary>One row of a <see cref="PredictionLogBatch"/>, its inputs aside.</summary>
/// <param name="Id">The prediction id.</param>
/// <param name="Role"><c>model</c>, <c>canary</c> or <c>shadow</c>.</param>
/// <param name="At">When it was answered.</param>
/// <param name="Model">The registered model.</param>
/// <param name="Version">Its version.</param>
/// <param name="Predicted">The predicted class, or the value in round-trip text.</param>
/// <param name="Score">The score (NaN when there is none).</param>
public readonly record struct PredictionLogRow(string Id, string Role, DateTimeOffset At, string Model, int Version, string Predicted, double Score);

/// <summary>
/// Rows to append to one deployment's prediction log: their fields in a reused list and their inputs as UTF-8 JSON
/// objects in one reused buffer, so that a busy server logs thousands of rows a second without keeping an object
/// (or a string of inputs) per row alive until the write. Not thread-safe.
/// </summary>
public sealed class PredictionLogBatch
{
    private readonly ArrayBufferWriter<byte> _inputs = new(1 << 16);
    private readonly Utf8JsonWriter _writer;
    private readonly List<PredictionLogRow> _rows = [];
    private readonly List<int> _ends = [];
    private PredictionLogRow _pending;

    /// <summary>An empty batch for <paramref name="deployment"/>.</summary>
    public PredictionLogBatch(string deployment)
    {
        Deployment = deployment;
        // Each row's inputs are one object written after the previous row's, with no array around them.
        _writer = new Utf8JsonWriter(_inputs, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>The deployment whose log the rows belong to.</summary>
    public string Deployment { get; }

    /// <summary>Rows in the batch.</summary>
    public int Count => _rows.Count;

    /// <summary>The rows' fields, in order.</summary>
    public IReadOnlyList<PredictionLogRow> Rows => _rows;

    /// <summary>A batch of <paramref name="predictions"/> of one deployment.</summary>
    public static PredictionLogBatch Of(string deployment, IEnumerable<LoggedPrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        var batch = new PredictionLogBatch(deployment);
        foreach (var p in predictions)
        {
            batch.BeginRow(new PredictionLogRow(p.Id, p.Role, p.At, p.Model, p.Version, p.Predicted, p.Score)).WriteRawValue(p.InputsJson);
            batch.EndRow();
        }

        return batch;
    }

    /// <summary>Starts a row; write its inputs as one JSON object with the writer returned, then call <see cref="EndRow"/>.</summary>
    public Utf8JsonWriter BeginRow(PredictionLogRow row)
    {
        _pending = row;
        return _writer;
    }

    /// <summary>Ends the row <see cref="BeginRow"/> started.</summary>
    public void EndRow()
    {
        _writer.Flush();
        _writer.Reset(_inputs);
        _rows.Add(_pending);
        _ends.Add(_inputs.WrittenCount);
    }

    /// <summary>Row <paramref name="row"/>'s inputs as a JSON object in UTF-8, valid until the batch changes.</summary>
    public ReadOnlySpan<byte> InputsUtf8(int row) => _inputs.WrittenSpan[(row == 0 ? 0 : _ends[row - 1]).._ends[row]];

    /// <summary>Every row's inputs, one JSON object after another, valid until the batch changes.</summary>
    public ReadOnlySpan<byte> AllInputsUtf8 => _inputs.WrittenSpan;

    /// <summary>Empties the batch for reuse; its buffers are kept.</summary>
    public void Clear()
    {
        _inputs.Clear();
        _writer.Reset(_inputs);
        _rows.Clear();
        _ends.Clear();
    }
}
