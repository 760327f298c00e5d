using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Cairn.Core.Statistics;

namespace Cairn.Core.Data;

/// <summary>Infers a <see cref="TableSchema"/> from rows of text, one pass, in memory bounded by <see cref="DistinctCap"/> per column.</summary>
public sealed class SchemaInference
{
    /// <summary>Distinct values are counted exactly up to this many per column.</summary>
    public const int DistinctCap = 10_000;

    /// <summary>A string column with at most this many levels may be categorical.</summary>
    public const int MaxCategories = 1_000;

    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm:ssK", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ssK",
    ];

    private readonly IReadOnlyList<string> _header;
    private readonly ColumnStats[] _stats;

    /// <summary>Starts inference for the given header.</summary>
    public SchemaInference(IReadOnlyList<string> header)
    {
        _header = header;
        _stats = [.. header.Select(_ => new ColumnStats())];
    }

    /// <summary>Reads every remaining record of <paramref name="reader"/> and infers their schema.</summary>
    public static (TableSchema Schema, long RowCount) Infer(IRecordReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var inference = new SchemaInference(reader.Header);
        while (reader.TryRead())
        {
            if ((reader.RecordCount & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            inference.Observe(reader);
        }

        return (inference.Build(), inference.RowCount);
    }

    /// <summary>How many rows have been observed.</summary>
    public long RowCount { get; private set; }

    /// <summary>Observes the reader's current record.</summary>
    public void Observe(IRecordReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        for (var i = 0; i < _stats.Length; i++)
        {
            _stats[i].Observe(reader.Field(i));
        }

        RowCount++;
    }

    /// <summary>The schema of everything observed so far.</summary>
    public TableSchema Build() => new([.. _header.Select((name, i) => _stats[i].ToSchema(name, RowCount))]);

    /// <summary>Parses a number the way inference and loading agree on: invariant culture, with exponent.</summary>
    public static bool TryParseNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>The same on a UTF-8 field.</summary>
    public static bool TryParseNumber(ReadOnlySpan<byte> utf8, out double value) => Utf8Number.TryParse(utf8, out value);

    /// <summary>Parses true/false, case-insensitively.</summary>
    public static bool TryParseBoolean(string text, out bool value) => bool.TryParse(text, out value);

    /// <summary>The same on a UTF-8 field.</summary>
    public static bool TryParseBoolean(ReadOnlySpan<byte> utf8, out bool value)
    {
        var trimmed = utf8.Trim(" \t\0"u8);
        value = Ascii.EqualsIgnoreCase(trimmed, "true"u8);
        return value || Ascii.EqualsIgnoreCase(trimmed, "false"u8);
    }

    /// <summary>Parses an ISO 8601 date or timestamp.</summary>
    public static bool TryParseDateTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);

    /// <summary>The same on a UTF-8 field.</summary>
    public static bool TryParseDateTime(ReadOnlySpan<byte> utf8, out DateTimeOffset value)
    {
        value = default;
        Span<char> text = stackalloc char[64];
        return utf8.Length <= text.Length && Encoding.UTF8.TryGetChars(utf8, text, out var written) &&
            DateTimeOffset.TryParseExact(text[..written], DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    private sealed class ColumnStats
    {
        // Distinct values are kept by a 64-bit hash of their bytes; a string is made only for a value not seen before.
        private readonly Dictionary<ulong, string> _distinct = [];
        private readonly HyperLogLog _approximateDistinct = new();
        private bool _distinctOverflow;
        private long _missing;
        private long _present;
        private long _words;
        private bool _numeric = true;
        private bool _boolean = true;
        private bool _dateTime = true;

        public void Observe(ReadOnlySpan<byte> value)
        {
            if (MissingValues.IsMissing(value))
            {
                _missing++;
                return;
            }

            _present++;
            if (_numeric && TryParseNumber(value, out var number))
            {
                _approximateDistinct.Add(number);
                AddExact(value);
                (_boolean, _dateTime) = (false, false);
                return;
            }

            _numeric = false;
            _approximateDistinct.Add(XxHash3.HashToUInt64(value));
            AddExact(value);
            _boolean = _boolean && TryParseBoolean(value, out _);
            _dateTime = _dateTime && TryParseDateTime(value, out _);
            if (!_numeric && !_boolean && !_dateTime)
            {
                _words += CountWords(value);
            }
        }

        // Only a column that could still be categorical needs its values; a numeric one only while they are few.
        private void AddExact(ReadOnlySpan<byte> value)
        {
            if (_distinctOverflow)
            {
                return;
            }

            var key = XxHash3.HashToUInt64(value);
            if (_distinct.TryAdd(key, string.Empty))
            {
                _distinct[key] = Encoding.UTF8.GetString(value);
                _distinctOverflow = _distinct.Count >= (_numeric ? MaxCategories + 1 : DistinctCap);
            }
        }

        public ColumnSchema ToSchema(string name, long rows)
        {
            var type = InferType();
            IReadOnlyList<string>? categories = type == ColumnType.Categorical
                ? [.. _distinct.Values.Order(StringComparer.Ordinal)]
                : null;
            var distinct = _distinctOverflow ? Math.Max(_approximateDistinct.Estimate(), _distinct.Count) : _distinct.Count;
            return new ColumnSchema(name, type, _missing > 0, _missing, distinct, categories) { Role = InferRole(name, type, distinct) };
        }

        private ColumnRole InferRole(string name, ColumnType type, long distinct)
        {
            if (type == ColumnType.DateTime)
            {
                return ColumnRole.Timestamp;
            }

            var lower = name.ToLowerInvariant();
            if (lower is "label" or "target" or "class" or "y" or "outcome")
            {
                return ColumnRole.Label;
            }

            // Id-like names whose values never repeat (within the distinct estimate's error when there are many).
            var idName = lower is "id" or "uuid" or "key" || lower.EndsWith("_id", StringComparison.Ordinal) || (name.EndsWith("Id", StringComparison.Ordinal) && name.Length > 2);
            var unique = _missing == 0 && _present > 0 && (_distinctOverflow ? distinct >= _present * (1 - (3 * HyperLogLog.StandardError)) : distinct == _present);
            return idName && unique && type is ColumnType.Numeric or ColumnType.Text or ColumnType.Categorical ? ColumnRole.Id : ColumnRole.Feature;
        }

        private ColumnType InferType()
        {
            if (_present == 0)
            {
                return ColumnType.Text;
            }

            if (_numeric)
            {
                return ColumnType.Numeric;
            }

            if (_boolean)
            {
                return ColumnType.Boolean;
            }

            if (_dateTime)
            {
                return ColumnType.DateTime;
            }

            // Sentences (three or more words on average) or near-unique strings are text; the rest are categories.
            var meanWords = (double)_words / _present;
            var nearlyUnique = _distinct.Count > 20 && _distinct.Count > 0.5 * _present;
            return meanWords >= 3 || nearlyUnique || _distinct.Count > MaxCategories || _distinctOverflow
                ? ColumnType.Text
                : ColumnType.Categorical;
        }

        // Words are runs of bytes that are not ASCII white space (UTF-8 continuation bytes are never white space).
        private static int CountWords(ReadOnlySpan<byte> value)
        {
            var words = 0;
            var inWord = false;
            foreach (var b in value)
            {
                var space = b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v';
                if (!space && !inWord)
                {
                    words++;
                }

                inWord = !space;
            }

            return words;
        }
    }
}
