using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Cairn.Core.Data;

/// <summary>How rows are assigned to train, validation and test.</summary>
public enum SplitMethod
{
    /// <summary>A seeded shuffle, stratified by the label when there is one.</summary>
    Random,

    /// <summary>By a hash of an id column's value (and the seed), so a row keeps its part in every version of the data.</summary>
    Hash,

    /// <summary>By a timestamp column: the earliest rows train, later ones validate, the latest test.</summary>
    Time,
}

/// <summary>The part of the data a row belongs to.</summary>
public enum SplitPart
{
    /// <summary>Rows to learn from.</summary>
    Train,

    /// <summary>Rows to tune on.</summary>
    Validation,

    /// <summary>Rows held out to evaluate on.</summary>
    Test,

    /// <summary>Rows that cannot be placed: a missing id or timestamp (or label, when training).</summary>
    Excluded,
}

/// <summary>A deterministic train/validation/test split: the same data, spec and seed always give the same parts.</summary>
/// <param name="Method">How rows are assigned.</param>
/// <param name="TestFraction">The share of rows for test, in (0, 1).</param>
/// <param name="ValidationFraction">The share for validation, in [0, 1); test and validation together below 1.</param>
/// <param name="Column">The id column (hash) or timestamp column (time); null for random.</param>
public sealed record DataSplit(SplitMethod Method = SplitMethod.Random, double TestFraction = 0.2, double ValidationFraction = 0, string? Column = null)
{
    /// <summary>A split method by its name (random, hash or time).</summary>
    public static SplitMethod ParseMethod(string? method) =>
        Enum.TryParse<SplitMethod>(method, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !method!.All(char.IsDigit) ? parsed
            : throw CairnException.Invalid($"The split method is '{method}'; use random, hash or time.");

    /// <summary>Every problem with the split's settings against <paramref name="schema"/>, in words.</summary>
    public IEnumerable<string> Problems(TableSchema? schema)
    {
        if (!(TestFraction > 0 && TestFraction < 1))
        {
            yield return $"'split.test_fraction' is {TestFraction.ToString(CultureInfo.InvariantCulture)}; it must be between 0 and 1";
        }

        if (!(ValidationFraction >= 0 && TestFraction + ValidationFraction < 1))
        {
            yield return $"'split.validation_fraction' is {ValidationFraction.ToString(CultureInfo.InvariantCulture)}; with the test fraction it must leave rows to train on";
        }

        if (Method == SplitMethod.Random && Column is not null)
        {
            yield return "'split.column' is only for the hash and time methods";
        }

        if (Method != SplitMethod.Random && Column is null)
        {
            yield return $"the {Method.ToString().ToLowerInvariant()} split needs {(Method == SplitMethod.Hash ? "an id column" : "a timestamp column")} ('split.column' in a spec, --column on the command line)";
        }

        if (Column is not null && schema is not null)
        {
            var column = schema.Find(Column);
            if (column is null)
            {
                yield return $"split column '{Column}' is not in the data";
            }
            else if (Method == SplitMethod.Time && column.Type is not (ColumnType.DateTime or ColumnType.Numeric))
            {
                yield return $"split column '{Column}' is {column.Type.ToString().ToLowerInvariant()}; a time split needs a date-time or numeric column";
            }
        }
    }

    /// <summary>The split as flat run params.</summary>
    public IReadOnlyDictionary<string, string> ToParams()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["split.method"] = Method.ToString().ToLowerInvariant(),
            ["split.test_fraction"] = TestFraction.ToString("R", CultureInfo.InvariantCulture),
        };
        if (ValidationFraction > 0)
        {
            result["split.validation_fraction"] = ValidationFraction.ToString("R", CultureInfo.InvariantCulture);
        }

        if (Column is not null)
        {
            result["split.column"] = Column;
        }

