using System.Globalization;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Models;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Cairn.Core.Training;

/// <summary>A trainer: the tasks it learns, the hyperparameters it accepts, and whether it is linear (and so wants scaled features).</summary>
public sealed record TrainerInfo(IReadOnlyList<TaskKind> Tasks, IReadOnlyList<string> Hyperparameters, bool Linear = false);

/// <summary>A validated training request: what to learn from which data, with which trainer and settings.</summary>
public sealed record TrainingSpec
{
    /// <summary>The trainers Cairn knows, with the hyperparameters each accepts.</summary>
    public static readonly IReadOnlyDictionary<string, TrainerInfo> Trainers = new Dictionary<string, TrainerInfo>
    {
        ["lightgbm"] = new([TaskKind.Binary, TaskKind.Multiclass, TaskKind.Regression], ["num_leaves", "learning_rate", "num_iterations", "min_data_in_leaf"]),
        ["fasttree"] = new([TaskKind.Binary, TaskKind.Multiclass, TaskKind.Regression], ["num_leaves", "learning_rate", "num_trees", "min_data_in_leaf"]),
        ["fastforest"] = new([TaskKind.Binary, TaskKind.Regression], ["num_leaves", "num_trees", "min_data_in_leaf"]),
        ["sdca"] = new([TaskKind.Binary, TaskKind.Multiclass, TaskKind.Regression], ["l2_regularization", "l1_regularization", "max_iterations"], Linear: true),
        ["lbfgs_logistic"] = new([TaskKind.Binary, TaskKind.Multiclass], ["l2_regularization", "l1_regularization", "max_iterations"], Linear: true),
        ["lbfgs_poisson"] = new([TaskKind.Regression], ["l2_regularization", "l1_regularization", "max_iterations"], Linear: true),
    };

    /// <summary>Trainer names as specs may also write them.</summary>
    private static readonly IReadOnlyDictionary<string, string> TrainerAliases = new Dictionary<string, string>
    {
        ["logistic"] = "lbfgs_logistic",
        ["poisson"] = "lbfgs_poisson",
    };

    /// <summary>The dataset to read.</summary>
    public required DatasetRef Dataset { get; init; }

    /// <summary>The label column.</summary>
    public required string Label { get; init; }

    /// <summary>The learning task.</summary>
    public required TaskKind Task { get; init; }

    /// <summary>The trainer name, a key of <see cref="Trainers"/>.</summary>
    public string Trainer { get; init; } = "lightgbm";

    /// <summary>Trainer settings; only those the trainer accepts.</summary>
    public IReadOnlyDictionary<string, double> Hyperparameters { get; init; } = new Dictionary<string, double>();

    /// <summary>The feature columns; null means every usable column but the label and <see cref="Ignore"/>.</summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>Columns never used as features.</summary>
    public IReadOnlyList<string> Ignore { get; init; } = [];

    /// <summary>The positive class of a binary task; by default the second of the two classes in sorted order.</summary>
    public string? PositiveClass { get; init; }

    /// <summary>How columns become features.</summary>
    public Featurization Featurize { get; init; } = new();

    /// <summary>What the evaluation computes beyond the metrics.</summary>
    public EvaluationOptions Evaluation { get; init; } = new([]);

    /// <summary>The train/validation/test split.</summary>
    public DataSplit Split { get; init; } = new();

    /// <summary>The seed for the split and the trainer, so a run is reproducible.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>A name for the run; a default is derived when absent.</summary>
    public string? RunName { get; init; }

