using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Cairn.Core.Statistics;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Cairn.Core.Data;

/// <summary>What one column of a dataset must satisfy; every rule but the type is optional.</summary>
/// <param name="Name">The column.</param>
/// <param name="Type">Its type: values must parse as it.</param>
public sealed record ColumnContract(string Name, ColumnType Type)
{
    /// <summary>Whether values may be missing at all.</summary>
    public bool Nullable { get; init; } = true;

    /// <summary>The largest share of missing values allowed (0 to 1).</summary>
    public double? MaxMissing { get; init; }

    /// <summary>The smallest value allowed (numbers; date-times as ISO 8601 in the YAML).</summary>
    public double? Min { get; init; }

    /// <summary>The largest value allowed.</summary>
    public double? Max { get; init; }

    /// <summary>The only values allowed (categorical and boolean columns).</summary>
    public IReadOnlyList<string>? Allowed { get; init; }

    /// <summary>Whether every present value must be distinct.</summary>
    public bool Unique { get; init; }
}

/// <summary>
/// An editable data contract: the columns a dataset must have and the rules their values must follow, plus
/// row-count bounds. Inferred from a version (<see cref="Infer"/>), written as YAML, edited by people, and checked
/// against any version with <see cref="Validate"/>, which reports every violation at once.
/// </summary>
public sealed class DataContract
{
    private const int ExampleLimit = 5;

    /// <summary>The dataset it was written for (informational).</summary>
    public string? Dataset { get; init; }

    /// <summary>The fewest rows allowed.</summary>
    public long? MinRows { get; init; }

    /// <summary>The most rows allowed.</summary>
    public long? MaxRows { get; init; }

    /// <summary>Whether columns the contract does not name are allowed.</summary>
    public bool AllowExtraColumns { get; init; }

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<ColumnContract> Columns { get; init; } = [];

    /// <summary>
    /// A contract that the version passes as it is: its types, nullability and observed missing share, numeric
    /// ranges, categorical levels, uniqueness of id-like columns, and at least one row.
    /// </summary>
    public static DataContract Infer(DatasetVersion version, DatasetProfile? profile)
    {
        ArgumentNullException.ThrowIfNull(version);
        return new DataContract
        {
            Dataset = version.Name,
            MinRows = 1,
            Columns = [.. version.Schema.Columns.Select(c =>
            {
                var p = profile?.Find(c.Name);
                var rows = Math.Max(1, version.RowCount);
                var numeric = c.Type is ColumnType.Numeric or ColumnType.DateTime;
                return new ColumnContract(c.Name, c.Type)
                {
                    Nullable = c.Nullable,
                    MaxMissing = c.Nullable ? Math.Ceiling((double)c.MissingCount / rows * 1000) / 1000 : null,
                    Min = numeric ? p?.Min : null,
                    Max = numeric ? p?.Max : null,
                    Allowed = c.Type == ColumnType.Categorical ? c.Categories : null,
                    Unique = c.MissingCount == 0 && c.DistinctCount == version.RowCount && p is { DistinctIsExact: true } && c.Type != ColumnType.Boolean,
                };
            })],
        };
    }

    /// <summary>Parses a contract, reporting every problem in it at once.</summary>
    public static DataContract Parse(string yaml, string? source = null) => SpecYaml.Read<ContractDocument>(yaml, "the contract", source).ToContract();

    /// <summary>The contract as YAML, with a header saying how to use it.</summary>
    public string ToYaml()
    {
        var document = new ContractDocument
        {
            Dataset = Dataset,
            Rows = new RowsDocument { Min = MinRows, Max = MaxRows },
            AllowExtraColumns = AllowExtraColumns,
            Columns = [.. Columns.Select(c => new ColumnDocument
            {
                Name = c.Name,
                Type = c.Type.ToString().ToLowerInvariant(),
                Nullable = c.Nullable,
                MaxMissing = c.MaxMissing,
                Min = c.Type == ColumnType.DateTime ? null : c.Min,
                Max = c.Type == ColumnType.DateTime ? null : c.Max,
                Earliest = c.Type == ColumnType.DateTime && c.Min is { } earliest ? FormatTime(earliest) : null,
                Latest = c.Type == ColumnType.DateTime && c.Max is { } latest ? FormatTime(latest) : null,
                Allowed = c.Allowed is { } allowed ? [.. allowed] : null,
                Unique = c.Unique ? true : null,
            })],
        };
        var serializer = new SerializerBuilder()
            .WithNamingConvention(UnderscoredNamingConvention.Instance)
            .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
            .Build();
        return $"""
            # Cairn data contract{(Dataset is null ? "" : $" for dataset '{Dataset}'")}.
            # Check a version with: cairn datasets validate NAME@VERSION --contract FILE
            # Every rule but a column's type may be removed or edited: nullable, max_missing (a share, 0 to 1),
            # min/max (numbers), earliest/latest (date-times), allowed (values), unique; rows: min/max; allow_extra_columns.

            """ + serializer.Serialize(document);
    }

