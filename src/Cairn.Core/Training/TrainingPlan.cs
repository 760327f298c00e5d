using System.Globalization;
using Cairn.Core.Data;
using Cairn.Core.Models;

namespace Cairn.Core.Training;

/// <summary>A column left out of training, and why.</summary>
public sealed record ExcludedColumn(string Name, string Reason);

/// <summary>
/// What a training run will do, decided from the spec and the data before any work starts: the features,
/// the classes, the label of every row and the hold-out split. Creating one validates everything a caller can get wrong.
/// </summary>
public sealed record TrainingPlan(
    ColumnSchema Label,
    TaskKind Task,
    IReadOnlyList<ColumnSchema> Features,
    IReadOnlyList<string>? Classes,
    IReadOnlyList<ExcludedColumn> Excluded,
    IReadOnlyList<int> TrainRows,
    IReadOnlyList<int> TestRows,
    int RowsWithoutLabel)
{
    /// <summary>Checks the spec against the data and plans the run; every problem is reported at once.</summary>
    public static TrainingPlan Create(TrainingSpec spec, DatasetVersion dataset, Table data)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(data);
        var schema = dataset.Schema;
        var problems = new List<string>();
        var labelColumn = schema.Find(spec.Label);
        if (labelColumn is null)
        {
            throw CairnException.Invalid(
                $"The label column '{spec.Label}' is not in {dataset.Reference}; its columns are: {string.Join(", ", schema.Columns.Select(c => c.Name))}.");
        }

        foreach (var name in spec.Ignore.Concat(spec.Features ?? []).Where(n => schema.Find(n) is null))
        {
            problems.Add($"column '{name}' named in the spec is not in {dataset.Reference}");
        }

        var (features, excluded) = ChooseFeatures(spec, schema, problems);
        var labels = LabelValues(data[spec.Label], labelColumn);
        var classes = spec.Task == TaskKind.Regression ? null : OrderClasses(labels, labelColumn, spec, dataset, problems);
        if (spec.Task == TaskKind.Regression && labelColumn.Type != ColumnType.Numeric)
        {
            problems.Add($"a regression label must be numeric, but '{spec.Label}' is {labelColumn.Type.ToString().ToLowerInvariant()}");
        }

        if (problems.Count > 0)
        {
            throw CairnException.Invalid($"Cannot train on {dataset.Reference}:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}");
        }

        var (train, test, unlabeled) = Split(labels, classes is null ? null : labels, spec.Split.TestFraction, spec.Seed);
        if (train.Count < 2 || test.Count < 1)
        {
            throw CairnException.Invalid(
                $"{dataset.Reference} has too few labelled rows ({train.Count + test.Count}) to hold out {spec.Split.TestFraction:P0} for evaluation.");
        }

        return new TrainingPlan(labelColumn, spec.Task, features, classes, excluded, train, test, unlabeled);
    }

    /// <summary>The label of every row of <paramref name="data"/> as text (null when missing), the form classes are named in.</summary>
    public string?[] LabelValues(Table data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return LabelValues(data[Label.Name], Label);
    }

    /// <summary>The label of every row as text (null when missing), the form classes are named in.</summary>
    public static string?[] LabelValues(TableColumn column, ColumnSchema schema)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(schema);
        return column switch
        {
            StringColumn s => s.Values,
            NumericColumn n when schema.Type == ColumnType.Boolean => [.. n.Values.Select(v => float.IsNaN(v) ? null : v != 0 ? "true" : "false")],
            NumericColumn n => [.. n.Values.Select(v => float.IsNaN(v) ? null : v.ToString("R", CultureInfo.InvariantCulture))],
            _ => throw new InvalidOperationException($"Unknown column kind {column.GetType().Name}."),
        };
    }

    private static (IReadOnlyList<ColumnSchema> Features, IReadOnlyList<ExcludedColumn> Excluded) ChooseFeatures(
        TrainingSpec spec, TableSchema schema, List<string> problems)
    {
        var features = new List<ColumnSchema>();
        var excluded = new List<ExcludedColumn>();
        foreach (var column in schema.Columns.Where(c => c.Name != spec.Label))
        {
            var requested = spec.Features?.Contains(column.Name) ?? true;
            if (!requested || spec.Ignore.Contains(column.Name))
            {
                excluded.Add(new ExcludedColumn(column.Name, requested ? "ignored by the spec" : "not listed in 'features'"));
            }
            else if (column.Type is ColumnType.Text or ColumnType.DateTime)
            {
                var reason = $"{column.Type.ToString().ToLowerInvariant()} columns are not featurized yet";
                if (spec.Features is not null)
                {
                    problems.Add($"feature '{column.Name}': {reason}");
                }

                excluded.Add(new ExcludedColumn(column.Name, reason));
            }
            else
            {
                features.Add(column);
            }
        }

        if (features.Count == 0 && problems.Count == 0)
        {
            problems.Add("no usable feature columns remain (numeric, boolean or categorical, other than the label)");
        }

        return (features, excluded);
    }

    private static List<string>? OrderClasses(string?[] labels, ColumnSchema labelColumn, TrainingSpec spec, DatasetVersion dataset, List<string> problems)
    {
        var distinct = labels.OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (labelColumn.Type == ColumnType.Numeric)
        {
            distinct.Sort((a, b) => double.Parse(a, CultureInfo.InvariantCulture).CompareTo(double.Parse(b, CultureInfo.InvariantCulture)));
        }
        else
        {
            distinct.Sort(StringComparer.Ordinal);
        }

        var described = string.Join(", ", distinct.Take(10).Select(c => $"'{c}'")) + (distinct.Count > 10 ? ", ..." : "");
        if (distinct.Count < 2)
        {
            problems.Add(distinct.Count == 0
                ? $"the label '{spec.Label}' has no values in {dataset.Reference}"
                : $"the label '{spec.Label}' has a single class ({described}) in {dataset.Reference}; a classifier needs at least two");
            return null;
        }

        if (spec.Task == TaskKind.Binary && distinct.Count > 2)
        {
            problems.Add($"the label '{spec.Label}' has {distinct.Count} classes ({described}); a binary task needs exactly two, use task: multiclass");
            return null;
        }

        if (spec.Task == TaskKind.Binary && spec.PositiveClass is { } positive)
        {
            if (!distinct.Contains(positive))
            {
                problems.Add($"'positive_class' is '{positive}', which is not one of the label's classes ({described})");
                return null;
            }

            return [distinct.Single(c => c != positive), positive];
        }

        return distinct;
    }

    // A seeded, stratified shuffle: each class keeps its share in both parts.
    private static (List<int> Train, List<int> Test, int Unlabeled) Split(string?[] labels, string?[]? strata, double testFraction, int seed)
    {
        var random = new Random(seed);
        var groups = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        var unlabeled = 0;
        for (var row = 0; row < labels.Length; row++)
        {
            if (labels[row] is null)
            {
                unlabeled++;
                continue;
            }

            var key = strata?[row] ?? string.Empty;
            if (!groups.TryGetValue(key, out var rows))
            {
                groups[key] = rows = [];
            }

            rows.Add(row);
        }

        var train = new List<int>();
        var test = new List<int>();
        foreach (var rows in groups.Values)
        {
            var shuffled = rows.ToArray();
            random.Shuffle(shuffled);
            var testCount = (int)Math.Round(shuffled.Length * testFraction, MidpointRounding.AwayFromZero);
            test.AddRange(shuffled.AsSpan(0, testCount));
            train.AddRange(shuffled.AsSpan(testCount));
        }

        train.Sort();
        test.Sort();
        return (train, test, unlabeled);
    }
}