    /// <summary>The spec as flat run params.</summary>
    public IReadOnlyDictionary<string, string> ToParams()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["dataset"] = Dataset.ToString(),
            ["label"] = Label,
            ["task"] = Task.ToString().ToLowerInvariant(),
            ["trainer"] = Trainer,
            ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in Split.ToParams())
        {
            result[key] = value;
        }

        foreach (var (key, value) in Featurize.ToParams())
        {
            result[key] = value;
        }

        if (Evaluation.Slices.Count > 0)
        {
            result["evaluate.slices"] = string.Join(",", Evaluation.Slices);
        }

        foreach (var (key, value) in Hyperparameters)
        {
            result[$"hp.{key}"] = value.ToString("R", CultureInfo.InvariantCulture);
        }

        if (PositiveClass is not null)
        {
            result["positive_class"] = PositiveClass;
        }

        if (Ignore.Count > 0)
        {
            result["ignore"] = string.Join(",", Ignore);
        }

        return result;
    }

    /// <summary>The spec as YAML that <see cref="Parse"/> reads back to an equal spec: what a run stores to be reproducible.</summary>
    public string ToYaml()
    {
        var document = new TrainingSpecDocument
        {
            Dataset = Dataset.ToString(),
            Label = Label,
            Task = Task.ToString().ToLowerInvariant(),
            Trainer = Trainer,
            Hyperparameters = Hyperparameters.Count == 0 ? null
                : Hyperparameters.ToDictionary(h => h.Key, h => h.Value.ToString("R", CultureInfo.InvariantCulture), StringComparer.Ordinal),
            Features = Features?.ToList(),
            Ignore = Ignore.Count == 0 ? null : [.. Ignore],
            PositiveClass = PositiveClass,
            Split = new SplitDocument
            {
                Method = Split.Method.ToString().ToLowerInvariant(), TestFraction = Split.TestFraction, ValidationFraction = Split.ValidationFraction, Column = Split.Column,
            },
            Seed = Seed,
            Name = RunName,
            Featurize = new FeaturizeDocument
            {
                Categorical = Featurization.Name(Featurize.Categorical),
                Hash = Featurize.Hashed.Count == 0 ? null : [.. Featurize.Hashed],
                HashBits = Featurize.HashBits,
                Missing = Featurization.Name(Featurize.Missing),
                Normalize = Featurization.Name(Featurize.Normalize),
                Text = Featurize.Text.Count == 0 ? null : [.. Featurize.Text],
                SelectFeatures = Featurize.SelectFeatures,
            },
            Evaluate = new EvaluateDocument
            {
                Slices = Evaluation.Slices.Count == 0 ? null : [.. Evaluation.Slices], PermutationImportance = Evaluation.PermutationImportance,
            },
        };
        return new SerializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance)
            .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull).Build().Serialize(document);
    }

    /// <summary>Parses and validates a YAML spec, reporting every problem at once; <paramref name="source"/> names its file in errors.</summary>
    public static TrainingSpec Parse(string yaml, string? source = null) =>
        SpecYaml.Read<TrainingSpecDocument>(yaml, "the training spec", source).Validate();

    // The YAML shape; every field optional here so that validation can name each missing one.
    private sealed class TrainingSpecDocument
    {
        public string? Dataset { get; set; }
        public string? Label { get; set; }
        public string? Task { get; set; }
        public string? Trainer { get; set; }
        public Dictionary<string, string>? Hyperparameters { get; set; }
        public List<string>? Features { get; set; }
        public List<string>? Ignore { get; set; }
        public string? PositiveClass { get; set; }
        public SplitDocument? Split { get; set; }
        public int? Seed { get; set; }
        public string? Name { get; set; }
        public FeaturizeDocument? Featurize { get; set; }
        public EvaluateDocument? Evaluate { get; set; }

        public TrainingSpec Validate()
        {
            var problems = new List<string>();
            DatasetRef? dataset = null;
            if (string.IsNullOrWhiteSpace(Dataset))
            {
                problems.Add("'dataset' is required (a dataset name, or NAME@VERSION)");
            }
            else
            {
                try
                {
                    dataset = DatasetRef.Parse(Dataset);
                }
                catch (CairnException e)
                {
                    problems.Add(e.Message.TrimEnd('.'));
                }
            }

            if (string.IsNullOrWhiteSpace(Label))
            {
                problems.Add("'label' is required (the column to predict)");
            }

            TaskKind task = default;
            if (string.IsNullOrWhiteSpace(Task))
            {
                problems.Add("'task' is required: binary, multiclass or regression");
            }
            else if (!Enum.TryParse(Task, ignoreCase: true, out task) || !Enum.IsDefined(task) || Task.All(char.IsDigit))
            {
                problems.Add($"'task' is '{Task}'; use binary, multiclass or regression");
            }

            var trainer = (Trainer ?? "lightgbm").Trim().ToLowerInvariant();
            trainer = TrainerAliases.GetValueOrDefault(trainer, trainer);
            var hyperparameters = new Dictionary<string, double>(StringComparer.Ordinal);
            if (!Trainers.TryGetValue(trainer, out var info))
            {
                problems.Add($"'trainer' is '{Trainer}'; use one of {string.Join(", ", Trainers.Keys)}");
            }
            else
            {
                problems.AddRange(ParseHyperparameters(trainer, info, Hyperparameters ?? [], hyperparameters));
                if (Task is not null && !problems.Any(p => p.StartsWith("'task'", StringComparison.Ordinal)) && !info.Tasks.Contains(task))
                {
                    var able = Trainers.Where(t => t.Value.Tasks.Contains(task)).Select(t => t.Key);
                    problems.Add($"trainer '{trainer}' does not do {Task.ToLowerInvariant()}; use one of {string.Join(", ", able)}");
                }
            }

            var featurize = ParseFeaturize(Featurize, problems);
            var evaluation = new EvaluationOptions(Evaluate?.Slices ?? [], Evaluate?.PermutationImportance ?? true, Seed ?? 42);

            var method = SplitMethod.Random;
            if (Split?.Method is { } methodName && (!Enum.TryParse(methodName, ignoreCase: true, out method) || !Enum.IsDefined(method) || methodName.All(char.IsDigit)))
            {
                problems.Add($"'split.method' is '{methodName}'; use random, hash or time");
            }

            var split = new DataSplit(method, Split?.TestFraction ?? 0.2, Split?.ValidationFraction ?? 0, Split?.Column);
            problems.AddRange(split.Problems(null));

            if (Features is { Count: 0 })
            {
                problems.Add("'features' is empty; leave it out to use every column but the label");
            }

            if (Label is not null && (Features?.Contains(Label) ?? false))
            {
                problems.Add($"the label '{Label}' is also listed in 'features'");
            }

            if (problems.Count > 0)
            {
                throw CairnException.Invalid($"The training spec has {problems.Count} problem(s):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}");
            }

            return new TrainingSpec
            {
                Dataset = dataset!,
                Label = Label!,
                Task = task,
                Trainer = trainer,
                Hyperparameters = hyperparameters,
                Features = Features,
                Ignore = Ignore ?? [],
                PositiveClass = PositiveClass,
                Split = split,
                Seed = Seed ?? 42,
                RunName = Name,
                Featurize = featurize,
                Evaluation = evaluation,
            };
        }

        private static IEnumerable<string> ParseHyperparameters(string trainer, TrainerInfo info, Dictionary<string, string> given, Dictionary<string, double> parsed)
        {
            foreach (var (key, text) in given)
            {
                // Regularization may be switched off with zero; every other setting is a positive size or rate.
                var zeroAllowed = key.EndsWith("_regularization", StringComparison.Ordinal);
                if (!info.Hyperparameters.Contains(key))
                {
                    yield return $"hyperparameter '{key}' is not accepted by {trainer}; it accepts {string.Join(", ", info.Hyperparameters)}";
                }
                else if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value)
                    || value < 0 || (value == 0 && !zeroAllowed))
                {
                    yield return $"hyperparameter '{key}' is '{text}'; it must be a {(zeroAllowed ? "non-negative" : "positive")} number";
                }
                else
                {
                    parsed[key] = value;
                }
            }
        }

        private static Featurization ParseFeaturize(FeaturizeDocument? document, List<string> problems)
        {
            if (document is null)
            {
                return new Featurization();
            }

            T Choice<T>(string? text, string field, T fallback)
                where T : struct, Enum
            {
                if (text is null)
                {
                    return fallback;
                }

                if (Featurization.Parse<T>(text) is { } value)
                {
                    return value;
                }

                problems.Add($"'featurize.{field}' is '{text}'; use one of {string.Join(", ", Enum.GetValues<T>().Select(v => Featurization.Name(v)))}");
                return fallback;
            }

            var result = new Featurization(
                Choice(document.Categorical, "categorical", CategoricalEncoding.OneHot),
                document.Hash,
                document.HashBits ?? 16,
                Choice(document.Missing, "missing", MissingReplacement.Mean),
                Choice(document.Normalize, "normalize", Normalization.Auto),
                document.Text,
                document.SelectFeatures);
            if (result.HashBits is < 1 or > 24)
            {
                problems.Add($"'featurize.hash_bits' is {result.HashBits}; use 1 to 24");
            }

            if (result.SelectFeatures is < 1)
            {
                problems.Add($"'featurize.select_features' is {result.SelectFeatures}; it must be at least 1");
            }

            foreach (var both in result.Hashed.Intersect(result.Text))
            {
                problems.Add($"column '{both}' is listed both in 'featurize.hash' and in 'featurize.text'");
            }

            return result;
        }
    }

    private sealed class FeaturizeDocument
    {
        public string? Categorical { get; set; }

        public List<string>? Hash { get; set; }

        public int? HashBits { get; set; }

        public string? Missing { get; set; }

        public string? Normalize { get; set; }

        public List<string>? Text { get; set; }

        public int? SelectFeatures { get; set; }
    }

    private sealed class EvaluateDocument
    {
        public List<string>? Slices { get; set; }

        public bool? PermutationImportance { get; set; }
    }

    private sealed class SplitDocument
    {
        public string? Method { get; set; }

        public double? TestFraction { get; set; }

        public double? ValidationFraction { get; set; }

        public string? Column { get; set; }
    }
}
