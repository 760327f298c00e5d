using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Cairn.Core.Data;

namespace Cairn.Core.Statistics;

/// <summary>
/// Builds a <see cref="DatasetProfile"/> in one pass and in memory bounded by the sketches, whatever the row count;
/// merges profiles of parts into the profile of the whole. Monitoring builds live profiles with the same code.
/// </summary>
public sealed class Profiler
{
    /// <summary>The quantiles every numeric profile reports.</summary>
    public static readonly IReadOnlyList<double> ReportedQuantiles = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

    /// <summary>Bins in a profile's histogram.</summary>
    public const int HistogramBins = 20;

    /// <summary>Frequent values a profile lists.</summary>
    public const int TopValueCount = 10;

    private readonly ColumnAccumulator[] _columns;
    private readonly int[] _indexes;

    /// <summary>Starts a profile of tables with <paramref name="schema"/>.</summary>
    public Profiler(TableSchema schema)
        : this(schema, [.. Enumerable.Range(0, schema?.Columns.Count ?? 0)])
    {
    }

    private Profiler(TableSchema schema, int[] indexes)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _indexes = indexes;
        _columns = [.. indexes.Select(i => new ColumnAccumulator(schema.Columns[i].Name, schema.Columns[i].Type))];
    }

    private Profiler(ColumnAccumulator[] columns, long rows)
    {
        _columns = columns;
        _indexes = [.. Enumerable.Range(0, columns.Length)];
        Rows = rows;
    }

    /// <summary>Rows observed so far.</summary>
    public long Rows { get; private set; }

    /// <summary>
    /// Profiles a table with <paramref name="schema"/>, its columns split among <paramref name="workers"/> threads that
    /// each read it through their own reader from <paramref name="open"/> (re-scanning is cheap; the statistics are not).
    /// </summary>
    public static DatasetProfile Profile(Func<IRecordReader> open, TableSchema schema, int workers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(schema);
        workers = Math.Clamp(workers, 1, Math.Max(1, schema.Columns.Count));

        // Numbers cost several times what labels do, so columns are dealt out by cost, heaviest first.
        var groups = Enumerable.Range(0, workers).Select(_ => new List<int>()).ToArray();
        var load = new double[workers];
        foreach (var index in Enumerable.Range(0, schema.Columns.Count).OrderByDescending(i => Cost(schema.Columns[i].Type)))
        {
            var lightest = Array.IndexOf(load, load.Min());
            groups[lightest].Add(index);
            load[lightest] += Cost(schema.Columns[index].Type);
        }

        var profilers = groups.Select(g => new Profiler(schema, [.. g.Order()])).ToArray();
        Parallel.ForEach(profilers, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken }, profiler =>
        {
            using var reader = open();
            if (!reader.Header.SequenceEqual(schema.Columns.Select(c => c.Name)))
            {
                throw CairnException.Invalid("The file's header does not match the schema being profiled.");
            }

            while (reader.TryRead())
            {
                if ((reader.RecordCount & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                profiler.Observe(reader);
            }
        });

        var columns = new ColumnProfile[schema.Columns.Count];
        foreach (var profiler in profilers)
        {
            foreach (var (index, column) in profiler._indexes.Zip(profiler._columns))
            {
                columns[index] = column.ToProfile();
            }
        }

        return new DatasetProfile(profilers[0].Rows, columns);
    }

    /// <summary>Profiles an in-memory table (a window of live traffic, a loaded version) column by column, in parallel.</summary>
    public static DatasetProfile Profile(Table table, TableSchema schema, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(schema);
        var columns = new ColumnProfile[schema.Columns.Count];
        Parallel.For(0, columns.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var column = table[schema.Columns[i].Name];
            var accumulator = new ColumnAccumulator(column.Name, schema.Columns[i].Type);
            for (var row = 0; row < table.RowCount; row++)
            {
                accumulator.Observe(column, row);
            }

            columns[i] = accumulator.ToProfile();
        });
        return new DatasetProfile(table.RowCount, columns);
    }

    /// <summary>Observes the reader's current record.</summary>
    public void Observe(IRecordReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        for (var i = 0; i < _columns.Length; i++)
        {
            _columns[i].Observe(reader.Field(_indexes[i]), reader.RecordCount);
        }

        Rows++;
    }

    /// <summary>Observes one row of values as text (for live traffic); null is missing.</summary>
    public void Observe(IReadOnlyList<string?> row)
    {
        ArgumentNullException.ThrowIfNull(row);
        for (var i = 0; i < _columns.Length; i++)
        {
            _columns[i].Observe(row[_indexes[i]] is { } value ? Encoding.UTF8.GetBytes(value) : [], Rows + 1);
        }

        Rows++;
    }

    /// <summary>Observes every row of an in-memory table, matching columns by name; a column the table lacks is missing in every row.</summary>
    public void Observe(Table table)
    {
        ArgumentNullException.ThrowIfNull(table);
        foreach (var column in _columns)
        {
            var values = table.Contains(column.Name) ? table[column.Name] : null;
            for (var row = 0; row < table.RowCount; row++)
            {
                column.Observe(values, row);
            }
        }

        Rows += table.RowCount;
    }

    /// <summary>Observes one row of an in-memory table, matching columns by name.</summary>
    public void Observe(Table table, int row)
    {
        ArgumentNullException.ThrowIfNull(table);
        foreach (var column in _columns)
        {
            column.Observe(table.Contains(column.Name) ? table[column.Name] : null, row);
        }

        Rows++;
    }

    /// <summary>Observes one row given column by column in the profile's own order: <paramref name="columns"/>[i] is its column i (null: missing).</summary>
    public void Observe(ReadOnlySpan<TableColumn?> columns, int row)
    {
        if (columns.Length != _columns.Length)
        {
            throw new ArgumentException($"Expected {_columns.Length} columns, one per profiled column.", nameof(columns));
        }

        for (var i = 0; i < _columns.Length; i++)
        {
            _columns[i].Observe(columns[i], row);
        }

        Rows++;
    }

    /// <summary>The profile of everything observed so far.</summary>
    public DatasetProfile Build() => new(Rows, [.. _columns.Select(c => c.ToProfile())]);

    /// <summary>
    /// Merges two profiles of the same columns into the profile of both tables: counts and moments exactly, distinct
    /// counts, quantiles and frequent values within the sketches' error bounds.
    /// </summary>
    public static DatasetProfile Merge(DatasetProfile first, DatasetProfile second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (!first.Columns.Select(c => (c.Name, c.Type)).SequenceEqual(second.Columns.Select(c => (c.Name, c.Type))))
        {
            throw CairnException.Invalid("Only profiles of the same columns (names and types, in order) can be merged.");
        }

        var merged = first.Columns.Select((c, i) =>
        {
            var accumulator = ColumnAccumulator.FromProfile(c);
            accumulator.Merge(ColumnAccumulator.FromProfile(second.Columns[i]));
            return accumulator;
        });
        return new Profiler([.. merged], first.Rows + second.Rows).Build();
    }

    /// <summary>The quantile sketch stored in a column profile; null for columns without numbers.</summary>
    public static KllSketch? QuantileSketch(ColumnProfile column) =>
        column?.Sketches.Quantiles is { } state ? KllSketch.FromState(state) : null;

    private static double Cost(ColumnType type) => type is ColumnType.Numeric or ColumnType.DateTime ? 3 : 1;

    private sealed class ColumnAccumulator(string name, ColumnType type)
    {
        public string Name => name;

        private readonly bool _numeric = type is ColumnType.Numeric or ColumnType.DateTime;
        private HyperLogLog _distinct = new();
        private KllSketch _quantiles = new();
        private Moments _moments;
        // Numbers are counted only while they are few; a continuous column gives up counting instead of churning a sketch.
        private FrequentItems<double>? _frequentNumbers = new();
        private FrequentItems<string> _frequentText = new(comparer: StringComparer.Ordinal);
        private long _missing;

        public static ColumnAccumulator FromProfile(ColumnProfile profile)
        {
            var sketches = profile.Sketches;
            var accumulator = new ColumnAccumulator(profile.Name, profile.Type)
            {
                _missing = profile.Missing,
                _distinct = HyperLogLog.FromBytes(sketches.Distinct),
            };
            var frequent = sketches.Frequent;
            if (accumulator._numeric)
            {
                accumulator._moments = sketches.Moments is { } m ? new Moments { Count = m.Count, Mean = m.Mean, SumOfSquares = m.SumOfSquares } : default;
                accumulator._quantiles = sketches.Quantiles is { } q ? KllSketch.FromState(q) : new KllSketch();
                accumulator._frequentNumbers = frequent is null ? null : FrequentItems<double>.FromCounts(
                    frequent.Items.Select(v => KeyValuePair.Create(double.Parse(v.Value, CultureInfo.InvariantCulture), v.Count)), frequent.Total, frequent.MaxError);
            }
            else if (frequent is not null)
            {
                accumulator._frequentText = FrequentItems<string>.FromCounts(
                    frequent.Items.Select(v => KeyValuePair.Create(v.Value, v.Count)), frequent.Total, frequent.MaxError, comparer: StringComparer.Ordinal);
            }

            return accumulator;
        }

        public void Observe(ReadOnlySpan<byte> value, long row)
        {
            if (MissingValues.IsMissing(value))
            {
                _missing++;
            }
            else if (_numeric)
            {
                AddNumber(type == ColumnType.DateTime ? ParseDateTime(value, row) : ParseNumber(value, row));
            }
            else if (type == ColumnType.Boolean)
            {
                AddFlag(SchemaInference.TryParseBoolean(value, out var flag)
                    ? flag
                    : throw CairnException.Invalid($"Row {row}, column '{name}': '{Encoding.UTF8.GetString(value)}' is not a boolean value."));
            }
            else
            {
                _distinct.Add(XxHash3.HashToUInt64(value));
                _frequentText.AddText(value);
            }
        }

        // One cell of an in-memory table: numbers (booleans as 0/1) with NaN for missing, text with null.
        public void Observe(TableColumn? column, int row)
        {
            switch (column)
            {
                case null:
                case NumericColumn { Values: var values } when float.IsNaN(values[row]):
                case StringColumn { Values: var texts } when texts[row] is null:
                    _missing++;
                    break;
                case NumericColumn { Values: var values } when type == ColumnType.Boolean:
                    AddFlag(values[row] != 0);
                    break;
                case NumericColumn { Values: var values }:
                    AddNumber(values[row]);
                    break;
                case StringColumn { Values: var texts } when type == ColumnType.DateTime:
                    AddNumber(ParseDateTime(Encoding.UTF8.GetBytes(texts[row]!), row + 1));
                    break;
                case StringColumn { Values: var texts }:
                    var text = texts[row]!;
                    Span<byte> utf8 = stackalloc byte[256];
                    _distinct.Add(XxHash3.HashToUInt64(Encoding.UTF8.TryGetBytes(text, utf8, out var written) ? utf8[..written] : Encoding.UTF8.GetBytes(text)));
                    _frequentText.Add(text);
                    break;
            }
        }

        private void AddNumber(double number)
        {
            _moments.Add(number);
            _quantiles.Add(number);
            if (_frequentNumbers is { } frequent)
            {
                frequent.Add(number);
                _frequentNumbers = frequent.IsExact ? frequent : null;
            }

            _distinct.Add(number);
        }

        private void AddFlag(bool flag)
        {
            _distinct.Add(flag ? 1.0 : 0.0);
            _frequentText.Add(flag ? "true" : "false");
        }

        public void Merge(ColumnAccumulator other)
        {
            _missing += other._missing;
            _distinct.Merge(other._distinct);
            _moments.Merge(other._moments);
            _quantiles.Merge(other._quantiles);
            if (_frequentNumbers is { } mine && other._frequentNumbers is { } theirs)
            {
                mine.Merge(theirs);
            }

            _frequentNumbers = _frequentNumbers is { IsExact: true } && other._frequentNumbers is not null ? _frequentNumbers : null;
            _frequentText.Merge(other._frequentText);
        }

        public ColumnProfile ToProfile()
        {
            var count = _numeric ? _moments.Count : _frequentText.Total;
            var exactCounts = _numeric ? _frequentNumbers?.Counts.Count : _frequentText.IsExact ? _frequentText.Counts.Count : null;
            var frequent = _numeric
                ? _frequentNumbers is { } numbers
                    ? new FrequentState([.. numbers.Counts.Select(p => new ValueCount(Format(p.Key), p.Value))], numbers.Total, numbers.MaxError)
                    : null
                : new FrequentState([.. _frequentText.Counts.Select(p => new ValueCount(p.Key, p.Value))], _frequentText.Total, _frequentText.MaxError);
            var top = _numeric
                ? _frequentNumbers?.Top(TopValueCount).Select(p => new ValueCount(Format(p.Key), p.Value)) ?? []
                : _frequentText.Top(TopValueCount).Select(p => new ValueCount(p.Key, p.Value));
            var profile = new ColumnProfile(name, type, count, _missing, exactCounts ?? _distinct.Estimate(), exactCounts is not null)
            {
                TopValues = [.. top],
                Sketches = new ColumnSketches(
                    _numeric ? new MomentsState(_moments.Count, _moments.Mean, _moments.SumOfSquares) : null,
                    _numeric ? _quantiles.ToState() : null,
                    _distinct.ToBytes(),
                    frequent),
            };
            if (!_numeric || count == 0)
            {
                return profile;
            }

            return profile with
            {
                Min = _quantiles.Min,
                Max = _quantiles.Max,
                Mean = _moments.Mean,
                Std = _moments.SampleStd is var std && double.IsFinite(std) ? std : null,
                Quantiles = [.. ReportedQuantiles.Select(q => new QuantileValue(q, _quantiles.Quantile(q)))],
                Histogram = BuildHistogram(),
            };
        }

        private Histogram BuildHistogram()
        {
            var (min, max) = (_quantiles.Min, _quantiles.Max);
            var bins = min == max ? 1 : HistogramBins;
            var edges = Enumerable.Range(0, bins + 1).Select(i => i == bins ? max : min + ((max - min) * i / bins)).ToArray();
            var counts = new long[bins];
            var items = _quantiles.WeightedItems();
            var bin = 0;
            foreach (var (value, weight) in items)
            {
                while (bin < bins - 1 && value > edges[bin + 1])
                {
                    bin++;
                }

                counts[bin] += weight;
            }

            return new Histogram(edges, counts);
        }

        private double ParseNumber(ReadOnlySpan<byte> value, long row) =>
            Utf8Number.TryParse(value, out var number)
                ? number
                : throw CairnException.Invalid($"Row {row}, column '{name}': '{Encoding.UTF8.GetString(value)}' is not a number.");

        private double ParseDateTime(ReadOnlySpan<byte> value, long row) =>
            SchemaInference.TryParseDateTime(value, out var time)
                ? time.ToUnixTimeMilliseconds() / 1000.0
                : throw CairnException.Invalid($"Row {row}, column '{name}': '{Encoding.UTF8.GetString(value)}' is not a date-time.");

        private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    }
}
