using System.Buffers.Binary;
using Cairn.Core.Runs;

namespace Cairn.Adapters.Sql;

/// <summary>
/// One metric's points from one write, packed into a single row: per point its step, its timestamp (Unix
/// milliseconds) and its value, 8 bytes each, little-endian, in (step, timestamp) order. A batch of a thousand
/// points of ten metrics is ten rows instead of a thousand, and a history reads kilobytes per row instead of one
/// row per point. The value keeps its exact IEEE 754 bits, NaN and infinities included.
/// </summary>
internal static class MetricChunk
{
    /// <summary>The most points one chunk holds.</summary>
    public const int MaxPoints = 4096;

    private const int PointSize = 24;

    /// <summary>A write's points grouped by metric, ordered, and cut into chunks of at most <see cref="MaxPoints"/>.</summary>
    public static List<EncodedChunk> From(IReadOnlyList<Metric> points)
    {
        var chunks = new List<EncodedChunk>();
        foreach (var series in points.GroupBy(p => p.Key, StringComparer.Ordinal))
        {
            var ordered = series.Order(Comparer<Metric>.Create(Compare)).ToList();
            for (var start = 0; start < ordered.Count; start += MaxPoints)
            {
                var part = ordered.GetRange(start, Math.Min(MaxPoints, ordered.Count - start));
                chunks.Add(new EncodedChunk(series.Key, part[0].Step, part[^1].Step, part.Count, Encode(part)));
            }
        }

        return chunks;
    }

    /// <summary>Packs points, which must already be in (step, timestamp) order.</summary>
    public static byte[] Encode(IReadOnlyList<Metric> points)
    {
        var data = new byte[points.Count * PointSize];
        var span = data.AsSpan();
        for (var i = 0; i < points.Count; i++)
        {
            var point = span.Slice(i * PointSize, PointSize);
            BinaryPrimitives.WriteInt64LittleEndian(point, points[i].Step);
            BinaryPrimitives.WriteInt64LittleEndian(point[8..], points[i].Timestamp.ToUnixTimeMilliseconds());
            BinaryPrimitives.WriteDoubleLittleEndian(point[16..], points[i].Value);
        }

        return data;
    }

    /// <summary>Unpacks a chunk's points onto the end of <paramref name="into"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> data, string key, List<Metric> into)
    {
        if (data.Length % PointSize != 0)
        {
            throw new Core.CairnException(Core.ErrorCode.Corrupt, $"A stored chunk of metric '{key}' has {data.Length} bytes, not a whole number of points.");
        }

        for (var offset = 0; offset < data.Length; offset += PointSize)
        {
            var point = data.Slice(offset, PointSize);
            into.Add(new Metric(key, BinaryPrimitives.ReadDoubleLittleEndian(point[16..]), BinaryPrimitives.ReadInt64LittleEndian(point),
                DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(point[8..]))));
        }
    }

    /// <summary>Puts points read chunk by chunk into (step, timestamp) order; chunks written in order need no sort.</summary>
    public static void Order(List<Metric> points)
    {
        for (var i = 1; i < points.Count; i++)
        {
            if (Compare(points[i - 1], points[i]) > 0)
            {
                // A stable sort keeps points with equal step and time in the order they were written.
                var ordered = points.Order(Comparer<Metric>.Create(Compare)).ToList();
                points.Clear();
                points.AddRange(ordered);
                return;
            }
        }
    }

    private static int Compare(Metric a, Metric b) =>
        a.Step != b.Step ? a.Step.CompareTo(b.Step) : a.Timestamp.CompareTo(b.Timestamp);
}

/// <summary>A chunk ready to store: its metric, the steps it spans, how many points it holds and their packed bytes.</summary>
public sealed record EncodedChunk(string Key, long FirstStep, long LastStep, int Points, byte[] Data);
