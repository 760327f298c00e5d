using System.Globalization;

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
    public static (TableSchema Schema, long RowCount) Infer(CsvReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var inference = new SchemaInference(reader.Header);
        while (reader.TryRead(out var record))
        {
            cancellationToken.ThrowIfCancellationRequested();
            inference.Observe(record);
        }

        return (inference.Build(), inference.RowCount);
    }

    /// <summary>How many rows have been observed.</summary>
    public long RowCount { get; private set; }

    /// <summary>Observes one record (it must have the header's length).</summary>
    public void Observe(IReadOnlyList<string> record)
    {
        for (var i = 0; i < _stats.Length; i++)
        {
            _stats[i].Observe(record[i]);
        }

        RowCount++;
    }

    /// <summary>The schema of everything observed so far.</summary>
    public TableSchema Build() => new([.. _header.Select((name, i) => _stats[i].ToSchema(name, RowCount))]);

    /// <summary>Parses a number the way inference and loading agree on: invariant culture, with exponent.</summary>
    public static bool TryParseNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>Parses true/false, case-insensitively.</summary>
    public static bool TryParseBoolean(string text, out bool value) => bool.TryParse(text, out value);

    /// <summary>Parses an ISO 8601 date or timestamp.</summary>
    public static bool TryParseDateTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);

    private sealed class ColumnStats
    {
        private readonly HashSet<string> _distinct = new(StringComparer.Ordinal);
        private bool _distinctOverflow;
        private long _missing;
        private long _present;
        private long _words;
        private bool _numeric = true;
        private bool _boolean = true;
        private bool _dateTime = true;

        public void Observe(string value)
        {
            if (MissingValues.IsMissing(value))
            {
                _missing++;
                return;
            }

            _present++;
            if (!_distinctOverflow)
            {
                _distinct.Add(value);
                _distinctOverflow = _distinct.Count >= DistinctCap;
            }

            _numeric = _numeric && TryParseNumber(value, out _);
            _boolean = _boolean && TryParseBoolean(value, out _);
            _dateTime = _dateTime && !_numeric && TryParseDateTime(value, out _);
            if (!_numeric && !_boolean && !_dateTime)
            {
                _words += CountWords(value);
            }
        }

        public ColumnSchema ToSchema(string name, long rows)
        {
            var type = InferType();
            IReadOnlyList<string>? categories = type == ColumnType.Categorical
                ? [.. _distinct.Order(StringComparer.Ordinal)]
                : null;
            return new ColumnSchema(name, type, _missing > 0, _missing, _distinct.Count, categories);
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

        private static int CountWords(string value)
        {
            var words = 0;
            var inWord = false;
            foreach (var c in value)
            {
                var space = char.IsWhiteSpace(c);
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
