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
    /// <summary>Rows set aside for tuning: neither trained on nor evaluated on.</summary>
    public IReadOnlyList<int> ValidationRows { get; init; } = [];

    /// <summary>Labelled rows the split could not place (a missing id or timestamp).</summary>
    public int RowsNotPlaced { get; init; }

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

        problems.AddRange(spec.Split.Problems(schema).Where(p => p.StartsWith("split column", StringComparison.Ordinal)));

        var (features, excluded) = ChooseFeatures(spec, schema, problems);
        var labels = LabelValues(data[spec.Label], labelColumn);
        var classes = spec.Task == TaskKind.Regression ? null : OrderClasses(labels, labelColumn, spec, dataset, problems);
        if (spec.Task == TaskKind.Regression && labelColumn.Type != ColumnType.Numeric)
        {
            problems.Add($"a regression label must be numeric, but '{spec.Label}' is {labelColumn.Type.ToString().ToLowerInvariant()}");
        }

        if (spec.Trainer == "lbfgs_poisson" && data[spec.Label] is NumericColumn counts && counts.Values.Any(v => v < 0))
        {
            problems.Add($"Poisson regression needs a non-negative label, but '{spec.Label}' has negative values");
        }

        if (problems.Count > 0)
        {
            throw CairnException.Invalid($"Cannot train on {dataset.Reference}:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}");
        }

        // A random split is stratified by class; every method leaves out unlabelled rows.
        var strata = classes is null ? [.. labels.Select(l => l is null ? null : string.Empty)] : labels;
        var parts = spec.Split.Assign(data, schema, spec.Seed, strata);
        List<int> Rows(SplitPart part) => [.. Enumerable.Range(0, parts.Length).Where(r => parts[r] == part)];
        var (train, validation, test) = (Rows(SplitPart.Train), Rows(SplitPart.Validation), Rows(SplitPart.Test));
        var unlabeled = labels.Count(l => l is null);
        if (train.Count < 2 || test.Count < 1)
        {
            throw CairnException.Invalid(
                $"{dataset.Reference} has too few labelled rows ({train.Count + test.Count}) to hold out {spec.Split.TestFraction:P0} for evaluation.");
        }

        if (spec.Featurize.SelectFeatures is { } keep)
        {
            (features, excluded) = SelectFeatures(data, spec.Label, features, excluded, train, keep);
        }

        return new TrainingPlan(labelColumn, spec.Task, features, classes, excluded, train, test, unlabeled)
        {
            ValidationRows = validation,
            RowsNotPlaced = parts.Count(p => p == SplitPart.Excluded) - unlabeled,
        };
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

    // Keeps the most informative columns; text columns are always kept (their words are not one value to rank).
    private static (IReadOnlyList<ColumnSchema> Features, IReadOnlyList<ExcludedColumn> Excluded) SelectFeatures(
        Table data, string label, IReadOnlyList<ColumnSchema> features, IReadOnlyList<ExcludedColumn> excluded, IReadOnlyList<int> train, int keep)
    {
        var ranked = features.Where(f => f.Type != ColumnType.Text).Select(f => f.Name).ToList();
        if (ranked.Count <= keep)
        {
            return (features, excluded);
        }

        var information = FeatureSelection.MutualInformation(data, ranked, data[label], train);
        var kept = information.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(keep).Select(p => p.Key).ToHashSet();
        var dropped = features.Where(f => f.Type != ColumnType.Text && !kept.Contains(f.Name))
            .Select(f => new ExcludedColumn(f.Name, $"not among the {keep} most informative (mutual information {information[f.Name]:0.####})"));
        return ([.. features.Where(f => f.Type == ColumnType.Text || kept.Contains(f.Name))], [.. excluded, .. dropped]);
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
            else if (column.Type == ColumnType.DateTime)
            {
                const string reason = "date-time columns are not featurized yet";
                if (spec.Features is not null)
                {
                    problems.Add($"feature '{column.Name}': {reason}");
                }

                excluded.Add(new ExcludedColumn(column.Name, reason));
            }
            else if (spec.Featurize.Text.Contains(column.Name) && column.Type == ColumnType.Categorical)
            {
                // Featurized as text, so served as text: the model reads words, not levels.
                features.Add(column with { Type = ColumnType.Text, Categories = null });
            }
            else
            {
                features.Add(column);
            }
        }

        foreach (var name in spec.Featurize.Hashed)
        {
            var feature = features.FirstOrDefault(f => f.Name == name);
            if (feature is null || feature.Type != ColumnType.Categorical)
            {
                problems.Add($"'featurize.hash' names '{name}', which is not a categorical feature");
            }
        }

        foreach (var name in spec.Featurize.Text.Where(n => features.All(f => f.Name != n)))
        {
            problems.Add($"'featurize.text' names '{name}', which is not a feature");
        }

        foreach (var name in spec.Featurize.Text.Where(n => schema.Find(n) is { Type: not (ColumnType.Categorical or ColumnType.Text) }))
        {
            problems.Add($"'featurize.text' names '{name}', which is {schema.Find(name)!.Type.ToString().ToLowerInvariant()}, not text");
        }

        foreach (var name in spec.Evaluation.Slices.Where(n => schema.Find(n) is null))
        {
            problems.Add($"'evaluate.slices' names '{name}', which is not in the dataset");
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
}