    /// <summary>Checks every record of <paramref name="reader"/> against the contract and reports every violation.</summary>
    public (bool Passed, long Rows, IReadOnlyList<Violation> Violations) Validate(IRecordReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var violations = new List<Violation>();
        var header = reader.Header;
        var missingColumns = Columns.Where(c => !header.Contains(c.Name)).Select(c => c.Name).ToList();
        if (missingColumns.Count > 0)
        {
            violations.Add(new Violation(null, "columns", $"Missing column(s): {string.Join(", ", missingColumns)}.", missingColumns.Count, missingColumns));
        }

        var extra = header.Where(h => Columns.All(c => c.Name != h)).ToList();
        if (extra.Count > 0 && !AllowExtraColumns)
        {
            violations.Add(new Violation(null, "columns", $"Column(s) the contract does not name: {string.Join(", ", extra)} (set allow_extra_columns: true to allow them).",
                extra.Count, extra));
        }

        var checks = Columns.Where(c => header.Contains(c.Name)).Select(c => new ColumnCheck(c, header.ToList().IndexOf(c.Name))).ToArray();
        while (reader.TryRead())
        {
            if ((reader.RecordCount & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            foreach (var check in checks)
            {
                check.Observe(reader.Field(check.Index), reader.RecordCount);
            }
        }

        var rows = reader.RecordCount;
        if (rows < MinRows || rows > MaxRows)
        {
            violations.Add(new Violation(null, "rows", $"{rows} rows; the contract allows {MinRows?.ToString(CultureInfo.InvariantCulture) ?? "any"} to {MaxRows?.ToString(CultureInfo.InvariantCulture) ?? "any"}.", 1, []));
        }

        foreach (var check in checks)
        {
            violations.AddRange(check.Finish(rows));
        }

        return (violations.Count == 0, rows, violations);
    }

    private static string FormatTime(double unixSeconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(unixSeconds * 1000)).ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture);

    // Counts each broken rule of one column with its first examples; memory is bounded except for uniqueness (8 bytes a row).
    private sealed class ColumnCheck(ColumnContract contract, int index)
    {
        private readonly Dictionary<string, (long Count, List<string> Examples)> _broken = [];
        private readonly HashSet<string>? _allowed = contract.Allowed is { } allowed ? new HashSet<string>(allowed, StringComparer.Ordinal) : null;
        private readonly HashSet<ulong>? _seen = contract.Unique ? [] : null;
        private long _missing;

        public int Index { get; } = index;

        public void Observe(ReadOnlySpan<byte> value, long row)
        {
            if (MissingValues.IsMissing(value))
            {
                _missing++;
                if (!contract.Nullable)
                {
                    Break("nullable", row, value);
                }

                return;
            }

            if (_seen is not null && !_seen.Add(XxHash3.HashToUInt64(value)))
            {
                Break("unique", row, value);
            }

            // A value of the wrong type breaks only the type rule; ranges apply to values that parsed.
            var (parsed, number) = contract.Type switch
            {
                ColumnType.Numeric => (Utf8Number.TryParse(value, out var n), n),
                ColumnType.DateTime => (SchemaInference.TryParseDateTime(value, out var t), t.ToUnixTimeMilliseconds() / 1000.0),
                ColumnType.Boolean => (SchemaInference.TryParseBoolean(value, out _), double.NaN),
                _ => (true, double.NaN),
            };
            if (!parsed)
            {
                Break("type", row, value);
                return;
            }

            CheckRange(number, row, value);

            if (_allowed is not null)
            {
                if (!_allowed.Contains(Encoding.UTF8.GetString(value)))
                {
                    Break("allowed", row, value);
                }
            }
        }

        public IEnumerable<Violation> Finish(long rows)
        {
            if (contract.MaxMissing is { } limit && rows > 0 && (double)_missing / rows > limit)
            {
                yield return new Violation(contract.Name, "max_missing",
                    $"{(double)_missing / rows:P2} of values are missing; at most {limit:P2} may be.", _missing, []);
            }

            foreach (var (rule, (count, examples)) in _broken)
            {
                yield return new Violation(contract.Name, rule, Describe(rule, count), count, examples);
            }
        }

        private void CheckRange(double value, long row, ReadOnlySpan<byte> raw)
        {
            if (value < contract.Min)
            {
                Break("min", row, raw);
            }

            if (value > contract.Max)
            {
                Break("max", row, raw);
            }
        }

        private string Describe(string rule, long count) => rule switch
        {
            "nullable" => $"{count} missing value(s); the column may not have any.",
            "unique" => $"{count} repeated value(s); every value must be distinct.",
            "type" => $"{count} value(s) are not {contract.Type.ToString().ToLowerInvariant()}.",
            "min" => $"{count} value(s) below the minimum {Bound(contract.Min)}.",
            "max" => $"{count} value(s) above the maximum {Bound(contract.Max)}.",
            "allowed" => $"{count} value(s) outside the allowed {contract.Allowed!.Count} value(s).",
            _ => $"{count} value(s) break '{rule}'.",
        };

        private string Bound(double? value) => value is not { } v ? "" : contract.Type == ColumnType.DateTime ? FormatTime(v) : v.ToString("R", CultureInfo.InvariantCulture);

        private void Break(string rule, long row, ReadOnlySpan<byte> value)
        {
            ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_broken, rule, out var exists);
            if (!exists)
            {
                entry = (0, []);
            }

            entry.Count++;
            if (entry.Examples.Count < ExampleLimit)
            {
                entry.Examples.Add($"row {row}: '{Encoding.UTF8.GetString(value)}'");
            }
        }
    }