        return result;
    }

    /// <summary>
    /// Assigns every row of <paramref name="table"/> to a part. <paramref name="strata"/> (the labels, null where
    /// missing) stratify a random split and exclude unlabelled rows from every method.
    /// </summary>
    public SplitPart[] Assign(Table table, TableSchema schema, int seed, string?[]? strata = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(schema);
        var problems = Problems(schema).ToList();
        if (problems.Count > 0)
        {
            throw CairnException.Invalid($"The split is not valid: {string.Join("; ", problems)}.");
        }

        var parts = new SplitPart[table.RowCount];
        switch (Method)
        {
            case SplitMethod.Random:
                AssignRandom(parts, seed, strata);
                break;
            case SplitMethod.Hash:
                AssignByHash(parts, table[Column!], seed);
                break;
            case SplitMethod.Time:
                AssignByTime(parts, table[Column!], schema.Find(Column!)!);
                break;
        }

        if (strata is not null)
        {
            for (var row = 0; row < parts.Length; row++)
            {
                parts[row] = strata[row] is null ? SplitPart.Excluded : parts[row];
            }
        }

        return parts;
    }

    // A seeded shuffle per stratum: each class keeps its share in every part.
    private void AssignRandom(SplitPart[] parts, int seed, string?[]? strata)
    {
        var random = new Random(seed);
        var groups = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        for (var row = 0; row < parts.Length; row++)
        {
            if (strata?[row] is null && strata is not null)
            {
                continue;
            }

            var key = strata?[row] ?? string.Empty;
            if (!groups.TryGetValue(key, out var rows))
            {
                groups[key] = rows = [];
            }

            rows.Add(row);
        }

        foreach (var rows in groups.Values)
        {
            var shuffled = rows.ToArray();
            random.Shuffle(shuffled);
            var test = (int)Math.Round(shuffled.Length * TestFraction, MidpointRounding.AwayFromZero);
            var validation = (int)Math.Round(shuffled.Length * ValidationFraction, MidpointRounding.AwayFromZero);
            for (var i = 0; i < shuffled.Length; i++)
            {
                parts[shuffled[i]] = i < test ? SplitPart.Test : i < test + validation ? SplitPart.Validation : SplitPart.Train;
            }
        }
    }

    // The seed and the id's text hash to a point in [0, 1): the part depends on nothing but the id.
    private void AssignByHash(SplitPart[] parts, TableColumn column, int seed)
    {
        Span<byte> buffer = stackalloc byte[512];
        for (var row = 0; row < parts.Length; row++)
        {
            var id = column switch
            {
                NumericColumn n => float.IsNaN(n.Values[row]) ? null : n.Values[row].ToString("R", CultureInfo.InvariantCulture),
                StringColumn s => s.Values[row],
                _ => null,
            };
            if (id is null)
            {
                parts[row] = SplitPart.Excluded;
                continue;
            }

            var bytes = Encoding.UTF8.GetByteCount(id) + 4 <= buffer.Length ? buffer : new byte[Encoding.UTF8.GetByteCount(id) + 4];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, seed);
            var length = 4 + Encoding.UTF8.GetBytes(id, bytes[4..]);
            var point = (XxHash3.HashToUInt64(bytes[..length]) >> 11) * (1.0 / (1UL << 53));
            parts[row] = point < TestFraction ? SplitPart.Test : point < TestFraction + ValidationFraction ? SplitPart.Validation : SplitPart.Train;
        }
    }

    // Rows sorted by time: the latest test share is test, the share before it validation. Rows with the same time
    // as a cut go to the later part, so no timestamp is split across parts.
    private void AssignByTime(SplitPart[] parts, TableColumn column, ColumnSchema schema)
    {
        var times = new double[parts.Length];
        for (var row = 0; row < parts.Length; row++)
        {
            times[row] = column switch
            {
                NumericColumn n => n.Values[row],
                StringColumn { Values: var v } when v[row] is { } text && SchemaInference.TryParseDateTime(text, out var time) => time.ToUnixTimeMilliseconds(),
                _ => double.NaN,
            };
        }

        var sorted = times.Where(t => !double.IsNaN(t)).Order().ToArray();
        if (sorted.Length == 0)
        {
            throw CairnException.Invalid($"The time split's column '{schema.Name}' has no values.");
        }

        var testCut = sorted[Math.Clamp((int)Math.Floor(sorted.Length * (1 - TestFraction)), 0, sorted.Length - 1)];
        var validationCut = sorted[Math.Clamp((int)Math.Floor(sorted.Length * (1 - TestFraction - ValidationFraction)), 0, sorted.Length - 1)];
        for (var row = 0; row < parts.Length; row++)
        {
            var t = times[row];
            parts[row] = double.IsNaN(t) ? SplitPart.Excluded
                : t >= testCut ? SplitPart.Test
                : ValidationFraction > 0 && t >= validationCut ? SplitPart.Validation
                : SplitPart.Train;
        }
    }
}
