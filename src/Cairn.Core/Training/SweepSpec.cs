using System.Globalization;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace Cairn.Core.Training;

/// <summary>How a sweep picks its trials.</summary>
public enum SweepMethod
{
    /// <summary>Every combination of the listed values.</summary>
    Grid,

    /// <summary>A seeded random draw from lists and ranges.</summary>
    Random,
}

/// <summary>The values one hyperparameter may take: a list, or a range (uniform, or log-uniform for rates).</summary>
public sealed record ParameterSpace(IReadOnlyList<double>? Values, double Min = 0, double Max = 0, bool Log = false)
{
    /// <summary>A value drawn from the space.</summary>
    public double Draw(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (Values is { } values)
        {
            return values[random.Next(values.Count)];
        }

        var u = random.NextDouble();
        return Log ? Math.Exp(Math.Log(Min) + (u * (Math.Log(Max) - Math.Log(Min)))) : Min + (u * (Max - Min));
    }
}

/// <summary>
/// A hyperparameter sweep: a training spec plus the space to search, how many trials, which metric picks the winner,
/// how many trials run at once, and whether poor trials are stopped early by successive halving.
/// </summary>
public sealed record SweepSpec(
    TrainingSpec Base,
    SweepMethod Method,
    int Trials,
    string Metric,
    bool Maximize,
    int Parallel,
    IReadOnlyDictionary<string, ParameterSpace> Space,
    int HalvingReduction)
{
    /// <summary>The hyperparameter successive halving grows for each trainer: its number of boosting rounds, trees or passes.</summary>
    public static readonly IReadOnlyDictionary<string, string> Resource = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["lightgbm"] = "num_iterations",
        ["fasttree"] = "num_trees",
        ["fastforest"] = "num_trees",
        ["sdca"] = "max_iterations",
        ["lbfgs_logistic"] = "max_iterations",
        ["lbfgs_poisson"] = "max_iterations",
    };

    /// <summary>Whether poor trials are stopped early.</summary>
    public bool Halving => HalvingReduction > 1;

    /// <summary>The trials' hyperparameters, each a full set (the base spec's values overridden by the drawn ones).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Candidates()
    {
        var random = new Random(Base.Seed);
        IEnumerable<Dictionary<string, double>> drawn = Method == SweepMethod.Grid
            ? Space.Aggregate((IEnumerable<Dictionary<string, double>>)[[]], (combos, axis) =>
                combos.SelectMany(c => axis.Value.Values!.Select(v => new Dictionary<string, double>(c) { [axis.Key] = v })))
            : Enumerable.Range(0, Trials).Select(_ => Space.ToDictionary(axis => axis.Key, axis => axis.Value.Draw(random)));
        return [.. drawn.Select(d =>
        {
            var merged = new Dictionary<string, double>(Base.Hyperparameters);
            foreach (var (key, value) in d)
            {
                // Sizes and counts are whole numbers; rates and regularization strengths are not.
                merged[key] = key == "learning_rate" || key.EndsWith("_regularization", StringComparison.Ordinal) ? value : Math.Max(1, Math.Round(value));
            }

            return (IReadOnlyDictionary<string, double>)merged;
        })];
    }

    /// <summary>Parses a training spec with a <c>sweep:</c> section, reporting every problem at once.</summary>
    public static SweepSpec Parse(string yaml, string? source = null)
    {
        var root = SpecYaml.Load(yaml, "the sweep spec", source) as YamlMappingNode
            ?? throw CairnException.Invalid("The sweep spec must be a YAML mapping with training settings and a 'sweep' section.");

        var key = new YamlScalarNode("sweep");
        if (!root.Children.TryGetValue(key, out var sweepNode))
        {
            throw CairnException.Invalid("The spec has no 'sweep' section; add one with 'space' (the hyperparameters to search) and 'metric'.");
        }

        root.Children.Remove(key);
        var trainingYaml = new SerializerBuilder().Build().Serialize(root);
        var training = TrainingSpec.Parse(trainingYaml, source);
        var document = SpecYaml.Read<SweepDocument>(sweepNode, "the 'sweep' section", source);

        return document.Validate(training);
    }

    private sealed class SweepDocument
    {
        public string? Method { get; set; }

        public int? Trials { get; set; }

        public string? Metric { get; set; }

        public int? Parallel { get; set; }

        public string? EarlyStopping { get; set; }

        public int? Reduction { get; set; }

        public Dictionary<string, object>? Space { get; set; }

        public SweepSpec Validate(TrainingSpec training)
        {
            var problems = new List<string>();
            var method = SweepMethod.Random;
            if (Method is not null && !Enum.TryParse(Method, ignoreCase: true, out method) | Method?.All(char.IsDigit) == true)
            {
                problems.Add($"'sweep.method' is '{Method}'; use grid or random");
            }

            var accepted = TrainingSpec.Trainers[training.Trainer].Hyperparameters;
            var space = new Dictionary<string, ParameterSpace>(StringComparer.Ordinal);
            if (Space is null || Space.Count == 0)
            {
                problems.Add("'sweep.space' is required: the hyperparameters to search, each a list of values or {min, max, log}");
            }

            foreach (var (name, value) in Space ?? [])
            {
                if (!accepted.Contains(name))
                {
                    problems.Add($"'sweep.space.{name}' is not a hyperparameter of {training.Trainer}; it accepts {string.Join(", ", accepted)}");
                    continue;
                }

                var parsed = ParseSpace(name, value, problems);
                if (parsed is not null)
                {
                    space[name] = parsed;
                }
            }

            if (method == SweepMethod.Grid && space.Values.Any(s => s.Values is null))
            {
                problems.Add("a grid sweep needs a list of values for every hyperparameter; ranges need method: random");
            }

            var trials = Trials ?? (method == SweepMethod.Grid ? space.Values.Aggregate(1, (n, s) => n * (s.Values?.Count ?? 1)) : 10);
            if (trials < 1 || trials > 1000)
            {
                problems.Add($"'sweep.trials' is {trials}; use 1 to 1000");
            }

            var metric = Metric ?? Evaluation.ModelEvaluator.MainMetric(training.Task);
            var parallel = Parallel ?? Math.Max(1, Environment.ProcessorCount);
            if (parallel < 1)
            {
                problems.Add($"'sweep.parallel' is {parallel}; it must be at least 1");
            }

            var reduction = 0;
            if (EarlyStopping is { } stopping)
            {
                if (!string.Equals(stopping.Replace("-", "_", StringComparison.Ordinal), "successive_halving", StringComparison.OrdinalIgnoreCase) && stopping != "none")
                {
                    problems.Add($"'sweep.early_stopping' is '{stopping}'; use successive_halving or none");
                }
                else if (stopping != "none")
                {
                    reduction = Reduction ?? 3;
                    if (reduction < 2)
                    {
                        problems.Add($"'sweep.reduction' is {reduction}; successive halving keeps 1 in N trials per round, N at least 2");
                    }

                    if (space.ContainsKey(Resource[training.Trainer]))
                    {
                        problems.Add($"successive halving sets '{Resource[training.Trainer]}' itself; take it out of 'sweep.space'");
                    }
                }
            }

            if (problems.Count > 0)
            {
                throw CairnException.Invalid($"The sweep has {problems.Count} problem(s):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}");
            }

            return new SweepSpec(training, method, trials, metric, !Evaluation.ModelEvaluator.LowerIsBetter.Contains(metric), parallel, space, reduction);
        }

        private static ParameterSpace? ParseSpace(string name, object value, List<string> problems)
        {
            static double? Number(object? o) =>
                double.TryParse(Convert.ToString(o, CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && d >= 0 ? d : null;
            switch (value)
            {
                case List<object> list:
                    var values = list.Select(Number).ToList();
                    if (values.Count == 0 || values.Any(v => v is null))
                    {
                        problems.Add($"'sweep.space.{name}' must list non-negative numbers");
                        return null;
                    }

                    return new ParameterSpace([.. values.Select(v => v!.Value)]);
                case Dictionary<object, object> range:
                    var (min, max) = (Number(range.GetValueOrDefault("min")), Number(range.GetValueOrDefault("max")));
                    var log = string.Equals(Convert.ToString(range.GetValueOrDefault("log"), CultureInfo.InvariantCulture), "true", StringComparison.OrdinalIgnoreCase);
                    if (min is null || max is null || min >= max || (log && min <= 0))
                    {
                        problems.Add($"'sweep.space.{name}' needs numbers min < max{(log ? ", both above 0 for a log range" : "")}");
                        return null;
                    }

                    return new ParameterSpace(null, min.Value, max.Value, log);
                default:
                    problems.Add($"'sweep.space.{name}' must be a list of values or {{min, max, log}}");
                    return null;
            }
        }
    }
}