    // The YAML shape; every field optional here so that parsing can name each problem.
    private sealed class ContractDocument
    {
        public string? Dataset { get; set; }

        public RowsDocument? Rows { get; set; }

        public bool? AllowExtraColumns { get; set; }

        public List<ColumnDocument>? Columns { get; set; }

        public DataContract ToContract()
        {
            var problems = new List<string>();
            if (Rows is { Min: { } min, Max: { } max } && min > max)
            {
                problems.Add($"rows: min ({min}) is above max ({max})");
            }

            if (Columns is null or { Count: 0 })
            {
                problems.Add("columns: the contract names no columns");
            }

            var columns = new List<ColumnContract>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (column, i) in (Columns ?? []).Select((c, i) => (c, i + 1)))
            {
                var where = column.Name is { Length: > 0 } n ? $"column '{n}'" : $"column {i}";
                if (column.Name is not { Length: > 0 })
                {
                    problems.Add($"{where}: has no name");
                }
                else if (!names.Add(column.Name))
                {
                    problems.Add($"{where}: appears more than once");
                }

                if (!Enum.TryParse<ColumnType>(column.Type?.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var type) || int.TryParse(column.Type, out _))
                {
                    problems.Add($"{where}: type '{column.Type}' is not one of numeric, boolean, categorical, text, datetime");
                }

                if (column.MaxMissing is < 0 or > 1)
                {
                    problems.Add($"{where}: max_missing {column.MaxMissing} is not a share between 0 and 1");
                }

                var (low, high) = (column.Min ?? ParseTime(column.Earliest, where, "earliest", problems), column.Max ?? ParseTime(column.Latest, where, "latest", problems));
                if (low > high)
                {
                    problems.Add($"{where}: the minimum is above the maximum");
                }

                columns.Add(new ColumnContract(column.Name ?? "", type)
                {
                    Nullable = column.Nullable ?? true,
                    MaxMissing = column.MaxMissing,
                    Min = low,
                    Max = high,
                    Allowed = column.Allowed,
                    Unique = column.Unique ?? false,
                });
            }

            return problems.Count > 0
                ? throw CairnException.Invalid($"The contract is not valid: {string.Join("; ", problems)}.")
                : new DataContract { Dataset = Dataset, MinRows = Rows?.Min, MaxRows = Rows?.Max, AllowExtraColumns = AllowExtraColumns ?? false, Columns = columns };
        }

        private static double? ParseTime(string? text, string where, string field, List<string> problems)
        {
            if (text is null)
            {
                return null;
            }

            if (SchemaInference.TryParseDateTime(Encoding.UTF8.GetBytes(text), out var time))
            {
                return time.ToUnixTimeMilliseconds() / 1000.0;
            }

            problems.Add($"{where}: {field} '{text}' is not an ISO 8601 date-time");
            return null;
        }
    }

    private sealed class RowsDocument
    {
        public long? Min { get; set; }

        public long? Max { get; set; }
    }

    private sealed class ColumnDocument
    {
        public string? Name { get; set; }

        public string? Type { get; set; }

        public bool? Nullable { get; set; }

        public double? MaxMissing { get; set; }

        public double? Min { get; set; }

        public double? Max { get; set; }

        public string? Earliest { get; set; }

        public string? Latest { get; set; }

        public List<string>? Allowed { get; set; }

        public bool? Unique { get; set; }
    }
}
