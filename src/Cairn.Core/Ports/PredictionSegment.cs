using System.Buffers;
using System.IO.Compression;
using System.Text;

namespace Cairn.Core.Ports;

/// <summary>
/// A batch of logged predictions as the store keeps it: one record per flush instead of an indexed row per
/// prediction. The rows' fields and their inputs are two separately compressed blocks, so that finding a prediction
/// (or checking that feedback names one) reads the small block only.
/// </summary>
/// <param name="FirstAt">The earliest answer in it.</param>
/// <param name="LastAt">The latest answer in it.</param>
/// <param name="Rows">Rows in it.</param>
/// <param name="Fields">Each row's id, role, time, version, prediction and score (Brotli).</param>
/// <param name="Inputs">Each row's inputs as a JSON object, one after another (Brotli).</param>
/// <param name="RequestIds">
/// The distinct request ids of its answered (not shadow) rows, in ascending ordinal order: what the slim id index
/// holds, one entry per request rather than per row (row i of a request is <c>ID/i</c>).
/// </param>
public sealed record PredictionSegment(DateTimeOffset FirstAt, DateTimeOffset LastAt, int Rows, byte[] Fields, byte[] Inputs, IReadOnlyList<string> RequestIds)
{
    private const byte Format = 1;

    /// <summary>Bytes stored for it.</summary>
    public long Bytes => Fields.Length + Inputs.Length;

    /// <summary>The request a row id belongs to: <c>ID</c> for <c>ID/3</c>, the id itself otherwise.</summary>
    public static string RequestId(string rowId)
    {
        ArgumentNullException.ThrowIfNull(rowId);
        var slash = rowId.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? rowId : rowId[..slash];
    }

    /// <summary>Encodes a non-empty batch; a row repeating an id and role already in it is left out.</summary>
    public static PredictionSegment Encode(PredictionLogBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            throw new ArgumentException("An empty batch makes no segment.", nameof(batch));
        }

        var seen = new HashSet<(string, string)>();
        var kept = new List<int>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (seen.Add((batch.Rows[i].Id, batch.Rows[i].Role)))
            {
                kept.Add(i);
            }
        }

        using var fields = new MemoryStream(kept.Count * 64);
        // Every row kept (the usual case): the batch's inputs are compressed where they lie, not copied first.
        var inputs = kept.Count == batch.Count ? null : new ArrayBufferWriter<byte>(kept.Count * 256);
        var requests = new List<string>(kept.Count);
        var (first, last) = (DateTimeOffset.MaxValue, DateTimeOffset.MinValue);
        using (var writer = new BinaryWriter(fields, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Format);
            writer.Write(kept.Count);
            foreach (var i in kept)
            {
                var row = batch.Rows[i];
                var json = batch.InputsUtf8(i);
                inputs?.Write(json);
                writer.Write(row.Id);
                writer.Write(row.Role);
                writer.Write(row.At.ToUnixTimeMilliseconds());
                writer.Write(row.Model);
                writer.Write(row.Version);
                writer.Write(row.Predicted);
                writer.Write(row.Score);
                writer.Write(json.Length);
                (first, last) = (row.At < first ? row.At : first, row.At > last ? row.At : last);
                if (row.Role != "shadow")
                {
                    requests.Add(RequestId(row.Id));
                }
            }
        }

        requests.Sort(StringComparer.Ordinal);
        var distinct = 0;
        for (var i = 0; i < requests.Count; i++)
        {
            if (distinct == 0 || !string.Equals(requests[i], requests[distinct - 1], StringComparison.Ordinal))
            {
                requests[distinct++] = requests[i];
            }
        }

        requests.RemoveRange(distinct, requests.Count - distinct);
        return new PredictionSegment(first, last, kept.Count, Compress(fields.GetBuffer().AsSpan(0, (int)fields.Length)),
            Compress(inputs is null ? batch.AllInputsUtf8 : inputs.WrittenSpan), requests);
    }

    /// <summary>The rows' fields; <paramref name="inputEnds"/> gets where each row's inputs end in the inputs block.</summary>
    public static IReadOnlyList<PredictionLogRow> ReadFields(byte[] fields, List<int>? inputEnds = null)
    {
        ArgumentNullException.ThrowIfNull(fields);
        using var reader = new BinaryReader(new MemoryStream(Decompress(fields)), Encoding.UTF8);
        if (reader.ReadByte() != Format)
        {
            throw new CairnException(ErrorCode.Corrupt, "A prediction log segment has a format this build of Cairn does not read.");
        }

        var count = reader.ReadInt32();
        var rows = new List<PredictionLogRow>(count);
        var end = 0;
        for (var i = 0; i < count; i++)
        {
            rows.Add(new PredictionLogRow(reader.ReadString(), reader.ReadString(), DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64()), reader.ReadString(),
                reader.ReadInt32(), reader.ReadString(), reader.ReadDouble()));
            end += reader.ReadInt32();
            inputEnds?.Add(end);
        }

        return rows;
    }

    /// <summary>Every row of a stored segment with its inputs, in the order they were logged.</summary>
    public static IReadOnlyList<LoggedPrediction> Read(string deployment, byte[] fields, byte[] inputs)
    {
        var ends = new List<int>();
        var rows = ReadFields(fields, ends);
        var json = Decompress(inputs);
        var read = new List<LoggedPrediction>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            var start = i == 0 ? 0 : ends[i - 1];
            read.Add(new LoggedPrediction(r.Id, r.Role, deployment, r.At, r.Model, r.Version, r.Predicted, r.Score, Encoding.UTF8.GetString(json, start, ends[i] - start)));
        }

        return read;
    }

    // Brotli at its fastest level: a second's log of a busy server compresses in about a millisecond.
    // The scratch space is pooled: a busy second's log is megabytes, and a fresh buffer each flush would be a large-object allocation.
    private static byte[] Compress(ReadOnlySpan<byte> data)
    {
        var compressed = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(data.Length));
        try
        {
            return BrotliEncoder.TryCompress(data, compressed, out var written, quality: 1, window: 22)
                ? compressed[..written]
                : throw new InvalidOperationException("Brotli could not compress a prediction log segment.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    private static byte[] Decompress(byte[] data)
    {
        using var output = new MemoryStream(data.Length * 4);
        using (var brotli = new BrotliStream(new MemoryStream(data), CompressionMode.Decompress))
        {
            brotli.CopyTo(output);
        }

        return output.ToArray();
    }
}
